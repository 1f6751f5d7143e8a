"""Deep pages: OFFSET as today, against keyset pagination with a cheap jump to any page.

The list's order is the document order — (source_document_id, position) with the remarks
without a document last, then created_at, id — served by the partial index
``opinion_published_order_idx``. Measured on the published remarks, unfiltered and for a
theme (the filter of 一覧（テーマ＋…）) and a frequent search term:

- **OFFSET** (today): the page's 50 ids with ``OFFSET (page − 1) × 50``: every row before
  the page is read and thrown away;
- **keyset, next page**: the 50 rows after the previous page's last key (what a 次へ link
  would carry): an index range scan of 50 rows, whatever the depth;
- **boundaries**: the key of every 1,000th row (one index-only pass over the rows, kept
  per data version like the counts — a list of about 900 keys at a million remarks), then
  any page is the nearest boundary plus at most 950 rows: build time and the jump;
- **from the end**: the last page (and any page in the second half) read backwards: the
  index scanned in reverse with the offset counted from the end.

``python -m bench.experiments.keyset``
"""

from __future__ import annotations

import argparse
import math

from . import common

PAGE = 50
STRIDE = 1000  # rows between two boundaries
KEY = "source_document_id, position, created_at, id"


def _where(extra: str) -> str:
    return f"status = 'published'{extra}"


def offset_page(where: str, params: list, offset: int) -> tuple[float, list]:
    return common.timed(
        f"SELECT id FROM opinions_opinion WHERE {where}"
        " ORDER BY source_document_id NULLS LAST, position NULLS LAST, created_at, id"
        f" LIMIT {PAGE} OFFSET %s",
        [*params, offset],
    )


ORDER = "source_document_id NULLS LAST, position NULLS LAST, created_at, id"


def after(where: str, params: list, key: tuple, limit: int, skip: int = 0) -> tuple[float, list]:
    """The rows after ``key`` in the list's order: those with a document after the key by
    a row comparison (an index range scan: no OR, which would make the planner scan from
    the start), then those without a document (they come last), each branch limited."""
    document, position, created, pk = key
    wanted = limit + skip
    if document is None:
        sql = (
            f"SELECT {KEY} FROM opinions_opinion WHERE {where} AND source_document_id IS NULL"
            " AND position IS NULL AND (created_at, id) > (%s, %s)"
            f" ORDER BY {ORDER} LIMIT %s OFFSET %s"
        )
        return common.timed(sql, [*params, created, pk, limit, skip])
    sql = (
        f"SELECT * FROM ((SELECT {KEY} FROM opinions_opinion WHERE {where}"
        " AND (source_document_id, position, created_at, id) > (%s, %s, %s, %s)"
        f" ORDER BY {ORDER} LIMIT %s)"
        f" UNION ALL (SELECT {KEY} FROM opinions_opinion WHERE {where}"
        " AND source_document_id IS NULL AND position IS NULL"
        f" ORDER BY {ORDER} LIMIT %s)) k ORDER BY {ORDER} LIMIT %s OFFSET %s"
    )
    return common.timed(
        sql, [*params, document, position, created, pk, wanted, *params, wanted, limit, skip]
    )


def page_today(page: int) -> float:
    """The list page's own row query (the view's queryset: relations and the published
    response annotated), evaluated for one page by OFFSET."""
    from opinions.models import Opinion
    from opinions.responses.selectors import with_published_response

    queryset = with_published_response(
        Opinion.objects.published().with_list_relations().in_document_order()
    )
    with common.timer() as t:
        list(queryset[(page - 1) * PAGE : page * PAGE])
    return t.ms


def boundaries(where: str, params: list) -> tuple[float, list]:
    return common.timed(
        f"SELECT {KEY} FROM (SELECT {KEY}, row_number() OVER (ORDER BY source_document_id"
        " NULLS LAST, position NULLS LAST, created_at, id) AS n FROM opinions_opinion"
        f" WHERE {where}) k WHERE n %% {STRIDE} = 0 ORDER BY n",
        params,
    )


def jump(where: str, params: list, keys: list, page: int) -> tuple[float, list]:
    """Page ``page`` from the nearest boundary before it."""
    first = (page - 1) * PAGE  # rows before the page
    index = first // STRIDE  # boundaries[i] is row (i + 1) * STRIDE (1-based)
    if index == 0:
        return offset_page(where, params, first)
    elapsed, found = after(where, params, keys[index - 1], PAGE, first - index * STRIDE)
    return elapsed, [row[-1] for row in found]


def from_end(where: str, params: list, total: int, page: int) -> tuple[float, list]:
    """Page ``page`` read backwards from the end of the order."""
    first = (page - 1) * PAGE
    last = min(total, first + PAGE)
    elapsed, found = common.timed(
        f"SELECT id FROM opinions_opinion WHERE {where} ORDER BY source_document_id DESC"
        " NULLS FIRST, position DESC NULLS FIRST, created_at DESC, id DESC LIMIT %s OFFSET %s",
        [*params, last - first, total - last],
    )
    return elapsed, [row[0] for row in reversed(found)]


def measure(name: str, where: str, params: list, repetitions: int) -> dict:
    [(total,)] = common.rows(f"SELECT count(*) FROM opinions_opinion WHERE {where}", params)
    pages = max(1, math.ceil(total / PAGE))
    build_ms, keys = boundaries(where, params)
    result = {"list": name, "rows": total, "pages": pages, "boundaries": len(keys)}
    result["boundaries_ms"] = build_ms
    for label, page in (("page 1,000", min(1000, pages)), ("middle", max(1, pages // 2)),
                        ("last page", pages)):  # fmt: skip
        expected = [row[0] for row in offset_page(where, params, (page - 1) * PAGE)[1]]
        times = {"offset": [], "jump": [], "from_end": [], "next": [], "today": []}
        for _ in range(repetitions):
            if name == "unfiltered":
                times["today"].append(page_today(page))
            elapsed, found = offset_page(where, params, (page - 1) * PAGE)
            times["offset"].append(elapsed)
            elapsed, ids = jump(where, params, keys, page)
            assert ids == expected, (name, label, "jump")
            times["jump"].append(elapsed)
            elapsed, ids = from_end(where, params, total, page)
            assert ids == expected, (name, label, "from the end")
            times["from_end"].append(elapsed)
            if page > 1:  # the previous page's last key, as a 次へ link carries it
                [previous] = common.rows(
                    f"SELECT {KEY} FROM opinions_opinion WHERE id = %s",
                    [offset_page(where, params, (page - 1) * PAGE - 1)[1][0][0]],
                )
                elapsed, found = after(where, params, previous, PAGE)
                assert [row[-1] for row in found] == expected, (name, label, "next")
                times["next"].append(elapsed)
        result[label] = {"page": page} | {
            key: common.median(values) for key, values in times.items() if values
        }
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    common.setup()
    from opinions.browsing import search
    from opinions.models import Theme

    theme = Theme.objects.filter(slug="dai1ki-kadai").first() or Theme.objects.get(level=2)
    subtree = list(Theme.objects.subtree(theme).values_list("pk", flat=True))
    term = "地方"
    before = common.load_average()
    results = [
        measure("unfiltered", _where(""), [], args.repetitions),
        measure(f"theme {theme.slug}", _where(" AND theme_id = ANY(%s)"), [subtree],
                args.repetitions),
        measure(f"search {term}",
                _where(' AND opinions_bigrams(search_text) COLLATE "C" @> %s::text[]'
                       " AND search_text LIKE %s"),
                [search.bigrams(term), f"%{term}%"], args.repetitions),
    ]  # fmt: skip
    common.save("keyset", {"load": [before, common.load_average()], "results": results})
    print(report(results))


def report(results: list[dict]) -> str:
    lines = [
        "| list | rows | boundaries (build ms) | page | the view's page query ms | OFFSET ms "
        "| keyset next ms | jump via boundaries ms | from the end ms |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        for label in ("page 1,000", "middle", "last page"):
            page = r[label]
            lines.append(
                f"| {r['list']} | {r['rows']:,} | {r['boundaries']:,} "
                f"({common.ms(r['boundaries_ms'])}) | {label} ({page['page']:,}) "
                f"| {common.ms(page.get('today'))} | {common.ms(page['offset'])} | {common.ms(page.get('next'))} "
                f"| {common.ms(page['jump'])} | {common.ms(page['from_end'])} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
