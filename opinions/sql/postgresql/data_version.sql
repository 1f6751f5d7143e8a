-- The data version: a token that changes whenever a transaction that wrote to any table a
-- page counts or shows commits (opinions/browsing/caching.py keys cached pages and counts with it).
--
-- Each writing statement adds a row to opinions_datachange. Rows are only ever inserted,
-- so writers never wait on each other here, and a row is invisible until its transaction
-- commits, so no reader can see a new token before the data it stands for (a sequence read
-- with nextval() would be). The token is the count and the largest id of the visible rows:
-- every commit adds rows, so for the same largest id the count only grows;
-- opinions_compact() removes rows and, in the same transaction, adds a row with an id larger
-- than any given out so far, so no token ever comes back.
--
-- A transaction that has written sees a token of its own (its transaction id appended),
-- changing with each of its writing statements: what it reads before committing is never
-- cached under a token anyone else can see.

CREATE TABLE IF NOT EXISTS opinions_datachange (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE OR REPLACE FUNCTION opinions_data_version() RETURNS text
LANGUAGE sql STABLE AS $fn$
    SELECT count(*) || '.' || coalesce(max(id), 0)
           || coalesce(':' || pg_current_xact_id_if_assigned()::text, '')
    FROM opinions_datachange
$fn$;

-- Once per statement on every table of the list below. A compaction every 256th row keeps
-- the token's table and the count tables small.
CREATE OR REPLACE FUNCTION opinions_renew_data_version() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    added bigint;
BEGIN
    INSERT INTO opinions_datachange DEFAULT VALUES RETURNING id INTO added;
    IF added % 256 = 0 THEN
        PERFORM opinions_compact();
    END IF;
    RETURN NULL;
END $fn$;

-- Fold the count tables' deltas into one row per cell and the token's rows into one. At most
-- one compaction runs at a time; a writer that finds one running goes on without waiting.
-- Rows of transactions still running are not visible here, so they are neither folded nor
-- removed, and count once their transaction commits.
CREATE OR REPLACE FUNCTION opinions_compact() RETURNS void
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('opinions_compact')) THEN
        RETURN;
    END IF;
    WITH folded AS (
        DELETE FROM opinions_venuetagcount
        RETURNING status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids, n
    )
    INSERT INTO opinions_venuetagcount (status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids, n)
    SELECT status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids, sum(n)
    FROM folded GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0 ORDER BY 1, 2;  -- by theme: counts.sql
    WITH folded AS (
        DELETE FROM opinions_venuecount RETURNING status, source_document_id, meeting_id, n
    )
    INSERT INTO opinions_venuecount (status, source_document_id, meeting_id, n)
    SELECT status, source_document_id, meeting_id, sum(n)
    FROM folded GROUP BY 1, 2, 3 HAVING sum(n) <> 0;
    WITH folded AS (
        DELETE FROM opinions_tagcount RETURNING status, theme_id, size_ids, stakeholder_ids, n
    )
    INSERT INTO opinions_tagcount (status, theme_id, size_ids, stakeholder_ids, n)
    SELECT status, theme_id, size_ids, stakeholder_ids, sum(n)
    FROM folded GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0;
    DELETE FROM opinions_datachange;
    INSERT INTO opinions_datachange DEFAULT VALUES;
END $fn$;

-- Every table whose rows a cached page counts or shows.
CREATE OR REPLACE TRIGGER opinions_opinion_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_opinion FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_opinion_municipality_sizes_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_opinion_municipality_sizes FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_opinion_stakeholders_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_opinion_stakeholders FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_municipalitysize_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_municipalitysize FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_stakeholder_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_stakeholder FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_theme_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_theme FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_sourcedocument_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_sourcedocument FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_sourcedocument_meetings_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_sourcedocument_meetings FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_meeting_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_meeting FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_committee_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_committee FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
CREATE OR REPLACE TRIGGER opinions_synonymgroup_data_version AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON opinions_synonymgroup FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version();
