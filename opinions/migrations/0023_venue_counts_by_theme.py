"""An index of the venue count table by theme, and statistics taken as the count tables are
rebuilt (opinions/sql/postgresql/counts.sql)."""

from django.db import migrations

from opinions.dbobjects import LoadSQL


class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0022_pending_suggestions"),
    ]

    operations = [
        LoadSQL("postgresql", "counts"),
    ]
