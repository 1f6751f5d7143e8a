"""The tag axes' key columns kept by one trigger function (opinions_sync_tag_ids, taking the
column and its function as trigger arguments) instead of one copy per axis."""

from django.db import migrations

from opinions.dbobjects import LoadSQL


def drop_the_copies(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS opinions_sync_size_ids(), opinions_sync_stakeholder_ids()"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0020_analysis"),
    ]

    operations = [
        # The triggers are replaced to call the one function; then the copies go.
        LoadSQL("postgresql", "counts"),
        migrations.RunPython(drop_the_copies, migrations.RunPython.noop),
    ]
