"""Counts of a search as estimates, against the exact counts the list shows today.

For each term the benchmark draws (bench/terms.py), on the published remarks:

- **exact, today**: ``counts.search_counts`` — the total and every facet from one pass over
  the matches, as the list page computes them (the portal's own code);
- **exact count only**: ``SELECT count(*)`` over the same matches (what the API's total costs);
- **planner**: the row estimate of ``EXPLAIN`` for the same query (no execution);
- **sample p %**: the matches among a ``TABLESAMPLE SYSTEM (p) REPEATABLE`` of the table's
  pages, times 100 / p; the exact substring test alone (the bigram index cannot narrow a
  sample), with the theme and stakeholder facets estimated from the same rows;
- **first N**: the first N matches in physical order through the bigram index (a bitmap
  heap scan visits pages in order), extrapolated to the table by the page reached:
  N × pages / (last page + 1). Fewer than N found means the whole table was read: exact.

Errors are relative to the exact total, |estimate − exact| / exact; facet errors are the
largest relative error among options holding at least 5 % of the matches.

``python -m bench.experiments.estimates [--per-band 30]``
"""

from __future__ import annotations

import argparse

from . import common

SAMPLE_PERCENTS = (1, 5)
FIRST_N = (1000, 5000)


def _matching(text: str):
    """The published remarks matching ``text`` as the list filters them, and the query."""
    from opinions.browsing import search
    from opinions.browsing.filters import OpinionFilter
    from opinions.models import Opinion

    filterset = OpinionFilter({"q": text}, queryset=Opinion.objects.published(), request=None)
    query = filterset.selection().search
    return search.filter_queryset(Opinion.objects.published(), query), query


def _substring_only(query):
    """The same condition without the bigram index: every term's alternatives as LIKE."""
    from django.contrib.postgres.fields import ArrayField
    from django.db.models import BigIntegerField, Q
    from django.db.models.expressions import RawSQL

    from opinions.models import Opinion

    ids = ArrayField(BigIntegerField())
    queryset = Opinion.objects.published().annotate(
        stakeholder_ids=RawSQL('"opinions_opinion".stakeholder_ids', (), output_field=ids)
    )
    for term in query.terms:
        condition = Q()
        for alternative in term.alternatives:
            condition |= Q(search_text__contains=alternative)
        queryset = queryset.filter(condition)
    return queryset


def _facet_error(estimated: dict, exact: dict, total: int) -> float | None:
    big = [key for key, n in exact.items() if n >= 0.05 * total]
    if not big:
        return None
    return max(abs(estimated.get(key, 0) - exact[key]) / exact[key] for key in big)


def measure_term(text: str, relpages: int) -> dict:
    from opinions.browsing import counts

    matching, query = _matching(text)
    scope = counts.Scope(statuses=("published",))
    with common.timer() as t:
        exact = counts.search_counts(scope, matching)
    result = {"exact_ms": t.ms, "exact": exact.total}
    sql, params = matching.order_by().values("pk").query.sql_with_params()
    result["count_ms"], [(count,)] = common.timed(f"SELECT count(*) FROM ({sql}) m", params)
    assert count == exact.total, (text, count, exact.total)

    with common.timer() as t:
        [(plan,)] = common.rows(f"EXPLAIN (FORMAT JSON) {sql}", params)
    result["planner_ms"], result["planner"] = t.ms, plan[0]["Plan"]["Plan Rows"]

    like = _substring_only(query).order_by().values("theme_id", "stakeholder_ids")
    like_sql, like_params = like.query.sql_with_params()
    table = '"opinions_opinion"'
    for percent in SAMPLE_PERCENTS:
        sampled = like_sql.replace(
            f"FROM {table}", f"FROM {table} TABLESAMPLE SYSTEM ({percent}) REPEATABLE (1)", 1
        )
        elapsed, found = common.timed(
            f"SELECT theme_id, stakeholder_ids, count(*) FROM ({sampled}) s GROUP BY 1, 2",
            like_params,
        )
        scale = 100 / percent
        themes, stakeholders, total = {}, {}, 0
        for theme_id, stakeholder_ids, n in found:
            total += n
            themes[theme_id] = themes.get(theme_id, 0) + n * scale
            for tag in stakeholder_ids or [None]:
                stakeholders[tag] = stakeholders.get(tag, 0) + n * scale
        result[f"sample{percent}_ms"] = elapsed
        result[f"sample{percent}"] = round(total * scale)
        result[f"sample{percent}_theme_error"] = _facet_error(themes, exact.themes, exact.total)
        result[f"sample{percent}_stakeholder_error"] = _facet_error(
            stakeholders, exact.tags["stakeholders"], exact.total
        )

    for n in FIRST_N:
        elapsed, [(found, last_page)] = common.timed(
            "SELECT count(*), max((ctid::text::point)[0])::bigint"
            f" FROM ({sql.replace('SELECT ', 'SELECT ctid, ', 1)} LIMIT %s) m",
            [*params, n],
        )
        if found < n:
            estimate, exact_flag = found, True
        else:
            estimate, exact_flag = round(n * relpages / (last_page + 1)), False
        result[f"first{n}_ms"], result[f"first{n}"] = elapsed, estimate
        result[f"first{n}_exact"] = exact_flag
    return result


def error(estimate, exact) -> float | None:
    return abs(estimate - exact) / exact if exact else None


METHODS = [
    ("exact", "exact, today (total + facets)", None),
    ("count", "exact count only", None),
    ("planner", "planner estimate (EXPLAIN)", "planner"),
    *[(f"sample{p}", f"TABLESAMPLE SYSTEM {p} %", f"sample{p}") for p in SAMPLE_PERCENTS],
    *[(f"first{n}", f"first {n:,} matches, extrapolated", f"first{n}") for n in FIRST_N],
]


def exact_answers(terms: list[dict], key: str) -> str:
    """How many terms the method answered exactly (first N: fewer than N matches)."""
    if key in ("exact", "count"):
        return f"{len(terms)} of {len(terms)}"
    if key.startswith("first"):
        return f"{sum(1 for r in terms if r[f'{key}_exact'])} of {len(terms)}"
    return f"0 of {len(terms)}"


def report(results: list[dict]) -> str:
    from bench.terms import BANDS

    lines = [
        "| band | terms | matches p50 | method | ms p50 | ms p95 | error p50 | error p95 "
        "| error max | theme facet error p50 | exact answers |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for band, label in BANDS.items():
        terms = [r for r in results if r["band"] == band]
        if not terms:
            continue
        for key, name, value in METHODS:
            times = [r[f"{key}_ms"] for r in terms]
            errors = [error(r[value], r["exact"]) for r in terms if r["exact"]] if value else [0.0]
            facet = [r.get(f"{key}_theme_error") for r in terms]
            facet = [f for f in facet if f is not None]
            lines.append(
                f"| {label} | {len(terms)} | {common.median(r['exact'] for r in terms):,.0f} "
                f"| {name} | {common.ms(common.median(times))} | {common.ms(common.p(times, 95))} "
                + (
                    f"| {100 * common.median(errors):.1f} % | {100 * common.p(errors, 95):.1f} % "
                    f"| {100 * max(errors):.1f} % "
                    if value
                    else "| exact | | "
                )
                + f"| {f'{100 * common.median(facet):.1f} %' if facet else '—'} "
                + f"| {exact_answers(terms, key)} |"
            )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-band", type=int, default=30)
    args = parser.parse_args()
    common.setup()
    [(relpages,)] = common.rows("SELECT relpages FROM pg_class WHERE relname = 'opinions_opinion'")
    results = []
    before = common.load_average()
    for term in common.drawn_terms(args.per_band):
        results.append({"text": term.text, "band": term.band} | measure_term(term.text, relpages))
    common.save("estimates", {"load": [before, common.load_average()], "results": results})
    print(f"load average before / after: {before} / {common.load_average()}")
    print(report(results))


if __name__ == "__main__":
    main()
