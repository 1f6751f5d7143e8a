"""A tiny run of the benchmark code (the benchmarks themselves run under make bench)."""

import pytest

from bench.measure import Timing, default_pages, measure
from opinions.generators import generate_opinions

pytestmark = pytest.mark.django_db


@pytest.mark.urls("bench.urls")
def test_the_measurement_loop_runs_on_generated_remarks(seed):
    generate_opinions(200, seed=1)
    pages = {page.name: page for page in default_pages(detail_samples=3)}
    timings = measure(
        [pages["list"], pages["search_2"], pages["export_document"]],
        repetitions=2,
        uncached_repetitions=2,
    )
    for timing in timings:
        summary = timing.summary()
        assert summary["samples"] == [2, 2]
        assert summary["cached_p95"] > 0 and summary["uncached_p50"] > 0
    list_timing = timings[0]
    # The cache answers the second request with fewer queries.
    assert list_timing.queries_cached < list_timing.queries_uncached
    assert timings[2].bytes > 100 * 20  # the synthetic document's remarks, as CSV


def test_percentile_is_nearest_rank():
    assert Timing.percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert Timing.percentile(list(map(float, range(1, 21))), 95) == 19.0
    assert Timing.percentile([], 95) is None


def test_the_runs_start_gunicorn_with_the_flags_of_make_serve():
    """bench/servers.py's app servers (make outage, make scaleout) run as `make serve` does."""
    from pathlib import Path

    from bench.servers import SERVE_FLAGS

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\nserve: install\n", 1)[1].split("\n\n", 1)[0].split()
    for flag, value in zip(SERVE_FLAGS[::2], SERVE_FLAGS[1::2], strict=True):
        assert recipe[recipe.index(flag) + 1] == value, flag
