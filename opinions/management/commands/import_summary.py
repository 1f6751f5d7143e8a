"""``manage.py import_summary PATH``: load a 「主なご意見」 summary document."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opinions.importers import (
    DocumentReadError,
    LayoutProfile,
    SummaryParseError,
    lines_from_upload,
    parse_summary,
)
from opinions.imports import LabelsError, StalePlan, apply_import, plan_import, read_theme_labels
from opinions.models import Committee


class Command(BaseCommand):
    help = (
        "主なご意見の資料（.txt、.docx、.pdf）を読み込みます。見出しと意見の記号は資料から"
        "読み取ります（--headings、--bullets で指定も可）。再読み込みでは意見を本文で"
        "突き合わせ、新規・修正・移動・変更なし・非公開化を表示します。"
        "同じ資料を二度読み込んでも何も変わりません。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            type=Path,
            help="資料のファイル（.txt は UTF-8、UTF-16 または Shift_JIS）",
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
            help="資料が扱う会議の回（複数可: --meeting 1 --meeting 2）。ない会議は追加します",
        )
        parser.add_argument(
            "--labels",
            type=Path,
            help="テーマの略称とスラッグ（タブ区切り: path, short_label, slug）",
        )
        parser.add_argument(
            "--headings",
            help='見出しの記号を上の段から順に（例: "【】 ○ ＜＞"）。省略すると資料から読み取る',
        )
        parser.add_argument(
            "--bullets",
            help='意見の行頭の記号（例: "・"、記号のない段落なら "段落"）',
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="読み取った構成と、取り込むと何が変わるかを表示するだけで保存しない",
        )

    def handle(
        self, *args, path, committee, meetings, labels, headings, bullets, dry_run, **options
    ):
        try:
            profile = (
                LayoutProfile.from_text(headings or "", bullets or "・")
                if headings or bullets
                else None
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        try:
            parsed = parse_summary(lines_from_upload(path.name, path.read_bytes()), profile)
        except OSError as error:
            raise CommandError(f"{path}: ファイルを読めません（{error.strerror}）") from error
        except (SummaryParseError, DocumentReadError) as error:
            raise CommandError(f"{path}: {error}") from error

        try:
            theme_labels = read_theme_labels(labels) if labels else None
        except OSError as error:
            raise CommandError(f"{labels}: ファイルを読めません（{error.strerror}）") from error
        except (LabelsError, SummaryParseError) as error:
            raise CommandError(f"{labels}: {error}") from error

        counts = parsed.counts()
        summary = "章 {sections}、テーマ {themes}、小テーマ {subthemes}、意見 {opinions} 件".format(
            **counts
        )
        self.stdout.write(f"構成: {parsed.profile.describe()}")
        for warning in parsed.warnings:
            self.stdout.write(f"注意 {warning.line}行目: {warning.message}")
        plan = plan_import(parsed, committee=self._committee(committee))
        if dry_run:
            self.stdout.write(parsed.render_tree())
        for line in plan.report_lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write(f"{summary}。取り込むと: {plan.summary()}")
            return
        try:
            result = apply_import(plan, meeting_numbers=meetings, labels=theme_labels)
        except StalePlan as error:
            raise CommandError(
                "読み込みのあいだに資料の意見が変わりました。もう一度実行してください。"
            ) from error
        for message in result.messages:
            self.stdout.write(message)
        self.stdout.write(f"{result.document}: {summary}。{plan.summary()}")
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
