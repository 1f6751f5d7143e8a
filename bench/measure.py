"""Server-side time of the portal's pages, measured inside the Django process.

Each page is requested through Django's test client (the whole stack: middleware, view,
queries, template) and timed with ``perf_counter``. Two series per page:

- **cached**: repeated requests after one warm-up, as the n-th visitor sees the page;
- **uncached**: the cache is cleared before every request, as the first visitor after a
  change sees it (what the database and the code cost on their own).

Run as ``python -m bench.measure --output FILE`` with ``DJANGO_SETTINGS_MODULE=bench.settings``
(bench/run.py does); ``measure()`` is what the smoke test calls.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import time
from dataclasses import asdict, dataclass, field


@dataclass
class Page:
    name: str
    label: str
    urls: list[str]  # cycled through, one per request
    target_ms: float | None = None
    staff: bool = False  # requested by a signed-in 事務局 member (exports)


@dataclass
class Timing:
    name: str
    label: str
    target_ms: float | None
    cached: list[float] = field(default_factory=list)  # milliseconds
    uncached: list[float] = field(default_factory=list)
    queries_cached: int = 0
    queries_uncached: int = 0
    bytes: int = 0

    @staticmethod
    def percentile(values: list[float], q: float) -> float | None:
        """Nearest-rank percentile (no interpolation between two samples)."""
        if not values:
            return None
        ordered = sorted(values)
        return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]

    def summary(self) -> dict:
        return {
            "name": self.name,
            "label": self.label,
            "target_ms": self.target_ms,
            "cached_p50": statistics.median(self.cached) if self.cached else None,
            "cached_p95": self.percentile(self.cached, 95),
            "uncached_p50": statistics.median(self.uncached) if self.uncached else None,
            "uncached_p95": self.percentile(self.uncached, 95),
            "queries_cached": self.queries_cached,
            "queries_uncached": self.queries_uncached,
            "samples": [len(self.cached), len(self.uncached)],
            "bytes": self.bytes,
        }


def default_pages(*, detail_samples: int = 50, seed: int = 0) -> list[Page]:
    """The pages the issue names, with parameters that exist in the loaded data."""
    from django.urls import reverse
    from django.utils.http import urlencode

    from opinions.models import Opinion, SourceDocument, Theme

    listing = reverse("opinions:opinion-list")
    theme = (
        Theme.objects.filter(slug="dai1ki-kadai").first() or Theme.objects.filter(level=2).first()
    )
    published = Opinion.objects.published()
    last = published.order_by("-pk").values_list("pk", flat=True).first() or 0
    rng = random.Random(seed)
    # Detail pages of different remarks (no two requests alike), spread over the whole table.
    candidates = list(
        published.filter(
            pk__in=[rng.randint(1, last) for _ in range(detail_samples * 3)]
        ).values_list("pk", flat=True)[:detail_samples]
    ) or list(published.values_list("pk", flat=True)[:detail_samples])
    filtered = f"{listing}?theme={theme.slug}&stakeholder=government&size=small-municipality"
    pages = [
        Page("list", "一覧（絞り込みなし）", [listing], 100),
        Page("list_filtered", "一覧（テーマ＋関係者＋規模）", [filtered], 100),
        Page("search_2", "検索 2文字（女性）", [f"{listing}?q=女性"], 150),
        Page("search_2_common", "検索 2文字・頻出（地方）", [f"{listing}?q=地方"], 150),
        Page("search_4", "検索 4文字（地方創生）", [f"{listing}?q=地方創生"], 150),
        Page("search_two", "検索 2語（若者 女性）", [f"{listing}?q=若者 女性"], 150),
        Page("theme_summary", "テーマ別集計", [theme.get_absolute_url()], 100),
        Page("crosstab", "クロス集計", [reverse("opinions:crosstab") + "?axis=stakeholder"], 100),
        Page("detail", "意見の詳細（毎回別の意見）", [f"{listing}{pk}/" for pk in candidates], 100),
    ]
    # The real export (staff only) of one source document: about 8,000 remarks each once
    # synthetic remarks are loaded (one document per 10,000), the seed's 68 before.
    document = SourceDocument.objects.order_by("-pk").first()
    if document is not None:
        rows = Opinion.objects.exclude(status=Opinion.Status.WITHDRAWN)
        rows = rows.filter(source_document=document).count()
        export = (
            f"{reverse('opinions:opinion-export-csv')}?{urlencode({'document': document.slug})}"
        )
        pages.append(
            Page("export_document", f"CSV 書き出し（1資料、{rows:,} 行）", [export], staff=True)
        )
    return pages


def staff_client():
    """A client signed in as a 事務局 member (who may export and sees unpublished remarks)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench-staff")
    user.groups.add(Group.objects.get(name="事務局"))
    client = Client()
    client.force_login(user)
    return client


def _get(client, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    response = client.get(url)
    size = (
        sum(len(chunk) for chunk in response.streaming_content)
        if response.streaming
        else len(response.content)
    )
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url}: HTTP {response.status_code}")
    return elapsed, size


def measure(pages: list[Page], *, repetitions: int, uncached_repetitions: int) -> list[Timing]:
    """Time every page ``repetitions`` times cached and ``uncached_repetitions`` times
    with the cache cleared before each request."""
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from opinions.browsing import caching

    def clear():
        cache.clear()
        caching.clear_local()

    public, staff = Client(), None
    timings = []
    for page in pages:
        if page.staff and staff is None:
            staff = staff_client()
        client = staff if page.staff else public
        timing = Timing(page.name, page.label, page.target_ms)
        for index in range(uncached_repetitions):
            clear()
            elapsed, timing.bytes = _get(client, page.urls[index % len(page.urls)])
            timing.uncached.append(elapsed)
        clear()
        with CaptureQueriesContext(connection) as queries:
            _get(client, page.urls[0])  # warm-up, and the uncached query count
        timing.queries_uncached = len(queries.captured_queries)
        with CaptureQueriesContext(connection) as queries:
            _get(client, page.urls[0])
        timing.queries_cached = len(queries.captured_queries)
        for index in range(repetitions):
            elapsed, _size = _get(client, page.urls[(index + 1) % len(page.urls)])
            timing.cached.append(elapsed)
        timings.append(timing)
    return timings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--repetitions", type=int, default=30)
    parser.add_argument("--uncached-repetitions", type=int, default=10)
    parser.add_argument("--only", nargs="*", help="page names")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    pages = default_pages()
    if args.only:
        pages = [page for page in pages if page.name in args.only]
    timings = measure(
        pages, repetitions=args.repetitions, uncached_repetitions=args.uncached_repetitions
    )
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump([t.summary() | {"raw": asdict(t)} for t in timings], handle, ensure_ascii=False)


if __name__ == "__main__":
    main()
