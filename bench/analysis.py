"""What the text analysis costs at the size of the database it runs on.

Run against an analysed database (``generate_opinions --count N``, then ``analyse
--by-sentence``), after ``collectstatic`` (the production settings serve hashed files),
with ``DJANGO_SETTINGS_MODULE=bench.settings``::

    python -m bench.analysis --runs 9

Each measurement is repeated ``--runs`` times and reported as the median with the
fastest and slowest run, in milliseconds:

- **a new remark**: a text no remark has (seed sentences recombined, different every
  run, so the embedding is computed each time): its embedding; the query for its nearest
  published remarks (``vectors.nearest`` over the probed cells, the index row included);
  ``near_duplicates()`` whole (embedding, meaning and wording candidates, difflib); and
  ``refresh()`` of it saved as a remark (embedding, neighbours, offers to their lists),
  inside a transaction that is rolled back, so the database is left as it was; and
  ``near_duplicates_of_each()`` of 50 new texts at once, as an import preview checks a
  document's new remarks (three runs at most);
- **a detail page**: ``related_by_meaning()`` of a different published remark each run
  (the stored neighbours read and filtered), and the whole page through Django's test
  client with the cache cleared first (the first visitor's page).

Nothing here is part of ``make bench``; the README's table of these numbers says how and
where they were measured.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time


def timed(function, *args, **kwargs) -> float:
    started = time.perf_counter()
    function(*args, **kwargs)
    return (time.perf_counter() - started) * 1000


def neighbours_of(vector) -> None:
    """A new remark's nearest published remarks, as ``vectors.refresh`` looks them up
    (the index row read too)."""
    from opinions.analysis import vectors

    found = vectors.nearest(
        vector, vectors.published(), centroids=vectors.centroids_of(vectors.current_index())
    )
    assert found


def page(client, url: str) -> None:
    assert client.get(url).status_code == 200


def summary(name: str, values: list[float]) -> str:
    return f"| {name} | {statistics.median(values):.0f} | {min(values):.0f}–{max(values):.0f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="repetitions of each measurement")
    parser.add_argument("--seed", type=int, default=0, help="which texts and remarks are used")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()

    from django.contrib.auth.models import AnonymousUser
    from django.core.cache import cache
    from django.db import transaction
    from django.test import Client

    from opinions import caching
    from opinions.analysis import vectors
    from opinions.analysis.models import RemarkAnalysis
    from opinions.analysis.related import (
        near_duplicates,
        near_duplicates_of_each,
        related_by_meaning,
    )
    from opinions.generators import split_sentences
    from opinions.models import Opinion

    rng = random.Random(args.seed)
    index = vectors.current_index()
    if index is None:
        raise SystemExit("no analysis index: run manage.py analyse (--by-sentence) first")
    analysed = RemarkAnalysis.objects.filter(method=vectors.METHOD).count()
    centroids = vectors.centroids_of(index)
    cells = 1 if centroids is None else len(centroids)
    print(f"{Opinion.objects.count():,} remarks, {analysed:,} analysed, {cells:,} cells")

    seed_sentences = sorted(
        {s for body in Opinion.objects.filter(pk__lte=200).values_list("body", flat=True)
         for s in split_sentences(body)}
    )  # fmt: skip

    def new_text(run: int) -> str:
        parts = rng.sample(seed_sentences, 3)
        return "".join(parts) + f"（試行{run}）"

    vectors.embed(["モデルを読み込む。"])  # the model's one-time load is not what is measured
    theme = Opinion.objects.published().first().theme
    rows: dict[str, list[float]] = {
        "embedding of a new remark": [],
        "its nearest published remarks (the query)": [],
        "near_duplicates() of a new text": [],
        "refresh() of a new remark (rolled back)": [],
        "near_duplicates_of_each() of 50 new texts (an import preview)": [],
        "related_by_meaning() of a remark": [],
        "detail page, uncached": [],
    }
    read_per_search = []
    for run in range(args.runs):
        text = new_text(run)
        rows["embedding of a new remark"].append(timed(vectors.embed, [text]))
        vector = vectors.embed([text])[0]
        rows["its nearest published remarks (the query)"].append(timed(neighbours_of, vector))
        probed = [int(c) for c in vectors.cells_for(vector[None, :], centroids, vectors.PROBE)[0]]
        read_per_search.append(RemarkAnalysis.objects.filter(cell__in=probed).count())
        rows["near_duplicates() of a new text"].append(
            timed(near_duplicates, new_text(run + 10_000), visible_to=AnonymousUser())
        )
        with transaction.atomic():
            opinion = Opinion.objects.create(
                body=new_text(run + 20_000), theme=theme, status="published"
            )
            rows["refresh() of a new remark (rolled back)"].append(
                timed(vectors.refresh, [opinion.pk])
            )
            transaction.set_rollback(True)

    for run in range(min(args.runs, 3)):
        texts = [new_text(30_000 + 100 * run + i) for i in range(50)]
        rows["near_duplicates_of_each() of 50 new texts (an import preview)"].append(
            timed(near_duplicates_of_each, texts, visible_to=AnonymousUser())
        )

    published = Opinion.objects.published()
    candidates = list(
        RemarkAnalysis.objects.filter(
            method=vectors.METHOD, opinion__in=published.values("pk")
        ).values_list("opinion_id", flat=True)[:5000]
    )
    client = Client()
    for pk in rng.sample(candidates, min(args.runs, len(candidates))):
        opinion = Opinion.objects.get(pk=pk)
        rows["related_by_meaning() of a remark"].append(
            timed(related_by_meaning, opinion, published)
        )
        cache.clear()
        caching.clear_local()
        rows["detail page, uncached"].append(timed(page, client, opinion.get_absolute_url()))

    print(f"remarks read per search (4 cells): median {statistics.median(read_per_search):.0f}")
    print("| measurement | median ms | fastest–slowest ms |")
    print("| --- | ---: | ---: |")
    for name, values in rows.items():
        print(summary(name, values))


if __name__ == "__main__":
    main()
