"""``manage.py import_summary PATH``: load a 「主なご意見」 summary document."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opinions.importers import SummaryParseError, decode_text, parse_summary
from opinions.models import Committee
from opinions.services import LabelsError, import_summary_document, read_theme_labels


class Command(BaseCommand):
    help = (
        "要約資料（【章】○テーマ＜小テーマ＞・意見 の形式のテキスト）を読み込みます。"
        "同じ資料を二度読み込んでも何も変わりません。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="資料のテキストファイル（UTF-8 または Shift_JIS）"
        )
        parser.add_argument(
            "--committee",
            help="会議体のスラッグ（会議体が一つだけなら省略可）",
        )
        parser.add_argument(
            "--meeting",
            dest="meetings",
            type=int,
            action="append",
            default=[],
            metavar="N",
            help="資料が扱う会議の回（複数可: --meeting 1 --meeting 2）",
        )
        parser.add_argument(
            "--labels",
            type=Path,
            help="テーマの略称とスラッグ（タブ区切り: path, short_label, slug）",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="読み取った構成と件数を表示するだけで保存しない"
        )

    def handle(self, *args, path, committee, meetings, labels, dry_run, **options):
        try:
            parsed = parse_summary(decode_text(path.read_bytes()))
        except OSError as error:
            raise CommandError(f"{path}: ファイルを読めません（{error.strerror}）") from error
        except SummaryParseError as error:
            raise CommandError(f"{path}: {error}") from error

        counts = parsed.counts()
        summary = "章 {sections}、テーマ {themes}、小テーマ {subthemes}、意見 {opinions} 件".format(
            **counts
        )
        if dry_run:
            self.stdout.write(parsed.render_tree())
            self.stdout.write(summary)
            return

        try:
            theme_labels = read_theme_labels(labels) if labels else None
        except OSError as error:
            raise CommandError(f"{labels}: ファイルを読めません（{error.strerror}）") from error
        except (LabelsError, SummaryParseError) as error:
            raise CommandError(f"{labels}: {error}") from error
        result = import_summary_document(
            parsed,
            committee=self._committee(committee),
            meeting_numbers=meetings,
            labels=theme_labels,
        )
        for message in result.messages:
            self.stdout.write(message)
        self.stdout.write(
            f"{result.document}: {summary}。"
            f"新規 {result.opinions_created}、更新 {result.opinions_updated}、"
            f"変更なし {result.opinions_unchanged}、非公開化 {result.opinions_hidden}、"
            f"テーマ新規 {result.themes_created}"
        )
        if not result.changed:
            self.stdout.write(self.style.SUCCESS("変更はありません。"))

    def _committee(self, slug: str | None) -> Committee:
        if slug:
            try:
                return Committee.objects.get(slug=slug)
            except Committee.DoesNotExist:
                raise CommandError(f"会議体「{slug}」がありません。") from None
        committees = list(Committee.objects.all()[:2])
        if len(committees) != 1:
            raise CommandError("会議体を --committee で指定してください。")
        return committees[0]
