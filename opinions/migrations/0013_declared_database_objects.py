"""The database objects of migrations 0004, 0007 and 0011, now declared in opinions/sql/
(see opinions/dbobjects.py), with three changes:

- the data version no longer updates one row (every writer queued behind every other on
  it): each writing transaction adds a row of its own (postgresql/data_version.sql);
- the count tables take delta rows instead of upserts into their cells, so writers whose
  remarks share a cell no longer wait on each other or deadlock (postgresql/counts.sql);
- ``search_text`` and ``version`` are kept by a trigger, on every write path
  (postgresql/search.sql).

The count tables are rebuilt from the remarks, and ``search_text`` recomputed where the new
normalization (Unicode lower case rather than case folding, as in SQL) differs.
"""

import django.contrib.postgres.fields
from django.db import migrations, models

from opinions.dbobjects import LoadSQL
from opinions.migration_ops import PostgreSQLOnly

SQLITE_OLD_TRIGGERS = [
    f"DROP TRIGGER IF EXISTS {table}_data_version_{event}"
    for table in [
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
    for event in ("insert", "update", "delete")
]


class SQLiteOnly(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "sqlite":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("opinions", "0012_api_tokens")]

    operations = [
        # The cells' new layout (delta rows with an id); rebuilt below.
        PostgreSQLOnly(
            ["DROP TABLE IF EXISTS opinions_tagcount", "DROP TABLE IF EXISTS opinions_venuetagcount"],
            migrations.RunSQL.noop,
        ),
        LoadSQL("postgresql", "search"),
        LoadSQL("postgresql", "counts"),
        LoadSQL("postgresql", "data_version"),
        PostgreSQLOnly(
            [
                "DROP FUNCTION IF EXISTS opinions_count_opinions()",
                "DROP TABLE IF EXISTS opinions_dataversion",
                "SELECT opinions_rebuild_counts()",
                "UPDATE opinions_opinion SET search_text = opinions_search_text(body)"
                " WHERE search_text IS DISTINCT FROM opinions_search_text(body)",
            ],
            migrations.RunSQL.noop,
        ),
        SQLiteOnly(SQLITE_OLD_TRIGGERS, migrations.RunSQL.noop),
        LoadSQL("sqlite", "data_version"),
        # The tables above, known to the ORM (managed = False: nothing to create).
        migrations.CreateModel(
            name="DataChange",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("txid", models.BigIntegerField()),
                ("at", models.DateTimeField()),
            ],
            options={"db_table": "opinions_datachange", "managed": False},
        ),
        migrations.CreateModel(
            name="TagCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(max_length=20)),
                ("size_ids", django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None)),
                ("stakeholder_ids", django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None)),
                ("n", models.BigIntegerField()),
            ],
            options={"db_table": "opinions_tagcount", "managed": False},
        ),
        migrations.CreateModel(
            name="VenueTagCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("status", models.CharField(max_length=20)),
                ("source_document_id", models.BigIntegerField()),
                ("meeting_id", models.BigIntegerField()),
                ("size_ids", django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None)),
                ("stakeholder_ids", django.contrib.postgres.fields.ArrayField(base_field=models.BigIntegerField(), size=None)),
                ("n", models.BigIntegerField()),
            ],
            options={"db_table": "opinions_venuetagcount", "managed": False},
        ),
    ]
