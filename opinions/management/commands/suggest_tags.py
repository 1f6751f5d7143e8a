"""``manage.py suggest_tags``: what the rules and the nearest curated examples would tag,
against what curators tagged."""

import unicodedata
from collections import defaultdict

from django.core.management.base import BaseCommand

from opinions.analysis import examples
from opinions.models import MunicipalitySize, Opinion, Stakeholder
from opinions.selectors import rules_and_bands
from opinions.services import apply_suggestions
from opinions.tagging import Score, suggest


class Command(BaseCommand):
    help = (
        "各意見について、ルールによるタグの提案と付与済みのタグを並べ、タグごとに適合率・再現率を"
        "表示します。類似の意見（付与済みのタグを持つ近い意見）による提案も、一つ抜き交差検証"
        "（その意見自身を除いた近傍）で採点します。付与済みのタグは決して外しません。"
        "--apply で不足分を「承認待ちの提案」として記録します（承認されるまでタグは付きません）。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--apply",
            action="store_true",
            help="提案されたタグのうち未付与のものを、承認待ちの提案として記録する",
        )
        parser.add_argument(
            "--from",
            dest="sources",
            choices=["rules", "examples", "both"],
            default="rules",
            help="--apply で追加する提案の出所（既定: rules）",
        )
        parser.add_argument("--quiet-opinions", action="store_true", help="意見ごとの行を省略する")

    def handle(self, *args, apply, sources, quiet_opinions, **options):
        rules, bands = rules_and_bands()
        tags = {
            (type(tag), tag.pk): tag
            for model in (MunicipalitySize, Stakeholder)
            for tag in model.objects.all()
        }
        rule_scores: dict[tuple, Score] = defaultdict(Score)
        added_total = 0
        opinions = Opinion.objects.prefetch_related("municipality_sizes", "stakeholders")
        for opinion in opinions.in_document_order().iterator(chunk_size=500):
            curated = {
                (type(tag), tag.pk)
                for tag in [*opinion.municipality_sizes.all(), *opinion.stakeholders.all()]
            }
            suggested = suggest(opinion.body, rules, bands)
            for key in tags:
                rule_scores[key].add(suggested=key in suggested, curated=key in curated)
            if not quiet_opinions:
                self._print_opinion(opinion, tags, suggested, curated)
            if apply and sources in ("rules", "both"):
                missing = {
                    tags[key]: reason for key, reason in suggested.items() if key not in curated
                }
                added_total += len(apply_suggestions(opinion, missing))
        self.stdout.write("")
        self.stdout.write(
            "ルール（付与済みの意見を見て書かれたため、この表は学習に使ったデータでの値です）"
        )
        self._print_scores(tags, rule_scores)

        curated_examples = examples.load_examples()
        loo = examples.leave_one_out(curated_examples)
        example_scores: dict[tuple, Score] = defaultdict(Score)
        for suggested, curated in zip(loo, curated_examples.tags, strict=True):
            for key in tags:
                example_scores[key].add(suggested=key in suggested, curated=key in curated)
        self.stdout.write("")
        self.stdout.write(
            f"類似の意見（近い {examples.K} 件の重み付き多数決、一つ抜き交差検証、"
            f"公開中で分析済みの {len(curated_examples.ids)} 件）"
        )
        self._print_scores(tags, example_scores)
        if apply and sources in ("examples", "both"):
            loaded = Opinion.objects.in_bulk(curated_examples.ids)
            for pk, suggested, curated in zip(
                curated_examples.ids, loo, curated_examples.tags, strict=True
            ):
                missing = {
                    tags[key]: reason for key, reason in suggested.items() if key not in curated
                }
                added_total += len(apply_suggestions(loaded[pk], missing))
        if apply:
            self.stdout.write(f"{added_total} 件のタグを承認待ちの提案として記録しました。")

    def _print_opinion(self, opinion, tags, suggested, curated):
        def names(keys):
            return (
                "、".join(
                    tags[key].name for key in sorted(keys, key=lambda k: (k[0].__name__, k[1]))
                )
                or "—"
            )

        extra, missed = set(suggested) - curated, curated - set(suggested)
        label = f"#{opinion.position}" if opinion.position else f"id {opinion.pk}"
        self.stdout.write(f"{label} {opinion.body[:30]}…")
        self.stdout.write(f"    提案: {names(suggested)}")
        self.stdout.write(f"    付与: {names(curated)}")
        if extra or missed:
            self.stdout.write(f"    提案のみ: {names(extra)} / 付与のみ: {names(missed)}")

    def _print_scores(self, tags, scores):
        def percent(value):
            return "—" if value is None else f"{value:.0%}"

        self.stdout.write(f"{_pad('タグ', 20)}  付与  提案  一致  適合率  再現率")
        overall = Score()
        for key, tag in tags.items():
            score = scores[key]
            overall.true_positives += score.true_positives
            overall.false_positives += score.false_positives
            overall.false_negatives += score.false_negatives
            curated = score.true_positives + score.false_negatives
            suggested = score.true_positives + score.false_positives
            self.stdout.write(
                f"{_pad(tag.name, 20)}  {curated:>4}  {suggested:>4}  {score.true_positives:>4}  "
                f"{percent(score.precision):>6}  {percent(score.recall):>6}"
            )
        self.stdout.write(
            f"{_pad('全体', 20)}  {overall.true_positives + overall.false_negatives:>4}  "
            f"{overall.true_positives + overall.false_positives:>4}  "
            f"{overall.true_positives:>4}  {percent(overall.precision):>6}  "
            f"{percent(overall.recall):>6}"
        )


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal, counting full-width characters as two columns."""
    used = sum(2 if unicodedata.east_asian_width(char) in "FW" else 1 for char in text)
    return text + " " * max(width - used, 0)
