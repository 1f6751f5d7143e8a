"""The venue alone counted: opinions_venuecount (status, document, meeting), kept by the same
triggers as the other count tables (opinions/sql/postgresql/counts.sql) and folded by the same
compaction (data_version.sql), filled here by the rebuild (opinions_rebuild_counts()).

The unfiltered list's document and meeting facets summed the finer table's 106,000
published cells at a million remarks (22 ms of the page's 82); the venue alone has about 600.

The rebuild and the compaction now also write the finer table's cells in theme order (a
theme's cells on neighbouring pages, for the lists filtered by theme); the rebuild here
orders the cells already there.
"""

from django.db import migrations, models

from opinions.dbobjects import LoadSQL
from opinions.migration_ops import PostgreSQLOnly

class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0024_newest_first_to_the_key"),
    ]

    operations = [
        LoadSQL("postgresql", "counts"),
        LoadSQL("postgresql", "data_version"),
        # Filled by the rebuild, which empties all three tables under its locks first:
        # migrations 0013 and 0023 load the declared file as it is now, so a database migrated
        # through them by this code already has the table, kept by the triggers since (a fill
        # on top counted its remarks twice).
        PostgreSQLOnly("SELECT opinions_rebuild_counts()", migrations.RunSQL.noop),
        migrations.CreateModel(
            name="VenueCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("status", models.CharField(max_length=20)),
                ("source_document_id", models.BigIntegerField()),
                ("meeting_id", models.BigIntegerField()),
                ("n", models.BigIntegerField()),
            ],
            options={"db_table": "opinions_venuecount", "managed": False},
        ),
    ]
