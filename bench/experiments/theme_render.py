"""A theme page's time: SQL against Python (templates), and what fewer remark cards per
node would save.

- The largest section's page and a theme page, first visits (caches emptied), split by
  bench/probe.py, with the remarks shown per node (``theme_summary(per_node=…)``: 5 for a
  theme of more than 100 remarks, as built; 20 before) set to 20, 10, 5 and 3 — what
  per-node pagination ("N 件すべてを一覧で見る" after the first few) leaves to render;
- one remark card (``{% remark_card %}``, opinions_extras; ``includes/opinion_row.html``
  when this was first run) rendered alone for 200 remarks with their relations loaded:
  the cost per card.

``python -m bench.experiments.theme_render``
"""

from __future__ import annotations

import argparse

from . import common

PER_NODE = (20, 10, 5, 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=5)
    args = parser.parse_args()
    common.setup()
    from django.template import engines
    from django.test import Client

    from bench.measure import clear_caches, default_pages, request
    from opinions.browsing import themes
    from opinions.models import Opinion

    before = common.load_average()
    pages = {page.name: page for page in default_pages(detail_samples=1)}
    client = Client()
    results = {"pages": [], "load": None}
    defaults = themes.theme_summary.__kwdefaults__
    today = defaults["per_node"]
    for name in ("theme_section", "theme_page"):
        page = pages[name]
        for per_node in PER_NODE:
            defaults["per_node"] = per_node
            samples = []
            for _ in range(args.repetitions):
                clear_caches()
                samples.append(request(client, page.urls[0]))
            results["pages"].append(
                {
                    "page": page.label,
                    "per_node": per_node,
                    "ms": common.median(s.ms for s in samples),
                    "sql_ms": common.median(s.sql_ms for s in samples),
                    "template_ms": common.median(s.template_ms for s in samples),
                    "python_ms": common.median(s.python_ms for s in samples),
                    "kb": samples[-1].bytes / 1024,
                }
            )
    defaults["per_node"] = today
    # The cards each page shows with today's limit.
    from opinions.models import Theme

    for row in results["pages"]:
        slug = pages["theme_section" if "章" in row["page"] else "theme_page"].urls[0]
        theme = Theme.objects.get(slug=slug.rstrip("/").split("/")[-1])
        summary = themes.theme_summary(theme, Opinion.objects.published(), per_node=row["per_node"])
        row["cards"] = sum(len(opinions) for _node, opinions in summary.opinions_by_node)
        row["nodes"] = len(summary.opinions_by_node)

    card = engines["django"].from_string("{% load opinions_extras %}{% remark_card opinion %}")
    remarks = list(Opinion.objects.published().with_list_relations().order_by("-pk")[:200])
    with common.timer() as t:
        for opinion in remarks:
            card.render({"opinion": opinion, "detail_query": ""})
    results["card_ms"] = t.ms / len(remarks)
    results["load"] = [before, common.load_average()]
    common.save("theme_render", results)
    print(report(results))


def report(results: dict) -> str:
    lines = [
        f"One remark card rendered alone: {results['card_ms']:.2f} ms.",
        "",
        "| page | cards per node | cards (nodes) | first visit ms | SQL ms | templates ms "
        "| other Python ms | KB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["pages"]:
        lines.append(
            f"| {row['page']} | {row['per_node']} | {row['cards']} ({row['nodes']}) "
            f"| {common.ms(row['ms'])} | {common.ms(row['sql_ms'])} "
            f"| {common.ms(row['template_ms'])} "
            f"| {common.ms(row['python_ms'] - row['template_ms'])} | {row['kb']:.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
