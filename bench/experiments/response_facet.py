"""The 対応区分 facet (opinions/responses/selectors.py) against the list's other counts.

``category_facet`` counts the filtered remarks by the category of their published
response with a correlated subquery per remark: the count tables are not involved, so it
reads every remark the list's filters give — all of them for the unfiltered list, every
match of a search (a second pass, after ``search_counts``). Timed here with the counts the
list shows from the count tables (``facets.list_counts``) for the unfiltered and the
filtered list and for a few terms per band, and how many published responses exist.

``python -m bench.experiments.response_facet [--per-band 5]``
"""

from __future__ import annotations

import argparse

from . import common


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-band", type=int, default=5)
    args = parser.parse_args()
    common.setup()
    from django.http import QueryDict
    from django.utils.http import urlencode

    from opinions.browsing import facets
    from opinions.browsing.filters import OpinionFilter
    from opinions.models import Opinion, Theme
    from opinions.responses.selectors import category_facet

    theme = Theme.objects.filter(slug="dai1ki-kadai").first() or Theme.objects.get(level=2)
    cases = [("unfiltered list", {}), ("theme + stakeholder + size", {
        "theme": theme.slug, "stakeholder": "government", "size": "small-municipality"})]  # fmt: skip
    cases += [
        (f"search {t.band}: {t.text}", {"q": t.text}) for t in common.drawn_terms(args.per_band)
    ]
    before = common.load_average()
    results = []
    for name, data in cases:
        filterset = OpinionFilter(
            QueryDict(urlencode(data)),
            queryset=Opinion.objects.published().in_document_order(),
            request=None,
        )
        with common.timer() as counted:
            total, _facets = facets.list_counts(
                filterset.selection(), filterset.queryset, ("published",)
            )
        with common.timer() as facet:
            category_facet(filterset.selection(), filterset.queryset, ("published",))
        results.append(
            {"case": name, "total": total, "counts_ms": counted.ms, "facet_ms": facet.ms}
        )
    [(responses,)] = common.rows("SELECT count(*) FROM opinions_response WHERE state = 'published'")
    data = {"load": [before, common.load_average()], "published_responses": responses,
            "results": results}  # fmt: skip
    common.save("response_facet", data)
    print(report(data))


def report(data: dict) -> str:
    lines = [
        f"Published responses in the data: {data['published_responses']}.",
        "",
        "| list | remarks | counts and facets (list_counts) ms | 対応区分 facet ms |",
        "|---|---:|---:|---:|",
    ]
    for r in data["results"]:
        lines.append(
            f"| {r['case']} | {r['total']:,} | {common.ms(r['counts_ms'])} "
            f"| {common.ms(r['facet_ms'])} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
