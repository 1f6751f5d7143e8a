"""Count tables kept exact by triggers: remarks per (status, theme, tag sets[, venue]).

Facet counts, theme counts and the cross-tab read these few thousand rows instead of
visiting up to a million remarks (see opinions/counts.py for the reads and
bench/results.md for the before/after). PostgreSQL only; on SQLite the same numbers come
from the remarks themselves.

Each remark counts once, in the cell of its key: status, theme, document, meeting (0 for
none), and the sorted ids of its size and stakeholder tags. Two tables hold the same
remarks at two grains:

- ``opinions_tagcount``: status × theme × sizes × stakeholders (about 4,000 cells for a
  million synthetic remarks), for everything that does not involve documents or meetings;
- ``opinions_venuetagcount``: the same and document × meeting (about 140,000 cells with 100
  meetings), for the document and meeting facets and any list filtered by them.

The remark's row carries its tag ids too (``size_ids``, ``stakeholder_ids``: columns the
database keeps, not Django fields), so a search can group its matches by the same key in
the one pass that finds them, and the key of a remark is read from its row alone.

Triggers, once per statement, with transition tables:

- on the tag tables: the touched remarks' ``size_ids`` / ``stakeholder_ids`` are read
  again from the tag table (an UPDATE of the remarks, which fires the next trigger);
- on the remarks: each row whose key changed leaves its old cell for its new one (an
  edited body moves nothing); inserted rows get their tag ids from the tag tables first
  (foreign keys are checked at commit, so tag rows may come before their remark).

The deltas are applied in key order, so concurrent writers lock cells in the same order.
TRUNCATE rebuilds everything with ``opinions_rebuild_counts()``, as bulk loads do after
turning the triggers off for their transaction (``opinions.counts.suspended``).
"""

from django.db import migrations

from opinions.migration_ops import PostgreSQLOnly

KEY = "status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids"
TAG_KEY = "status, theme_id, size_ids, stakeholder_ids"

# through table: (its tag column, the remark's column of those ids, the function reading it)
TAG_TABLES = {
    "opinions_opinion_municipality_sizes": ("municipalitysize_id", "size_ids", "opinions_size_ids"),
    "opinions_opinion_stakeholders": ("stakeholder_id", "stakeholder_ids", "opinions_stakeholder_ids"),
}  # fmt: skip

# A bulk load (opinions.counts.suspended) turns the triggers off for its transaction with
# SET LOCAL, then rebuilds; ALTER TABLE … DISABLE TRIGGER would need the table to have no
# pending deferred foreign-key checks, and its owner.
SUSPENDED = "coalesce(current_setting('opinions.counts_suspended', true), '') = 'on'"


def row_key(alias: str) -> str:
    return (
        f"{alias}.status, {alias}.theme_id, coalesce({alias}.source_document_id, 0),"
        f" coalesce({alias}.meeting_id, 0), {alias}.size_ids, {alias}.stakeholder_ids"
    )


# Add the rows of ``delta`` (the key and ``n``: +1 or -1 per remark) to both tables, in key
# order. The auditing example of the PL/pgSQL manual uses transition tables the same way.
APPLY_DELTA = f"""
        WITH delta ({KEY}, n) AS ({{delta}}),
        venue AS (
            INSERT INTO opinions_venuetagcount AS c ({KEY}, n)
            SELECT {KEY}, sum(n) FROM delta GROUP BY {KEY} HAVING sum(n) <> 0 ORDER BY {KEY}
            ON CONFLICT ({KEY}) DO UPDATE SET n = c.n + excluded.n
        )
        INSERT INTO opinions_tagcount AS c ({TAG_KEY}, n)
        SELECT {TAG_KEY}, sum(n) FROM delta GROUP BY {TAG_KEY} HAVING sum(n) <> 0
        ORDER BY {TAG_KEY}
        ON CONFLICT ({TAG_KEY}) DO UPDATE SET n = c.n + excluded.n;
"""

# The tag ids of the given remarks, read from the tag tables where they differ.
SYNC_TAG_IDS = """
        UPDATE opinions_opinion SET size_ids = opinions_size_ids(id),
                                    stakeholder_ids = opinions_stakeholder_ids(id)
        WHERE id IN ({ids})
          AND (size_ids, stakeholder_ids)
              IS DISTINCT FROM (opinions_size_ids(id), opinions_stakeholder_ids(id));
"""

KEY_CHANGED = f"({row_key('o')}) IS DISTINCT FROM ({row_key('u')})"
INSERTED = f"SELECT {row_key('o')}, 1 FROM new_rows o"
DELETED = f"SELECT {row_key('o')}, -1 FROM old_rows o"
UPDATED = f"""
            SELECT {row_key("o")}, -1 FROM old_rows o JOIN new_rows u USING (id)
            WHERE {KEY_CHANGED}
            UNION ALL
            SELECT {row_key("u")}, 1 FROM old_rows o JOIN new_rows u USING (id)
            WHERE {KEY_CHANGED}"""

OPINION_TRIGGER = f"""
CREATE FUNCTION opinions_count_opinions() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF {SUSPENDED} THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        {APPLY_DELTA.format(delta=INSERTED)}
        {SYNC_TAG_IDS.format(ids="SELECT id FROM new_rows")}
    ELSIF TG_OP = 'DELETE' THEN
        {APPLY_DELTA.format(delta=DELETED)}
    ELSIF TG_OP = 'UPDATE' THEN
        {APPLY_DELTA.format(delta=UPDATED)}
    END IF;
    RETURN NULL;
END $fn$
"""


def tag_trigger(column_of_remark: str, function: str) -> str:
    touched = {
        "INSERT": "SELECT opinion_id FROM new_rows",
        "DELETE": "SELECT opinion_id FROM old_rows",
        "UPDATE": "SELECT opinion_id FROM new_rows UNION SELECT opinion_id FROM old_rows",
    }
    branches = "\n".join(
        f"""    {"IF" if i == 0 else "ELSIF"} TG_OP = '{op}' THEN
        UPDATE opinions_opinion SET {column_of_remark} = {function}(id)
        WHERE id IN ({ids}) AND {column_of_remark} IS DISTINCT FROM {function}(id);"""
        for i, (op, ids) in enumerate(touched.items())
    )
    return f"""
CREATE FUNCTION opinions_sync_{column_of_remark}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    IF {SUSPENDED} THEN
        RETURN NULL;
    END IF;
{branches}
    END IF;
    RETURN NULL;
END $fn$
"""


def tag_ids_function(through: str, column: str, name: str) -> str:
    return f"""
    CREATE FUNCTION {name}(opinion bigint) RETURNS bigint[] LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_agg({column} ORDER BY {column}), '{{}}')
        FROM {through} WHERE opinion_id = opinion
    $$
    """


def statement_triggers(table: str, name: str, function: str) -> list[str]:
    # A trigger with transition tables may have one event only.
    referencing = {
        "INSERT": "NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    }
    return [
        f"CREATE TRIGGER {name}_{op.lower()} AFTER {op} ON {table}"
        f" REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        for op, tables in referencing.items()
    ] + [
        f"CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION opinions_counts_truncated()"
    ]


REBUILD = f"""
CREATE FUNCTION opinions_rebuild_counts() RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
    previous text := current_setting('opinions.counts_suspended', true);
BEGIN
    -- The rows' tag ids first (only where they differ), without the triggers' deltas.
    PERFORM set_config('opinions.counts_suspended', 'on', true);
    UPDATE opinions_opinion o SET size_ids = t.size_ids, stakeholder_ids = t.stakeholder_ids
    FROM (
        SELECT r.id, coalesce(s.ids, '{{}}') AS size_ids, coalesce(k.ids, '{{}}') AS stakeholder_ids
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
    DELETE FROM opinions_tagcount;
    INSERT INTO opinions_venuetagcount ({KEY}, n)
    SELECT {row_key("o")}, count(*) FROM opinions_opinion o GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO opinions_tagcount ({TAG_KEY}, n)
    SELECT {TAG_KEY}, sum(n) FROM opinions_venuetagcount GROUP BY {TAG_KEY};
    PERFORM set_config('opinions.counts_suspended', coalesce(previous, 'off'), true);
END $fn$
"""

FORWARDS = [
    "ALTER TABLE opinions_opinion ADD COLUMN size_ids bigint[] NOT NULL DEFAULT '{}',"
    " ADD COLUMN stakeholder_ids bigint[] NOT NULL DEFAULT '{}'",
    f"""
    CREATE TABLE opinions_venuetagcount (
        status varchar(20) NOT NULL,
        theme_id bigint NOT NULL,
        source_document_id bigint NOT NULL,  -- 0: none
        meeting_id bigint NOT NULL,          -- 0: none
        size_ids bigint[] NOT NULL,
        stakeholder_ids bigint[] NOT NULL,
        n bigint NOT NULL,
        UNIQUE ({KEY})
    )""",
    f"""
    CREATE TABLE opinions_tagcount (
        status varchar(20) NOT NULL,
        theme_id bigint NOT NULL,
        size_ids bigint[] NOT NULL,
        stakeholder_ids bigint[] NOT NULL,
        n bigint NOT NULL,
        UNIQUE ({TAG_KEY})
    )""",
    *[
        tag_ids_function(through, column, function)
        for through, (column, _key, function) in TAG_TABLES.items()
    ],
    REBUILD,
    f"""
    CREATE FUNCTION opinions_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
        IF NOT {SUSPENDED} THEN
            PERFORM opinions_rebuild_counts();
        END IF;
        RETURN NULL;
    END $fn$
    """,
    OPINION_TRIGGER,
    *statement_triggers("opinions_opinion", "opinions_opinion_counts", "opinions_count_opinions"),
]
for _through, (_column, _key, _function) in TAG_TABLES.items():
    FORWARDS += [
        tag_trigger(_key, _function),
        *statement_triggers(_through, f"{_through}_counts", f"opinions_sync_{_key}"),
    ]
FORWARDS.append("SELECT opinions_rebuild_counts()")

BACKWARDS = [
    *[
        f"DROP TRIGGER IF EXISTS {table}_counts_{op} ON {table}"
        for table in ["opinions_opinion", *TAG_TABLES]
        for op in ("insert", "delete", "update", "truncate")
    ],
    "DROP FUNCTION IF EXISTS opinions_count_opinions()",
    "DROP FUNCTION IF EXISTS opinions_sync_size_ids()",
    "DROP FUNCTION IF EXISTS opinions_sync_stakeholder_ids()",
    "DROP FUNCTION IF EXISTS opinions_counts_truncated()",
    "DROP FUNCTION IF EXISTS opinions_rebuild_counts()",
    "DROP FUNCTION IF EXISTS opinions_size_ids(bigint)",
    "DROP FUNCTION IF EXISTS opinions_stakeholder_ids(bigint)",
    "DROP TABLE IF EXISTS opinions_tagcount",
    "DROP TABLE IF EXISTS opinions_venuetagcount",
    "ALTER TABLE opinions_opinion DROP COLUMN IF EXISTS size_ids,"
    " DROP COLUMN IF EXISTS stakeholder_ids",
]


class Migration(migrations.Migration):
    dependencies = [("opinions", "0010_published_theme_index")]

    operations = [PostgreSQLOnly(FORWARDS, BACKWARDS)]
