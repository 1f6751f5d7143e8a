-- Search: what the remark's row derives from its body, on every write path.
--
-- search_text is the body width- and case-folded, what search matches against
-- (opinions/browsing/search.py normalizes the query the same way: NFKC, then lower case by Unicode
-- rules, whatever the database's LC_CTYPE). version counts the edits of a remark's content,
-- for the optimistic lock of opinions.services.submission. A BEFORE trigger keeps both, so
-- save(), QuerySet.update(), bulk_update(), bulk_create(), raw SQL and COPY all agree
-- (Opinion.save() mirrors the same values on the instance, and is the keeper on SQLite).

-- The distinct two-character substrings of a text (with repeats, which GIN folds away): what
-- the bigram index over search_text holds (migration 0004, COLLATE "C" since 0009). A C-level
-- split into characters and a loop, about three times faster than substr() per position,
-- whose cost grows with the position in UTF-8 text.
CREATE OR REPLACE FUNCTION opinions_bigrams(t text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
DECLARE
    result text[] := '{}';
    previous text;
    c text;
BEGIN
    FOREACH c IN ARRAY string_to_array(t, NULL) LOOP
        IF previous IS NOT NULL THEN
            result := array_append(result, previous || c);
        END IF;
        previous := c;
    END LOOP;
    RETURN result;
END $fn$;

-- As opinions.tagging.normalize: NFKC, then Unicode lower case (ICU's root locale, which
-- agrees with Python's str.lower(); the database default may be C, which folds ASCII only).
CREATE OR REPLACE FUNCTION opinions_search_text(body text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $fn$
    SELECT lower(normalize(body, NFKC) COLLATE "und-x-icu")
$fn$;

-- search_text from the body; on UPDATE, version one more than before whenever the content
-- changed or the writer asked for a new version (save() sends version + 1). Not content: the
-- columns only the database writes (the tag ids of the count tables), the timestamps, and
-- where the remark is printed (its position and page in the document), and 事務局's internal
-- memo (never the author's concern, so saving it must not refuse the author's open edit).
CREATE OR REPLACE FUNCTION opinions_opinion_derive() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
    NEW.search_text := opinions_search_text(NEW.body);
    IF TG_OP = 'UPDATE' THEN
        IF NEW.version IS DISTINCT FROM OLD.version
           OR (to_jsonb(NEW) - '{version,search_text,size_ids,stakeholder_ids,updated_at,position,source_page,internal_memo}'::text[])
              IS DISTINCT FROM
              (to_jsonb(OLD) - '{version,search_text,size_ids,stakeholder_ids,updated_at,position,source_page,internal_memo}'::text[])
        THEN
            NEW.version := OLD.version + 1;
        END IF;
    END IF;
    RETURN NEW;
END $fn$;

CREATE OR REPLACE TRIGGER opinions_opinion_derive BEFORE INSERT OR UPDATE ON opinions_opinion FOR EACH ROW EXECUTE FUNCTION opinions_opinion_derive();
