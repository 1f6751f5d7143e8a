"""Postings that carry the count tables' key: a two-character term counted from a table.

A remark contains a two-character term exactly when the term is one of its bigrams, so
per bigram the remarks per count-table key — status, theme, size ids, stakeholder ids
(``bench_bigram_tagcount``), and status, document, meeting (``bench_bigram_venuecount``) —
give a two-character search's total and facets as a sum over a few thousand rows, the way
the count tables give the list's (opinions/counts.py), with the same ``Scope.where()``.

Measured: the build of both tables from the remarks (one pass computing every remark's
distinct bigrams), their size on disk, then for each two-character term the benchmark
draws the counts from the tables (the same statements as the count tables, restricted to
the bigram) against ``counts.search_counts`` today, and that they agree. What stays to be
done per search — the page's 50 rows in document order — is timed too, and what one
remark's write would cost (its distinct bigrams' delta rows).

The tables are the experiment's own (``bench_*``) and dropped at the end unless --keep.

``python -m bench.experiments.postings [--keep]``
"""

from __future__ import annotations

import argparse

from . import common

BUILD = """
DROP TABLE IF EXISTS bench_bigram_tagcount, bench_bigram_venuecount, bench_bigram_cells;
-- One pass: every remark's distinct bigrams, grouped both ways at once (grouping sets).
CREATE UNLOGGED TABLE bench_bigram_cells AS
SELECT b.bigram, o.status, o.theme_id, o.size_ids, o.stakeholder_ids,
       coalesce(o.source_document_id, 0) AS source_document_id,
       coalesce(o.meeting_id, 0) AS meeting_id,
       GROUPING(o.theme_id) AS venue, count(*)::bigint AS n
FROM opinions_opinion o,
     LATERAL (SELECT DISTINCT x COLLATE "C" AS bigram
              FROM unnest(opinions_bigrams(o.search_text)) AS x) AS b
GROUP BY GROUPING SETS (
    (b.bigram, o.status, o.theme_id, o.size_ids, o.stakeholder_ids),
    (b.bigram, o.status, coalesce(o.source_document_id, 0), coalesce(o.meeting_id, 0))
);
CREATE TABLE bench_bigram_tagcount AS
SELECT bigram, status, theme_id, size_ids, stakeholder_ids, n FROM bench_bigram_cells WHERE venue = 0;
CREATE INDEX ON bench_bigram_tagcount (bigram);
CREATE TABLE bench_bigram_venuecount AS
SELECT bigram, status, source_document_id, meeting_id, n FROM bench_bigram_cells WHERE venue = 1;
CREATE INDEX ON bench_bigram_venuecount (bigram);
DROP TABLE bench_bigram_cells;
ANALYZE bench_bigram_tagcount;
ANALYZE bench_bigram_venuecount
"""


def postings_counts(term: str, scope) -> dict:
    """Total, theme, size and stakeholder facets and venue pairs of a 2-character term."""
    from opinions.browsing.counts import _tags_or_none

    where, params = scope.where()
    table = "bench_bigram_tagcount WHERE bigram = %s AND"
    total = common.rows(f"SELECT coalesce(sum(n), 0)::bigint FROM {table} {where}", [term, *params])
    themes = common.rows(
        f"SELECT theme_id, sum(n)::bigint FROM {table} {where} GROUP BY 1", [term, *params]
    )
    tags = {}
    for name, column in (("municipality_sizes", "size_ids"), ("stakeholders", "stakeholder_ids")):
        tags[name] = dict(
            common.rows(
                f"SELECT tag, sum(n)::bigint FROM bench_bigram_tagcount, {_tags_or_none(column)}"
                f" AS tag WHERE bigram = %s AND {where} GROUP BY 1",
                [term, *params],
            )
        )
    venues = common.rows(
        "SELECT meeting_id, source_document_id, sum(n)::bigint FROM bench_bigram_venuecount"
        " WHERE bigram = %s AND status = ANY(%s) GROUP BY 1, 2",
        [term, list(scope.statuses)],
    )
    return {"total": total[0][0], "themes": dict(themes), "tags": tags, "venues": venues}


def write_cost(connection) -> list[float]:
    """One remark's write: its distinct bigrams as +1 delta rows in both tables (the
    count tables' pattern), for 50 remarks, rolled back."""
    from django.db import transaction

    sample = [
        pk for (pk,) in common.rows("SELECT id FROM opinions_opinion ORDER BY id DESC LIMIT 50")
    ]
    times = []
    with transaction.atomic():
        for pk in sample:
            with connection.cursor() as cursor, common.timer() as t:
                cursor.execute(
                    "INSERT INTO bench_bigram_tagcount SELECT DISTINCT b, status, theme_id,"
                    " size_ids, stakeholder_ids, 1 FROM opinions_opinion,"
                    " unnest(opinions_bigrams(search_text)) b WHERE id = %s",
                    [pk],
                )
                cursor.execute(
                    "INSERT INTO bench_bigram_venuecount SELECT DISTINCT b, status,"
                    " coalesce(source_document_id, 0), coalesce(meeting_id, 0), 1"
                    " FROM opinions_opinion, unnest(opinions_bigrams(search_text)) b WHERE id = %s",
                    [pk],
                )
            times.append(t.ms)
        transaction.set_rollback(True)
    return times


def size_mb(table: str) -> float:
    [(size,)] = common.rows("SELECT pg_total_relation_size(%s)", [table])
    return size / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the tables")
    parser.add_argument("--per-band", type=int, default=30)
    args = parser.parse_args()
    common.setup()
    from django.db import connection

    from opinions.browsing import counts, search
    from opinions.models import Opinion

    from .estimates import _matching

    before = common.load_average()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        cursor.execute("SET work_mem = '256MB'")
        with common.timer() as build:
            for statement in BUILD.split(";\n"):
                if statement.strip():
                    cursor.execute(statement)
        cursor.execute("RESET work_mem")
    [(tag_rows, bigrams, pairs)] = common.rows(
        "SELECT count(*), count(DISTINCT bigram), sum(n) FROM bench_bigram_tagcount"
    )
    [(venue_rows,)] = common.rows("SELECT count(*) FROM bench_bigram_venuecount")
    sizes = {
        "tagcount_mb": size_mb("bench_bigram_tagcount"),
        "venuecount_mb": size_mb("bench_bigram_venuecount"),
        "opinions_mb": size_mb("opinions_opinion"),
        "gin_mb": size_mb("opinion_search_bigrams_gin"),
    }
    results = []
    scope = counts.Scope(statuses=("published",))
    # Every drawn term of two characters: the kanji bands, and katakana or Latin ones.
    terms = [t for t in common.drawn_terms(args.per_band) if len(t.text) == 2]
    for term in terms:
        matching, query = _matching(term.text)
        if len(query.terms[0].alternatives) > 1:
            results.append({"text": term.text, "band": term.band, "synonyms": True})
            continue
        with common.timer() as today:
            exact = counts.search_counts(scope, matching)
        with common.timer() as table:
            found = postings_counts(search.bigrams(term.text)[0], scope)
        pks = Opinion.objects.published().in_document_order()
        with common.timer() as page:
            list(search.filter_queryset(pks, query).values_list("pk", flat=True)[:50])
        results.append(
            {
                "text": term.text,
                "band": term.band,
                "exact": exact.total,
                "today_ms": today.ms,
                "postings_ms": table.ms,
                "page_rows_ms": page.ms,
                "agree": found["total"] == exact.total
                and {k: v for k, v in found["themes"].items() if v} == exact.themes
                and {k: v for k, v in found["tags"]["stakeholders"].items() if v}
                == exact.tags["stakeholders"],
            }
        )
    write_times = write_cost(connection)
    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE bench_bigram_tagcount, bench_bigram_venuecount")
    data = {
        "load": [before, common.load_average()],
        "build_s": build.ms / 1000,
        "remark_bigram_pairs": pairs,
        "bigrams": bigrams,
        "tagcount_rows": tag_rows,
        "venuecount_rows": venue_rows,
        "write_ms_p50": common.median(write_times),
        "write_ms_p95": common.p(write_times, 95),
        **sizes,
        "results": results,
    }
    common.save("postings", data)
    print(report(data))


def report(data: dict) -> str:
    lines = [
        f"Build {data['build_s']:.0f} s ({data['remark_bigram_pairs']:,} remark × bigram pairs, "
        f"{data['bigrams']:,} bigrams); bench_bigram_tagcount {data['tagcount_rows']:,} rows "
        f"{data['tagcount_mb']:.0f} MB, bench_bigram_venuecount {data['venuecount_rows']:,} rows "
        f"{data['venuecount_mb']:.0f} MB (the remarks {data['opinions_mb']:.0f} MB, their bigram "
        f"GIN index {data['gin_mb']:.0f} MB). One remark's delta rows: "
        f"{data['write_ms_p50']:.1f} ms p50, {data['write_ms_p95']:.1f} ms p95.",
        "",
        "| band | terms | matches p50 | today (search_counts) p50 / p95 ms "
        "| postings p50 / p95 ms | page rows p50 / p95 ms | agree |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    from bench.terms import BANDS

    for band in BANDS:
        rows = [r for r in data["results"] if r["band"] == band and not r.get("synonyms")]
        if not rows:
            continue
        synonyms = sum(1 for r in data["results"] if r["band"] == band and r.get("synonyms"))

        def pair(key, rows=rows):
            values = [r[key] for r in rows]
            return f"{common.ms(common.median(values))} / {common.ms(common.p(values, 95))}"

        lines.append(
            f"| {band} | {len(rows)}{f' (+{synonyms} with synonyms)' if synonyms else ''} "
            f"| {common.median(r['exact'] for r in rows):,.0f} | {pair('today_ms')} "
            f"| {pair('postings_ms')} | {pair('page_rows_ms')} "
            f"| {sum(r['agree'] for r in rows)} of {len(rows)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
