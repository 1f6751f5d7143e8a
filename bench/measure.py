"""First visits of the portal's pages and searches, measured inside the Django process.

Every request goes through Django's test client (the whole stack: middleware, view,
queries, template) and is timed with ``perf_counter``. Before each one the caches are
emptied — the shared cache (Redis under ``make bench``) and this process's LRU in front of
it (opinions/caching.py: whole anonymous pages, the list's counts and facets, theme
counts and summaries, the cross-tab) — so each request is what the first visitor of that
page, that search or that filter combination gets after any change. PostgreSQL's buffers
and the OS page cache stay as they are (warm): a first visit, not a cold machine.

Each request is split by :mod:`bench.probe` into SQL time, template time and the rest of
Python. A few warm requests per page (the page as the next visitors get it, from the
cache) are kept for comparison.

Searches (:func:`measure_terms`) are the terms :mod:`bench.terms` draws from the data, by
band, each requested ``repetitions`` times, the cache emptied every time.

Run as ``python -m bench.measure --output FILE`` with ``DJANGO_SETTINGS_MODULE=bench.settings``
(bench/run.py does); the functions are what tests/test_bench.py calls.
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
from urllib.parse import quote

from .probe import probe

PAGE_TARGET_MS = 100
SEARCH_TARGET_MS = 150


def percentile(values, q: float) -> float | None:
    """Nearest-rank percentile (no interpolation between two samples)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))]


def median(values) -> float | None:
    values = list(values)
    return statistics.median(values) if values else None


@dataclass
class Page:
    name: str
    label: str
    urls: list[str]  # cycled through, one per request
    target_ms: float | None = PAGE_TARGET_MS
    staff: bool = False  # requested by a signed-in 事務局 member (exports)


@dataclass
class Sample:
    ms: float
    sql_ms: float
    template_ms: float
    queries: int
    bytes: int = 0

    @property
    def python_ms(self) -> float:
        return self.ms - self.sql_ms


@dataclass
class Series:
    name: str
    label: str
    target_ms: float | None
    # The page's first request after the data was loaded: PostgreSQL's buffers and the OS's
    # page cache still cold from the generation, which the first-visit series assumes warm.
    cold: Sample | None = None
    first: list[Sample] = field(default_factory=list)  # the cache emptied before each
    warm: list[Sample] = field(default_factory=list)  # served from the cache

    def summary(self) -> dict:
        times = [s.ms for s in self.first]
        p95 = percentile(times, 95)
        return {
            "name": self.name,
            "label": self.label,
            "target_ms": self.target_ms,
            "samples": len(self.first),
            "p50": median(times),
            "p95": p95,
            "max": max(times) if times else None,
            "cold_ms": self.cold.ms if self.cold else None,
            "sql_p50": median(s.sql_ms for s in self.first),
            "python_p50": median(s.python_ms for s in self.first),
            "template_p50": median(s.template_ms for s in self.first),
            "queries": median(s.queries for s in self.first),
            "bytes": self.first[-1].bytes if self.first else 0,
            "warm_p50": median(s.ms for s in self.warm),
            "warm_p95": percentile([s.ms for s in self.warm], 95),
            "met": None if self.target_ms is None or p95 is None else p95 <= self.target_ms,
        }


def list_path(**params) -> str:
    from django.urls import reverse

    query = "&".join(f"{key}={quote(str(value))}" for key, value in params.items())
    return reverse("opinions:opinion-list") + (f"?{query}" if query else "")


def detail_paths(count: int, *, seed: int = 0) -> list[str]:
    """``count`` different published remarks' pages, spread over the whole table."""
    from opinions.models import Opinion

    published = Opinion.objects.published()
    last = published.order_by("-pk").values_list("pk", flat=True).first() or 0
    rng = random.Random(seed)
    ids = list(
        published.filter(pk__in=[rng.randint(1, last) for _ in range(count * 3)]).values_list(
            "pk", flat=True
        )[:count]
    )
    if len(ids) < count:
        ids += list(published.exclude(pk__in=ids).values_list("pk", flat=True)[: count - len(ids)])
    rng.shuffle(ids)
    return [list_path().rstrip("/") + f"/{pk}/" for pk in ids]


def default_pages(
    *, detail_samples: int = 20, api_terms: list[str] = (), seed: int = 0
) -> list[Page]:
    """Every type of page the issue names, with parameters that exist in the loaded data."""
    from django.conf import settings
    from django.db.models import Count
    from django.urls import reverse
    from django.utils.http import urlencode

    from opinions.models import Opinion, SourceDocument, Theme

    published = Opinion.objects.published()
    pages_total = max(1, math.ceil(published.count() / settings.OPINIONS_PAGE_SIZE))
    theme = (
        Theme.objects.filter(slug="dai1ki-kadai").first() or Theme.objects.filter(level=2).first()
    )
    # The section (章) with the most remarks below it: the largest theme page there is.
    themes = list(Theme.objects.all())
    per_theme = dict(published.values_list("theme").annotate(n=Count("pk")).order_by())
    parent = {t.pk: t.parent_id for t in themes}

    def section_of(pk):
        while parent.get(pk):
            pk = parent[pk]
        return pk

    sizes: dict[int, int] = {}
    for pk, n in per_theme.items():
        sizes[section_of(pk)] = sizes.get(section_of(pk), 0) + n
    section = max(
        (t for t in themes if t.parent_id is None), key=lambda t: (sizes.get(t.pk, 0), -t.pk)
    )
    page_1000 = min(1000, pages_total)
    api = reverse("opinions:api-opinion-list")
    api_terms = list(api_terms) or ["地方"]
    pages = [
        Page("list", "一覧（絞り込みなし）", [list_path()]),
        Page(
            "list_filtered",
            "一覧（テーマ＋関係者＋規模）",
            [list_path(theme=theme.slug, stakeholder="government", size="small-municipality")],
        ),
        Page("theme_index", "テーマ別（目次）", [reverse("opinions:theme-index")]),
        Page("theme_section", f"テーマ別・章（{section.short_label}）", [section.get_absolute_url()]),
        Page("theme_page", f"テーマ別・テーマ（{theme.short_label}）", [theme.get_absolute_url()]),
        Page("crosstab", "クロス集計（テーマ × 関係者）", [reverse("opinions:crosstab") + "?axis=stakeholder"]),
        Page("detail", "意見の詳細（毎回別の意見）", detail_paths(detail_samples, seed=seed)),
        Page("api_list", "API 一覧", [api]),
        Page("api_q", "API 一覧＋q（毎回別の語）", [f"{api}?{urlencode({'q': t})}" for t in api_terms]),
        Page("page_1000", f"一覧 {page_1000:,} ページ目", [list_path(page=page_1000)]),
        Page("last_page", f"一覧 最終ページ（{pages_total:,}）", [list_path(page=pages_total)]),
    ]  # fmt: skip
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
            Page(
                "export_document",
                f"CSV 書き出し（1資料、{rows:,} 行）",
                [export],
                target_ms=None,
                staff=True,
            )
        )
    return pages


def new_client():
    """A test client whose middleware is loaded, as a WSGI handler's is before its first
    request (the test client loads it on its first: 80 ms of WhiteNoise reading the static
    files, counted against the first page measured)."""
    from django.test import Client

    client = Client()
    client.handler.load_middleware()
    return client


def staff_client():
    """A client signed in as a 事務局 member (who may export and sees unpublished remarks)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, _ = get_user_model().objects.get_or_create(username="bench-staff")
    user.groups.add(Group.objects.get(name="事務局"))
    client = new_client()
    client.force_login(user)
    return client


def clear_caches() -> None:
    """Forget everything cached: the shared cache and this process's LRU."""
    from django.conf import settings
    from django.core.cache import caches

    from opinions.browsing import caching

    caches[settings.OPINIONS_CACHE].clear()
    caching.clear_local()


def request(client, url: str) -> Sample:
    with probe() as split:
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
    return Sample(elapsed, split.sql_ms, split.template_ms, split.queries, size)


def measure(pages: list[Page], *, repetitions: int, warm_repetitions: int = 5) -> list[Series]:
    """Each page once as the database first meets it (reported apart: the buffers the
    generation left cold), ``repetitions`` times with the caches emptied before each
    request, then ``warm_repetitions`` times from the cache."""
    public, staff = new_client(), None
    results = []
    for page in pages:
        if page.staff and staff is None:
            staff = staff_client()
        client = staff if page.staff else public
        series = Series(page.name, page.label, page.target_ms)
        clear_caches()
        series.cold = request(client, page.urls[0])
        for index in range(repetitions):
            clear_caches()
            series.first.append(request(client, page.urls[index % len(page.urls)]))
        for _index in range(warm_repetitions):
            series.warm.append(request(client, page.urls[(repetitions - 1) % len(page.urls)]))
        results.append(series)
    return results


@dataclass
class TermTiming:
    text: str
    band: str
    share: float
    samples: list[Sample] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(s.ms for s in self.samples)


def measure_terms(terms, *, repetitions: int) -> list[TermTiming]:
    """Each term searched ``repetitions`` times on the list page, the caches emptied
    before each request. The terms are interleaved (every term once, then again), so a
    slow moment of the machine falls on many terms, not all samples of one."""
    client = new_client()
    timings = [TermTiming(term.text, term.band, term.share) for term in terms]
    for _round in range(repetitions):
        for timing in timings:
            clear_caches()
            timing.samples.append(request(client, list_path(q=timing.text)))
    return timings


def band_summary(timings: list[TermTiming], target_ms: float = SEARCH_TARGET_MS) -> list[dict]:
    """Per band: the distribution of all first visits, of the terms' medians, and how many
    terms met the target on every request."""
    from .terms import BANDS

    result = []
    for band, label in BANDS.items():
        terms = [t for t in timings if t.band == band and t.samples]
        if not terms:
            continue
        times = [s.ms for t in terms for s in t.samples]
        worst = max(terms, key=lambda t: t.p50)
        result.append(
            {
                "band": band,
                "label": label,
                "terms": len(terms),
                "samples": len(times),
                "share_p50": median(t.share for t in terms),
                "share_max": max(t.share for t in terms),
                "p50": median(times),
                "p95": percentile(times, 95),
                "term_p50_max": worst.p50,
                "worst_term": worst.text,
                "met_every": sum(1 for t in terms if max(s.ms for s in t.samples) <= target_ms),
                "met_median": sum(1 for t in terms if t.p50 <= target_ms),
                "sql_p50": median(s.sql_ms for t in terms for s in t.samples),
                "python_p50": median(s.python_ms for t in terms for s in t.samples),
                "template_p50": median(s.template_ms for t in terms for s in t.samples),
                "queries": median(s.queries for t in terms for s in t.samples),
            }
        )
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True)
    parser.add_argument("--repetitions", type=int, default=10, help="first visits per page")
    parser.add_argument("--warm-repetitions", type=int, default=5)
    parser.add_argument("--terms-per-band", type=int, default=50)
    parser.add_argument("--term-repetitions", type=int, default=2)
    parser.add_argument("--detail-samples", type=int, default=20)
    parser.add_argument("--pool", type=int, default=5000, help="queries and remarks for wrk")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", help="page names (no searches)")
    parser.add_argument("--paths-only", action="store_true",
                        help="measure nothing: the pages' and wrk's paths only")  # fmt: skip
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.core.wsgi import get_wsgi_application

    from portal.warmup import settle

    settle(get_wsgi_application())  # as a worker starts (portal/wsgi.py)
    from opinions.models import Opinion

    from . import terms as vocabulary

    texts = vocabulary.sample_texts(seed=args.seed)
    terms = vocabulary.draw(texts, per_band=args.terms_per_band, seed=args.seed)
    # The API with q: one term of each band in turn, a different one per request.
    by_band = {band: [t.text for t in terms if t.band == band] for band in vocabulary.BANDS}
    api_terms = [
        words[i] for i in range(args.repetitions) for words in by_band.values() if i < len(words)
    ][: args.repetitions]
    pages = default_pages(detail_samples=args.detail_samples, api_terms=api_terms, seed=args.seed)
    if args.only:
        pages = [page for page in pages if page.name in args.only]
    if args.paths_only:
        series, timings = [], []
    else:
        series = measure(
            pages, repetitions=args.repetitions, warm_repetitions=args.warm_repetitions
        )
        timings = [] if args.only else measure_terms(terms, repetitions=args.term_repetitions)
    output = {
        "published": Opinion.objects.published().count(),
        "pages": [s.summary() | {"first": [asdict(x) for x in s.first]} for s in series],
        "terms": [asdict(t) for t in timings],
        "bands": band_summary(timings),
        # For the runs against gunicorn: the same pages and terms, and what wrk requests.
        "urls": {page.name: page.urls for page in pages if not page.staff},
        "wrk": {
            "search": [
                list_path(q=query)
                for query in vocabulary.pool(texts, terms, size=args.pool, seed=args.seed + 1)
            ],
            "detail": detail_paths(args.pool, seed=args.seed + 1),
        },
    }
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(output, handle, ensure_ascii=False)


if __name__ == "__main__":
    main()
