"""What the experiments share: Django set up on the benchmark database, the terms the
benchmark drew, timing, and where results go.

Run an experiment as ``python -m bench.experiments.NAME`` with ``DATABASE_URL`` set to the
benchmark database (``BENCH_DATABASE_URL``); each prints a Markdown table and keeps its raw
numbers in artifacts/bench/experiments/NAME.json. They read the portal's data and its own
code paths (the FilterSet, the count tables) but are not wired into the portal.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "artifacts" / "bench" / "experiments"


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-" + "x" * 60)
    os.environ.setdefault("DJANGO_DEBUG", "0")
    import django

    django.setup()


def drawn_terms(per_band: int | None = None, seed: int = 1):
    """The benchmark's terms for this data (bench.terms, same sample and seed)."""
    from bench import terms

    drawn = terms.draw(terms.sample_texts(seed=seed), per_band=50, seed=seed)
    if per_band is None:
        return drawn
    kept, per = [], {}
    for term in drawn:
        per[term.band] = per.get(term.band, 0) + 1
        if per[term.band] <= per_band:
            kept.append(term)
    return kept


@contextmanager
def timer():
    """``with timer() as t: ...`` then ``t.ms``."""

    class Elapsed:
        ms = 0.0

    elapsed = Elapsed()
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.ms = (time.perf_counter() - started) * 1000


def rows(sql: str, params=()) -> list[tuple]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def timed(sql: str, params=()) -> tuple[float, list[tuple]]:
    with timer() as t:
        result = rows(sql, params)
    return t.ms, result


def p(values, q: float):
    from bench.measure import percentile

    return percentile(list(values), q)


def median(values):
    values = list(values)
    return statistics.median(values) if values else None


def save(name: str, data) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"{name}.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
    )


def ms(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())
