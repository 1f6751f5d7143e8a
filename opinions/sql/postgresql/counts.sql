-- Count tables: remarks per (status, theme, tag sets[, venue]), kept exact by triggers, so
-- facet counts, theme counts and the cross-tab sum a few thousand rows instead of visiting up
-- to a million remarks (opinions/browsing/counts.py reads them; models TagCount and VenueTagCount let
-- the ORM read them too).
--
-- Each remark counts once, in the cell of its key: status, theme, document (0 for none),
-- meeting (0 for none), and the sorted ids of its size and stakeholder tags. Two tables hold
-- the same remarks at two grains: opinions_tagcount without the venue (about 4,000 cells for
-- a million synthetic remarks), opinions_venuetagcount with it (about 140,000 cells). A third,
-- opinions_venuecount, holds the venue alone (status, document, meeting: about 600 cells), for
-- the document and meeting facets of a list chosen by nothing else than its venue: summing the
-- finer table's published cells for them took 22 ms of the unfiltered list's 82 at a million
-- remarks.
--
-- A change adds delta rows (+1 in the new cell, -1 in the old): rows are only inserted, never
-- updated in place, so two writers whose remarks share a cell never wait on each other and no
-- writer holds a lock another needs (an upsert into the cell locked it until commit, and two
-- transactions upserting cells in different orders could deadlock). Readers sum per cell;
-- opinions_compact() (data_version.sql) folds the deltas into one row per cell from time to
-- time.
--
-- The remark's row carries its tag ids too (size_ids, stakeholder_ids), so a search groups its
-- matches by the same key in the one pass that finds them.

CREATE TABLE IF NOT EXISTS opinions_venuetagcount (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status varchar(20) NOT NULL,
    theme_id bigint NOT NULL,
    source_document_id bigint NOT NULL,  -- 0: none
    meeting_id bigint NOT NULL,          -- 0: none
    size_ids bigint[] NOT NULL,
    stakeholder_ids bigint[] NOT NULL,
    n bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS opinions_venuetagcount_key ON opinions_venuetagcount (status, source_document_id, meeting_id);
-- A theme's cells, for the document and meeting facets of a list filtered by theme: without
-- it, every published cell was read (106,000 of them at a million remarks, 13.7 ms against 2).
CREATE INDEX IF NOT EXISTS opinions_venuetagcount_theme ON opinions_venuetagcount (status, theme_id);
-- The rebuild and the compaction write the cells in that order, so a theme's cells lie on
-- neighbouring pages: a section's 27,000 cells then fill 495 of the table's 2,422 pages, and
-- the document facet of a list filtered by theme, stakeholder and size took 5.8 ms against
-- 10.7 with the cells in the order their remarks were written.

CREATE TABLE IF NOT EXISTS opinions_venuecount (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status varchar(20) NOT NULL,
    source_document_id bigint NOT NULL,  -- 0: none
    meeting_id bigint NOT NULL,          -- 0: none
    n bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS opinions_venuecount_key ON opinions_venuecount (status, source_document_id, meeting_id);

CREATE TABLE IF NOT EXISTS opinions_tagcount (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status varchar(20) NOT NULL,
    theme_id bigint NOT NULL,
    size_ids bigint[] NOT NULL,
    stakeholder_ids bigint[] NOT NULL,
    n bigint NOT NULL
);

ALTER TABLE opinions_opinion
    ADD COLUMN IF NOT EXISTS size_ids bigint[] NOT NULL DEFAULT '{}',
    ADD COLUMN IF NOT EXISTS stakeholder_ids bigint[] NOT NULL DEFAULT '{}';

-- The sorted tag ids of one remark, read from its tag table.
CREATE OR REPLACE FUNCTION opinions_size_ids(opinion bigint) RETURNS bigint[]
LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(array_agg(municipalitysize_id ORDER BY municipalitysize_id), '{}')
    FROM opinions_opinion_municipality_sizes WHERE opinion_id = opinion
$fn$;

CREATE OR REPLACE FUNCTION opinions_stakeholder_ids(opinion bigint) RETURNS bigint[]
LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(array_agg(stakeholder_id ORDER BY stakeholder_id), '{}')
    FROM opinions_opinion_stakeholders WHERE opinion_id = opinion
$fn$;

-- A bulk load turns the triggers off for its transaction (SET LOCAL
-- opinions.counts_suspended = on, opinions.browsing.counts.suspended) and rebuilds once afterwards.
CREATE OR REPLACE FUNCTION opinions_counts_suspended() RETURNS boolean
LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(current_setting('opinions.counts_suspended', true), '') = 'on'
$fn$;

-- The remarks: each row whose key changed leaves its old cell for its new one (an edited body
-- moves nothing). Inserted rows then get their tag ids from the tag tables (foreign keys are
-- checked at commit, so tag rows may come before their remark): an UPDATE, counted by the
-- UPDATE trigger.
CREATE OR REPLACE FUNCTION opinions_count_inserted() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF opinions_counts_suspended() THEN
        RETURN NULL;
    END IF;
    INSERT INTO opinions_venuetagcount (status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids, n)
    SELECT status, theme_id, coalesce(source_document_id, 0), coalesce(meeting_id, 0), size_ids, stakeholder_ids, count(*)
    FROM new_rows GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO opinions_venuecount (status, source_document_id, meeting_id, n)
    SELECT status, coalesce(source_document_id, 0), coalesce(meeting_id, 0), count(*)
    FROM new_rows GROUP BY 1, 2, 3;
    INSERT INTO opinions_tagcount (status, theme_id, size_ids, stakeholder_ids, n)
    SELECT status, theme_id, size_ids, stakeholder_ids, count(*)
    FROM new_rows GROUP BY 1, 2, 3, 4;
    UPDATE opinions_opinion SET size_ids = opinions_size_ids(id), stakeholder_ids = opinions_stakeholder_ids(id)
    WHERE id IN (SELECT id FROM new_rows)
      AND (size_ids, stakeholder_ids) IS DISTINCT FROM (opinions_size_ids(id), opinions_stakeholder_ids(id));
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION opinions_count_deleted() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF opinions_counts_suspended() THEN
        RETURN NULL;
    END IF;
    INSERT INTO opinions_venuetagcount (status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids, n)
    SELECT status, theme_id, coalesce(source_document_id, 0), coalesce(meeting_id, 0), size_ids, stakeholder_ids, -count(*)
    FROM old_rows GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO opinions_venuecount (status, source_document_id, meeting_id, n)
    SELECT status, coalesce(source_document_id, 0), coalesce(meeting_id, 0), -count(*)
    FROM old_rows GROUP BY 1, 2, 3;
    INSERT INTO opinions_tagcount (status, theme_id, size_ids, stakeholder_ids, n)
    SELECT status, theme_id, size_ids, stakeholder_ids, -count(*)
    FROM old_rows GROUP BY 1, 2, 3, 4;
    RETURN NULL;
END $fn$;

CREATE OR REPLACE FUNCTION opinions_count_updated() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF opinions_counts_suspended() THEN
        RETURN NULL;
    END IF;
    WITH moved AS (
        SELECT o.status, o.theme_id, coalesce(o.source_document_id, 0) AS source_document_id,
               coalesce(o.meeting_id, 0) AS meeting_id, o.size_ids, o.stakeholder_ids, -1 AS n
        FROM old_rows o JOIN new_rows u USING (id)
        WHERE (o.status, o.theme_id, o.source_document_id, o.meeting_id, o.size_ids, o.stakeholder_ids)
              IS DISTINCT FROM (u.status, u.theme_id, u.source_document_id, u.meeting_id, u.size_ids, u.stakeholder_ids)
        UNION ALL
        SELECT u.status, u.theme_id, coalesce(u.source_document_id, 0), coalesce(u.meeting_id, 0),
               u.size_ids, u.stakeholder_ids, 1
        FROM old_rows o JOIN new_rows u USING (id)
        WHERE (o.status, o.theme_id, o.source_document_id, o.meeting_id, o.size_ids, o.stakeholder_ids)
              IS DISTINCT FROM (u.status, u.theme_id, u.source_document_id, u.meeting_id, u.size_ids, u.stakeholder_ids)
    ),
    venue AS (
        INSERT INTO opinions_venuetagcount (status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids, n)
        SELECT status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids, sum(n)
        FROM moved GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0
    ),
    venue_only AS (
        INSERT INTO opinions_venuecount (status, source_document_id, meeting_id, n)
        SELECT status, source_document_id, meeting_id, sum(n)
        FROM moved GROUP BY 1, 2, 3 HAVING sum(n) <> 0
    )
    INSERT INTO opinions_tagcount (status, theme_id, size_ids, stakeholder_ids, n)
    SELECT status, theme_id, size_ids, stakeholder_ids, sum(n)
    FROM moved GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0;
    RETURN NULL;
END $fn$;

-- The tag tables: the touched remarks' tag ids are read again (an UPDATE of the remarks,
-- counted by the trigger above). The remarks are locked in id order first, so two
-- statements touching overlapping remarks take their locks in the same order.
-- One function for every tag axis (opinions/browsing/axes.py): the trigger's arguments name
-- the remark's key column and the function computing it (size_ids, opinions_size_ids). The
-- transition tables are read statically (both link tables have opinion_id); only the UPDATE
-- names the column, through format() with %I.
CREATE OR REPLACE FUNCTION opinions_sync_tag_ids() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    touched bigint[];
BEGIN
    IF opinions_counts_suspended() THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT opinion_id) INTO touched FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT opinion_id) INTO touched FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT opinion_id) INTO touched
        FROM (SELECT opinion_id FROM new_rows UNION SELECT opinion_id FROM old_rows) t;
    END IF;
    PERFORM 1 FROM opinions_opinion WHERE id = ANY(touched) ORDER BY id FOR NO KEY UPDATE;
    EXECUTE format(
        'UPDATE opinions_opinion SET %1$I = %2$I(id) WHERE id = ANY($1) AND %1$I IS DISTINCT FROM %2$I(id)',
        TG_ARGV[0], TG_ARGV[1]
    ) USING touched;
    RETURN NULL;
END $fn$;

-- Recompute everything from the remarks: after a bulk load with the triggers suspended, on
-- TRUNCATE, and for manage.py rebuild_counts. It waits for any compaction and for writers
-- that already added deltas (EXCLUSIVE conflicts with their ROW EXCLUSIVE), and writers that
-- come later wait for it, so no delta is counted twice or lost.
CREATE OR REPLACE FUNCTION opinions_rebuild_counts() RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
    previous text := current_setting('opinions.counts_suspended', true);
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('opinions_compact'));
    LOCK TABLE opinions_tagcount, opinions_venuetagcount, opinions_venuecount IN EXCLUSIVE MODE;
    -- The rows' tag ids first (only where they differ), without the triggers' deltas.
    PERFORM set_config('opinions.counts_suspended', 'on', true);
    UPDATE opinions_opinion o SET size_ids = t.size_ids, stakeholder_ids = t.stakeholder_ids
    FROM (
        SELECT r.id, coalesce(s.ids, '{}') AS size_ids, coalesce(k.ids, '{}') AS stakeholder_ids
        FROM opinions_opinion r
        LEFT JOIN (SELECT opinion_id, array_agg(municipalitysize_id ORDER BY municipalitysize_id) ids
                   FROM opinions_opinion_municipality_sizes GROUP BY opinion_id) s
               ON s.opinion_id = r.id
        LEFT JOIN (SELECT opinion_id, array_agg(stakeholder_id ORDER BY stakeholder_id) ids
                   FROM opinions_opinion_stakeholders GROUP BY opinion_id) k
               ON k.opinion_id = r.id
    ) t
    WHERE o.id = t.id
      AND (o.size_ids, o.stakeholder_ids) IS DISTINCT FROM (t.size_ids, t.stakeholder_ids);
    DELETE FROM opinions_venuetagcount;
    DELETE FROM opinions_venuecount;
    DELETE FROM opinions_tagcount;
    INSERT INTO opinions_venuetagcount (status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids, n)
    SELECT status, theme_id, coalesce(source_document_id, 0), coalesce(meeting_id, 0), size_ids, stakeholder_ids, count(*)
    FROM opinions_opinion GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2;
    INSERT INTO opinions_venuecount (status, source_document_id, meeting_id, n)
    SELECT status, source_document_id, meeting_id, sum(n)
    FROM opinions_venuetagcount GROUP BY 1, 2, 3;
    INSERT INTO opinions_tagcount (status, theme_id, size_ids, stakeholder_ids, n)
    SELECT status, theme_id, size_ids, stakeholder_ids, sum(n)
    FROM opinions_venuetagcount GROUP BY 1, 2, 3, 4;
    -- The planner's statistics of the refilled tables now, not at autovacuum's next visit:
    -- without them it took a section's 71,000 venue cells for 46 and sorted them on disk
    -- for the list's document facet (45 ms against 20 at a million remarks).
    ANALYZE opinions_venuetagcount, opinions_venuecount, opinions_tagcount;
    PERFORM set_config('opinions.counts_suspended', coalesce(previous, 'off'), true);
END $fn$;

CREATE OR REPLACE FUNCTION opinions_counts_truncated() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    IF NOT opinions_counts_suspended() THEN
        PERFORM opinions_rebuild_counts();
    END IF;
    RETURN NULL;
END $fn$;

-- A trigger with transition tables has one event only.
CREATE OR REPLACE TRIGGER opinions_opinion_counts_insert AFTER INSERT ON opinions_opinion REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opinions_count_inserted();
CREATE OR REPLACE TRIGGER opinions_opinion_counts_delete AFTER DELETE ON opinions_opinion REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opinions_count_deleted();
CREATE OR REPLACE TRIGGER opinions_opinion_counts_update AFTER UPDATE ON opinions_opinion REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opinions_count_updated();
CREATE OR REPLACE TRIGGER opinions_opinion_counts_truncate AFTER TRUNCATE ON opinions_opinion FOR EACH STATEMENT EXECUTE FUNCTION opinions_counts_truncated();
CREATE OR REPLACE TRIGGER opinions_opinion_municipality_sizes_counts_insert AFTER INSERT ON opinions_opinion_municipality_sizes REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opinions_sync_tag_ids('size_ids', 'opinions_size_ids');
CREATE OR REPLACE TRIGGER opinions_opinion_municipality_sizes_counts_delete AFTER DELETE ON opinions_opinion_municipality_sizes REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opinions_sync_tag_ids('size_ids', 'opinions_size_ids');
CREATE OR REPLACE TRIGGER opinions_opinion_municipality_sizes_counts_update AFTER UPDATE ON opinions_opinion_municipality_sizes REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opinions_sync_tag_ids('size_ids', 'opinions_size_ids');
CREATE OR REPLACE TRIGGER opinions_opinion_municipality_sizes_counts_truncate AFTER TRUNCATE ON opinions_opinion_municipality_sizes FOR EACH STATEMENT EXECUTE FUNCTION opinions_counts_truncated();
CREATE OR REPLACE TRIGGER opinions_opinion_stakeholders_counts_insert AFTER INSERT ON opinions_opinion_stakeholders REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opinions_sync_tag_ids('stakeholder_ids', 'opinions_stakeholder_ids');
CREATE OR REPLACE TRIGGER opinions_opinion_stakeholders_counts_delete AFTER DELETE ON opinions_opinion_stakeholders REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION opinions_sync_tag_ids('stakeholder_ids', 'opinions_stakeholder_ids');
CREATE OR REPLACE TRIGGER opinions_opinion_stakeholders_counts_update AFTER UPDATE ON opinions_opinion_stakeholders REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION opinions_sync_tag_ids('stakeholder_ids', 'opinions_stakeholder_ids');
CREATE OR REPLACE TRIGGER opinions_opinion_stakeholders_counts_truncate AFTER TRUNCATE ON opinions_opinion_stakeholders FOR EACH STATEMENT EXECUTE FUNCTION opinions_counts_truncated();
