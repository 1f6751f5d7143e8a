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

Statement-level triggers with transition tables apply each statement's delta once: the
remarks' rows (insert, delete, an update that changes status, theme, document or
meeting) and both tag tables (a tag added or removed moves the remark from one cell to
another). Any statement order inside a transaction gives the same result: a tag row whose
remark is already deleted (or not yet inserted) moves nothing, because the remark's own
trigger counted it with the tags present at that moment. TRUNCATE, and loads that bypass
triggers (``generate_opinions`` with ``session_replication_role = replica``), rebuild the
tables with ``opinions_rebuild_counts()``. Deltas are applied in key order so concurrent
writers lock cells in the same order.
"""

from django.db import migrations

from opinions.migration_ops import PostgreSQLOnly

KEY = "status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids"
TAG_KEY = "status, theme_id, size_ids, stakeholder_ids"

TAG_TABLES = {
    # through table: (tag column, key column it changes, the other tag function)
    "opinions_opinion_municipality_sizes": ("municipalitysize_id", "size_ids"),
    "opinions_opinion_stakeholders": ("stakeholder_id", "stakeholder_ids"),
}


def tag_ids_function(through: str, column: str, name: str) -> str:
    return f"""
    CREATE FUNCTION {name}(opinion bigint) RETURNS bigint[] LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_agg({column} ORDER BY {column}), '{{}}')
        FROM {through} WHERE opinion_id = opinion
    $$
    """


# The tail every trigger shares: add the rows of ``delta`` (the key columns and ``n``, +1
# or -1 per remark) to both tables, in key order. ``%s`` is the delta's SELECT.
# The docs' auditing example (plpgsql-trigger) uses transition tables the same way.
APPLY_DELTA = f"""
    WITH delta ({KEY}, n) AS (%s),
    venue AS (
        INSERT INTO opinions_venuetagcount AS c ({KEY}, n)
        SELECT {KEY}, sum(n) FROM delta GROUP BY {KEY} HAVING sum(n) <> 0 ORDER BY {KEY}
        ON CONFLICT ({KEY}) DO UPDATE SET n = c.n + excluded.n
    )
    INSERT INTO opinions_tagcount AS c ({TAG_KEY}, n)
    SELECT {TAG_KEY}, sum(n) FROM delta GROUP BY {TAG_KEY} HAVING sum(n) <> 0 ORDER BY {TAG_KEY}
    ON CONFLICT ({TAG_KEY}) DO UPDATE SET n = c.n + excluded.n
"""


def opinion_key(alias: str) -> str:
    return (
        f"{alias}.status, {alias}.theme_id, coalesce({alias}.source_document_id, 0),"
        f" coalesce({alias}.meeting_id, 0),"
        f" opinions_size_ids({alias}.id), opinions_stakeholder_ids({alias}.id)"
    )


OPINION_DELTA = {
    "INSERT": f"SELECT {opinion_key('o')}, 1 FROM new_rows o",
    "DELETE": f"SELECT {opinion_key('o')}, -1 FROM old_rows o",
    # Only rows whose key columns changed (an edited body moves nothing). The tag sets are
    # the current ones on both sides: an update of remarks changes no tag row.
    "UPDATE": f"""
        SELECT {opinion_key('o')}, -1 FROM old_rows o JOIN new_rows u USING (id)
        WHERE (o.status, o.theme_id, o.source_document_id, o.meeting_id)
              IS DISTINCT FROM (u.status, u.theme_id, u.source_document_id, u.meeting_id)
        UNION ALL
        SELECT {opinion_key('u')}, 1 FROM old_rows o JOIN new_rows u USING (id)
        WHERE (o.status, o.theme_id, o.source_document_id, o.meeting_id)
              IS DISTINCT FROM (u.status, u.theme_id, u.source_document_id, u.meeting_id)
    """,
}


def tag_delta(through: str, column: str, key_column: str, inserted: str, deleted: str) -> str:
    """The delta of a statement on a tag table: each remark it touched leaves the cell of
    its tag set before the statement, (current − inserted) ∪ deleted, for the current one."""
    current = f"opinions_{key_column}(o.id)"
    before = f"""ARRAY(
        SELECT t FROM unnest({current}) AS t
        WHERE t NOT IN (SELECT {column} FROM {inserted} i WHERE i.opinion_id = o.id)
        UNION
        SELECT {column} FROM {deleted} d WHERE d.opinion_id = o.id
        ORDER BY 1)"""
    other = "stakeholder_ids" if key_column == "size_ids" else "size_ids"
    sizes_before = before if key_column == "size_ids" else f"opinions_{other}(o.id)"
    stakeholders_before = before if key_column == "stakeholder_ids" else f"opinions_{other}(o.id)"
    head = (
        "o.status, o.theme_id, coalesce(o.source_document_id, 0), coalesce(o.meeting_id, 0)"
    )
    touched = f"""opinions_opinion o WHERE o.id IN (
        SELECT opinion_id FROM {inserted} ins UNION SELECT opinion_id FROM {deleted} del)"""
    return f"""
        SELECT {head}, {sizes_before}, {stakeholders_before}, -1 FROM {touched}
        UNION ALL
        SELECT {head}, opinions_size_ids(o.id), opinions_stakeholder_ids(o.id), 1 FROM {touched}
    """


def trigger_function(name: str, deltas: dict[str, str]) -> str:
    branches = "\n".join(
        f"    {'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN\n"
        f"        {APPLY_DELTA % sql};"
        for i, (op, sql) in enumerate(deltas.items())
    )
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
        IF {SUSPENDED} THEN
            RETURN NULL;
        END IF;
    {branches}
        END IF;
        RETURN NULL;
    END $fn$
    """


def statement_triggers(table: str, function: str) -> list[str]:
    # A trigger with transition tables may have one event only.
    tables = {
        "INSERT": "NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    }
    return [
        f"CREATE TRIGGER {table}_counts_{op.lower()} AFTER {op} ON {table}"
        f" REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        for op, referencing in tables.items()
    ] + [
        f"CREATE TRIGGER {table}_counts_truncate AFTER TRUNCATE ON {table}"
        " FOR EACH STATEMENT EXECUTE FUNCTION opinions_counts_truncated()"
    ]


# A bulk load (opinions.counts.suspended) turns the triggers off for its transaction with
# SET LOCAL, then rebuilds; ALTER TABLE … DISABLE TRIGGER would need the table to have no
# pending deferred foreign-key checks, and its owner.
SUSPENDED = "coalesce(current_setting('opinions.counts_suspended', true), '') = 'on'"

NOTHING = "(SELECT NULL::bigint AS opinion_id, NULL::bigint AS {column} WHERE false)"

REBUILD = f"""
CREATE FUNCTION opinions_rebuild_counts() RETURNS void LANGUAGE sql AS $$
    DELETE FROM opinions_venuetagcount;
    DELETE FROM opinions_tagcount;
    INSERT INTO opinions_venuetagcount ({KEY}, n)
    SELECT o.status, o.theme_id, coalesce(o.source_document_id, 0), coalesce(o.meeting_id, 0),
           coalesce(s.ids, '{{}}'), coalesce(k.ids, '{{}}'), count(*)
    FROM opinions_opinion o
    LEFT JOIN (SELECT opinion_id, array_agg(municipalitysize_id ORDER BY municipalitysize_id) ids
               FROM opinions_opinion_municipality_sizes GROUP BY opinion_id) s
           ON s.opinion_id = o.id
    LEFT JOIN (SELECT opinion_id, array_agg(stakeholder_id ORDER BY stakeholder_id) ids
               FROM opinions_opinion_stakeholders GROUP BY opinion_id) k
           ON k.opinion_id = o.id
    GROUP BY 1, 2, 3, 4, 5, 6;
    INSERT INTO opinions_tagcount ({TAG_KEY}, n)
    SELECT {TAG_KEY}, sum(n) FROM opinions_venuetagcount GROUP BY {TAG_KEY};
$$
"""


def forwards_sql() -> list[str]:
    statements = [
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
        tag_ids_function("opinions_opinion_municipality_sizes", "municipalitysize_id",
                         "opinions_size_ids"),
        tag_ids_function("opinions_opinion_stakeholders", "stakeholder_id",
                         "opinions_stakeholder_ids"),
        REBUILD,
        f"""
        CREATE FUNCTION opinions_counts_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NOT {SUSPENDED} THEN
                PERFORM opinions_rebuild_counts();
            END IF;
            RETURN NULL;
        END $$
        """,
        trigger_function("opinions_count_opinions", OPINION_DELTA),
        *statement_triggers("opinions_opinion", "opinions_count_opinions"),
    ]  # fmt: skip
    for through, (column, key_column) in TAG_TABLES.items():
        function = f"opinions_count_{key_column}"
        nothing = NOTHING.format(column=column)
        statements += [
            trigger_function(
                function,
                {
                    "INSERT": tag_delta(through, column, key_column, "new_rows", nothing),
                    "DELETE": tag_delta(through, column, key_column, nothing, "old_rows"),
                    "UPDATE": tag_delta(through, column, key_column, "new_rows", "old_rows"),
                },
            ),
            *statement_triggers(through, function),
        ]
    statements.append("SELECT opinions_rebuild_counts()")
    return statements


def backwards_sql() -> list[str]:
    statements = []
    for table in ["opinions_opinion", *TAG_TABLES]:
        for op in ("insert", "delete", "update", "truncate"):
            statements.append(f"DROP TRIGGER IF EXISTS {table}_counts_{op} ON {table}")
    statements += [
        "DROP FUNCTION IF EXISTS opinions_count_opinions()",
        "DROP FUNCTION IF EXISTS opinions_count_size_ids()",
        "DROP FUNCTION IF EXISTS opinions_count_stakeholder_ids()",
        "DROP FUNCTION IF EXISTS opinions_counts_truncated()",
        "DROP FUNCTION IF EXISTS opinions_rebuild_counts()",
        "DROP FUNCTION IF EXISTS opinions_size_ids(bigint)",
        "DROP FUNCTION IF EXISTS opinions_stakeholder_ids(bigint)",
        "DROP TABLE IF EXISTS opinions_tagcount",
        "DROP TABLE IF EXISTS opinions_venuetagcount",
    ]
    return statements


class Migration(migrations.Migration):
    dependencies = [("opinions", "0010_published_theme_index")]

    operations = [PostgreSQLOnly(forwards_sql(), backwards_sql())]
