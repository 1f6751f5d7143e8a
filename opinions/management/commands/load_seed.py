"""``manage.py load_seed``: the committee's seed data, on an empty database only."""

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from opinions.models import Opinion, SourceDocument


class Command(BaseCommand):
    help = (
        "fixtures/seed.json（参考資料１「第１回、第２回における主なご意見」）を読み込みます。"
        "既にデータがある場合は何もしません（管理画面での編集を上書きしないため）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="データがあっても読み込む（シードの行を上書き）"
        )

    def handle(self, *args, force, **options):
        if not force and (SourceDocument.objects.exists() or Opinion.objects.exists()):
            self.stdout.write("データが既にあるため、シードの読み込みを省略しました。")
            return
        load_seed_fixture(verbosity=options["verbosity"])


def load_seed_fixture(*, verbosity: int = 0) -> None:
    """Load fixtures/seed.json without per-row history: the seed's provenance is the document
    itself, and history starts with the first change made in the portal."""
    with override_settings(SIMPLE_HISTORY_ENABLED=False):
        call_command("loaddata", "seed", verbosity=verbosity)
