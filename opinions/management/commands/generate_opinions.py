"""``manage.py generate_opinions``: synthetic remarks at scale, for benchmarks."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from opinions.generators import generate_opinions


class Command(BaseCommand):
    help = (
        "シードの文を組み合わせた合成の意見を --count 件作成します（ベンチマーク用）。"
        "テーマ・タグの分布はシードの付与済みタグに従い、一部は確認待ち・非公開です。"
        "同じ --seed なら同じデータになります。PostgreSQL では COPY で読み込みます。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, required=True, help="作成する意見の件数")
        parser.add_argument("--seed", type=int, default=0, help="乱数の種（既定 0）")
        parser.add_argument("--no-progress", action="store_true", help="進捗バーを表示しない")

    def handle(self, *args, count, seed, no_progress, **options):
        if count < 0:
            raise CommandError("--count は 0 以上にしてください。")
        started = time.perf_counter()
        with tqdm(total=count, unit="件", disable=no_progress, file=sys.stderr) as bar:
            try:
                created = generate_opinions(
                    count, seed=seed, progress=bar.update, log=lambda message: bar.write(message)
                )
            except LookupError as error:
                raise CommandError(str(error)) from error
        self.stdout.write(
            f"合成の意見を {created} 件作成しました（{time.perf_counter() - started:.1f} 秒）。"
        )
