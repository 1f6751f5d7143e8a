"""``manage.py analyse``: compute the stored text analysis of every remark and theme."""

import time

from django.core.management.base import BaseCommand

from opinions.analysis import digests, evaluation, vectors


class Command(BaseCommand):
    help = (
        "全ての意見の分析（埋め込みベクトル、語、関連する意見）と、各テーマの要約（特徴語、"
        "中心的な意見、意見のまとまり、重なる意見）を計算して保存します。分析済みの意見は"
        "埋め込みを再計算しません。本文が変わっていないテーマの要約（事務局による名前の変更・"
        "統合を含む）はそのまま残します。すべて手元で計算し、外部には何も送りません。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="変わっていないテーマの要約も計算し直す"
        )
        parser.add_argument(
            "--evaluate",
            action="store_true",
            help="各手法で、最も近い意見が同じ小テーマ・テーマにある割合（P@1, P@3）を表示する",
        )
        parser.add_argument(
            "--batch", type=int, default=256, help="一度に埋め込む意見の数（既定: 256）"
        )
        parser.add_argument(
            "--variants",
            action="store_true",
            help="公開中の意見で表記が揺れている語（仕事／しごと など）を表示する",
        )
        parser.add_argument(
            "--add-variants",
            action="store_true",
            help="表記ゆれを検索の同義語グループとして追加する（管理画面で見直し・無効化できます）",
        )
        parser.add_argument(
            "--by-sentence",
            action="store_true",
            help="文ごとに一度だけ埋め込み、意見は文のベクトルの和とする"
            "（シードの文を組み合わせたベンチマーク用の合成データ向け）",
        )

    def handle(self, *args, force, evaluate, batch, by_sentence, variants, add_variants, **options):
        started = time.monotonic()
        done = [0]

        def progress(n):
            done[0] += n
            if options["verbosity"] > 1:
                self.stdout.write(f"  {done[0]} 件を埋め込みました")

        remarks = vectors.rebuild(batch=batch, progress=progress, by_sentence=by_sentence)
        computed, kept = digests.compute_digests(force=force)
        self.stdout.write(
            f"{remarks} 件の意見を分析しました（新たに埋め込んだもの {done[0]} 件）。"
            f"テーマの要約: 計算 {computed} 件、変更なし {kept} 件"
            f"（{time.monotonic() - started:.1f} 秒、手法 {vectors.METHOD}）。"
        )
        if evaluate:
            self._print_evaluation()
        if variants or add_variants:
            self._variants(add=add_variants)

    def _variants(self, *, add):
        from opinions.analysis.tokenise import spelling_variants
        from opinions.models import Opinion, SynonymGroup

        bodies = Opinion.objects.published().values_list("body", flat=True).iterator()
        found = spelling_variants(bodies)
        existing = {frozenset(g.term_list) for g in SynonymGroup.objects.all()}
        added = 0
        self.stdout.write("")
        self.stdout.write(f"表記ゆれ {len(found)} 語（形態素解析の正規化形でまとめたもの）:")
        for normalized, spellings in found:
            self.stdout.write(f"  {normalized}: {' / '.join(spellings)}")
            if add and frozenset(spellings) not in existing:
                SynonymGroup.objects.create(
                    terms="\n".join(spellings), note="表記ゆれ（形態素解析による）"
                )
                added += 1
        if add:
            self.stdout.write(f"同義語グループを {added} 件追加しました。")

    def _print_evaluation(self):
        results = evaluation.evaluate()
        if not results:
            self.stdout.write("評価するには公開中の意見が4件以上必要です。")
            return
        self.stdout.write("")
        self.stdout.write("| 手法 | 小テーマ P@1 | 小テーマ P@3 | テーマ P@1 | テーマ P@3 |")
        self.stdout.write("| --- | ---: | ---: | ---: | ---: |")
        for name, scores in results:
            sub, theme = scores["subtheme"], scores["theme"]
            self.stdout.write(
                f"| {name} | {sub[0]:.0%} | {sub[1]:.0%} | {theme[0]:.0%} | {theme[1]:.0%} |"
            )
