# The internal review memo on remarks, and saved searches.

from django.conf import settings
from django.db import migrations, models
import django.db.models.deletion
import uuid


# SQLite adds a NOT NULL column by rebuilding the table, which drops its triggers: put
# back the data-version triggers migration 0007 gave opinions_opinion (PostgreSQL adds
# the column in place and keeps its statement trigger).
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS opinions_opinion_data_version_{event.lower()}"
    f" AFTER {event} ON opinions_opinion BEGIN UPDATE opinions_dataversion"
    " SET token = lower(hex(randomblob(16))) WHERE id = 1; END"
    for event in ("INSERT", "UPDATE", "DELETE")
]


def restore_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_TRIGGERS:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0016_opinion_source_page"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalopinion",
            name="internal_memo",
            field=models.TextField(blank=True, db_default="", default="", verbose_name="内部メモ"),
        ),
        migrations.AddField(
            model_name="opinion",
            name="internal_memo",
            field=models.TextField(blank=True, db_default="", default="", verbose_name="内部メモ"),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
        migrations.CreateModel(
            name="SavedSearch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=100, verbose_name="名前")),
                ("query", models.CharField(blank=True, max_length=2000, verbose_name="条件")),
                (
                    "alert",
                    models.CharField(
                        choices=[("none", "通知しない"), ("daily", "毎日メールで知らせる")],
                        default="none",
                        max_length=10,
                        verbose_name="新着の通知",
                    ),
                ),
                (
                    "feed_token",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, unique=True, verbose_name="フィードの鍵"
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="作成日時")),
                (
                    "notified_until",
                    models.DateTimeField(blank=True, null=True, verbose_name="通知済みの時点"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="saved_searches",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="利用者",
                    ),
                ),
            ],
            options={
                "verbose_name": "保存した検索",
                "verbose_name_plural": "保存した検索",
                "ordering": ["name", "pk"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("user", "name"), name="saved_search_unique_name"
                    )
                ],
            },
        ),
    ]
