"""``manage.py import_tags``: the curated vocabularies, rules and seed tags from TSV files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opinions.models import SourceDocument
from opinions.services import import_tag_curation, read_tsv

SOURCE = Path("fixtures/source")


class Command(BaseCommand):
    help = (
        "自治体規模・関係者の語彙、タグ提案ルール、資料の意見へのタグ（タブ区切りファイル）を"
        "読み込みます。何度実行しても同じ結果になります。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--document", help="タグを付ける資料のスラッグ（資料が一つだけなら省略可）"
        )
        parser.add_argument("--sizes", type=Path, default=SOURCE / "municipality_sizes.tsv")
        parser.add_argument("--stakeholders", type=Path, default=SOURCE / "stakeholders.tsv")
        parser.add_argument("--rules", type=Path, default=SOURCE / "tag_rules.tsv")
        parser.add_argument("--assignments", type=Path, default=SOURCE / "seed_tags.tsv")

    def handle(self, *args, document, sizes, stakeholders, rules, assignments, **options):
        documents = (
            SourceDocument.objects.filter(slug=document) if document else SourceDocument.objects
        )
        found = list(documents.all()[:2])
        if len(found) != 1:
            raise CommandError(
                f"資料「{document}」がありません。"
                if document
                else "資料を --document で指定してください。"
            )
        source = found[0]
        try:
            counts = import_tag_curation(
                sizes=read_tsv(sizes),
                stakeholders=read_tsv(stakeholders),
                rules=read_tsv(rules),
                assignments=read_tsv(assignments),
                document=source,
            )
        except (OSError, KeyError, ValueError) as error:
            raise CommandError(f"タグのファイルを読み込めません: {error!r}") from error
        self.stdout.write(
            "自治体規模 {sizes}、関係者 {stakeholders}、ルール {rules}、タグを付けた意見 {opinions} 件".format(
                **counts
            )
        )
