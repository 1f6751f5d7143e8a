"""``manage.py rebuild_counts``: recompute the count tables from the remarks (PostgreSQL)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from opinions.browsing import counts

# The three tables' non-empty cells (the coarser ones with 0 or no tags for what they leave
# out), their delta rows summed.
SNAPSHOT = (
    f"SELECT 'venue', {counts.KEY}, sum(n) FROM {counts.VENUE_TABLE} GROUP BY {counts.KEY}"
    f" HAVING sum(n) <> 0 UNION ALL"
    f" SELECT 'tag', status, theme_id, 0, 0, {counts.TAG_COLUMNS}, sum(n)"
    f" FROM {counts.TAG_TABLE} GROUP BY status, theme_id, {counts.TAG_COLUMNS}"
    f" HAVING sum(n) <> 0 UNION ALL"
    f" SELECT 'venue only', status, 0, source_document_id, meeting_id, '{{}}', '{{}}', sum(n)"
    f" FROM {counts.VENUE_ONLY_TABLE} GROUP BY status, source_document_id, meeting_id"
    f" HAVING sum(n) <> 0"
)


class Command(BaseCommand):
    help = (
        "件数表（意見の状態・テーマ・タグ・資料・会議ごとの件数。トリガーが常に更新）を意見から"
        "作り直します。通常は不要です。--check は作り直さずに、正しいかどうかだけを調べます。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="作り直さず、件数表が意見と一致するかを調べる"
        )

    def handle(self, *args, check, **options):
        if not counts.available():
            raise CommandError(
                "件数表は PostgreSQL にだけあります（SQLite では意見から数えます）。"
            )
        with transaction.atomic():
            before = self._snapshot()
            counts.rebuild()
            after = self._snapshot()
            if check:
                transaction.set_rollback(True)
        differing = len(before ^ after)
        if check and differing:
            raise CommandError(
                f"件数表が意見と一致しません（差分 {differing} 行）。"
                "manage.py rebuild_counts で作り直してください。"
            )
        if check:
            self.stdout.write(f"件数表は意見と一致しています（{len(after)} セル）。")
        else:
            self.stdout.write(f"件数表を作り直しました（{len(after)} セル、差分 {differing} 行）。")

    def _snapshot(self) -> set[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(SNAPSHOT)
            return {(*row[:5], tuple(row[5]), tuple(row[6]), row[7]) for row in cursor.fetchall()}
