"""The newest-first index carries the order to its end, the primary key: a search walked in
that order (estimates.read_in_order) meets its matches along it instead of sorting every
remark created at the same moment, and the admin's order (status, newest, key) is read from
it as it is."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0023_venue_counts_by_theme"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="opinion", name="opinion_status_created_idx"),
        migrations.AddIndex(
            model_name="opinion",
            index=models.Index(
                fields=["status", "-created_at", "-id"], name="opinion_status_newest_idx"
            ),
        ),
    ]
