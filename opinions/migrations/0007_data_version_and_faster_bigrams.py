"""A data version renewed by triggers on every change (exact cache invalidation, see
opinions/caching.py), and a faster ``opinions_bigrams()``."""

from django.db import migrations

# Every table whose rows a cached page counts or shows.
TRIGGERED_TABLES = [
    "opinions_opinion",
    "opinions_opinion_municipality_sizes",
    "opinions_opinion_stakeholders",
    "opinions_municipalitysize",
    "opinions_stakeholder",
    "opinions_theme",
    "opinions_sourcedocument",
    "opinions_sourcedocument_meetings",
    "opinions_meeting",
    "opinions_committee",
    "opinions_synonymgroup",
]

POSTGRESQL = [
    "CREATE TABLE opinions_dataversion (id integer PRIMARY KEY CHECK (id = 1), token text NOT NULL)",
    "INSERT INTO opinions_dataversion VALUES (1, md5(random()::text || clock_timestamp()::text))",
    """
    CREATE FUNCTION opinions_renew_data_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE opinions_dataversion SET token = md5(random()::text || clock_timestamp()::text)
        WHERE id = 1;
        RETURN NULL;
    END $$
    """,
    # Once per statement, not per row: a COPY of a million rows renews it once.
    *[
        f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
        f" ON {table} FOR EACH STATEMENT EXECUTE FUNCTION opinions_renew_data_version()"
        for table in TRIGGERED_TABLES
    ],
    # The same set of bigrams as before (unsorted, with repeats, which GIN folds away, so
    # the index keeps its contents), about three times faster: a C-level split into
    # characters and a PL/pgSQL loop instead of substr() per position, whose cost grows
    # with the position in UTF-8 text, plus a DISTINCT sort. The index build of a million
    # remarks is bound by this function (bench/results.md).
    """
    CREATE OR REPLACE FUNCTION opinions_bigrams(t text) RETURNS text[]
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
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
    END $$
    """,
]

POSTGRESQL_REVERSE = [
    *[f"DROP TRIGGER IF EXISTS {table}_data_version ON {table}" for table in TRIGGERED_TABLES],
    "DROP FUNCTION IF EXISTS opinions_renew_data_version()",
    "DROP TABLE IF EXISTS opinions_dataversion",
    """
    CREATE OR REPLACE FUNCTION opinions_bigrams(t text) RETURNS text[]
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(DISTINCT substr(t, i, 2)), '{}')
        FROM generate_series(1, length(t) - 1) AS i
    $$
    """,
]

_RENEW_SQLITE = "UPDATE opinions_dataversion SET token = lower(hex(randomblob(16))) WHERE id = 1;"
SQLITE = [
    "CREATE TABLE opinions_dataversion (id integer PRIMARY KEY CHECK (id = 1), token text NOT NULL)",
    "INSERT INTO opinions_dataversion VALUES (1, lower(hex(randomblob(16))))",
    # SQLite has row triggers only; its databases are small.
    *[
        f"CREATE TRIGGER {table}_data_version_{event.lower()} AFTER {event} ON {table}"
        f" BEGIN {_RENEW_SQLITE} END"
        for table in TRIGGERED_TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ],
]

SQLITE_REVERSE = [
    *[
        f"DROP TRIGGER IF EXISTS {table}_data_version_{event.lower()}"
        for table in TRIGGERED_TABLES
        for event in ("INSERT", "UPDATE", "DELETE")
    ],
    "DROP TABLE IF EXISTS opinions_dataversion",
]


def forwards(apps, schema_editor):
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    statements = (
        POSTGRESQL_REVERSE if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    )
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("opinions", "0006_submission_workflow")]

    operations = [migrations.RunPython(forwards, backwards)]
