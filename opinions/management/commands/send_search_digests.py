"""``manage.py send_search_digests``: the daily mail of saved searches (run it from cron)."""

from django.core.management.base import BaseCommand

from opinions.saved_searches import send_digests


class Command(BaseCommand):
    help = (
        "「毎日メールで知らせる」にした保存検索ごとに、前回から公開された一致する意見をメールで"
        "知らせます。新着がなければ送りません。cron から1日1回実行してください。"
    )

    def handle(self, *args, **options):
        sent = send_digests()
        self.stdout.write(f"{sent} 通のメールを送りました。")
