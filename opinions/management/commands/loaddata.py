"""``manage.py loaddata``, Django's own, without new history records: a file made by
``dumpdata`` brings its history with it, and django-simple-history would otherwise record
each loaded remark's tags a second time (under the ids of the records being loaded)."""

from django.core.management.commands import loaddata
from django.test.utils import override_settings


class Command(loaddata.Command):
    help = loaddata.Command.help + "（履歴は読み込むファイルのものを使い、新しく記録しません）"

    def handle(self, *args, **options):
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            return super().handle(*args, **options)
