"""A search's total and facets: exact up to a few thousand matches, 「約 N 件」 above.

Counting a search's matches exactly means visiting every one of them: 0.3–1.3 s for the
frequent terms at a million remarks, whatever the index (bench/results.md, "Counts of
large results as estimates"). Beyond ``OPINIONS_EXACT_COUNTS_UP_TO`` matches the numbers
are estimated instead, from a block sample of the remarks' table sized to read about
``SAMPLE_ROWS`` rows (``TABLESAMPLE SYSTEM``, 1 % at a million remarks, 30–50 ms), and
shown as such: 「約 51 万件」, the facets' counts 「約」 too.

- **Exactness where it matters.** The sample decides first: when it says the search
  finds at most the threshold, the exact statement (counts.search_counts) runs, which for
  so few matches is cheap. A frequent term's total is exact too when the choices hold
  few remarks (``COUNTED_CHOICES_UP_TO``): it is counted among them, read through the
  choices' indexes, while the facets, which count the term in the other options, stay
  estimates; a sample holds too few of such a narrow result to estimate it (92 for 267).
  A table small enough that the sample would be most of it is always counted exactly
  (the seed, any test).
- **One estimate for every reader.** The list, its 対応区分 facet, a remark's 「n / 約 N
  件目」 and the API's ``count`` (with ``count_is_estimate``) all come from
  :func:`search_counts`, over the same sampled pages (REPEATABLE): no two disagree.
  Exports never estimate: they stream and count every row.
- **Nothing unpublished counted.** The sample is filtered by the audience's statuses
  inside the statement, as the exact counts are, and scaled by the exact number of such
  remarks (count tables) over those sampled: a ratio estimate, which corrects for the
  sample's varying size.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db.models import QuerySet

from . import counts, search

# About this many remarks are read for an estimate, whatever the size of the table.
SAMPLE_ROWS = 10_000
# Above this share of the table, sampling costs nearly as much as counting.
LARGEST_SAMPLE_PERCENT = 50.0
# A page read in the list's order may walk this many remarks (about 20–40 ms).
WALKED_ROWS = 20_000
# Choices holding at most this many remarks have a frequent term's total counted exactly
# among them (their indexes, each remark's text tested: 34 ms for a theme's 14,669 at a
# million remarks, bench/results.md).
COUNTED_CHOICES_UP_TO = 30_000


def _scaled(found: Mapping, factor: float) -> dict:
    return {key: round(n * factor) for key, n in found.items()}


def _scaled_pairs(pairs: list, factor: float) -> list:
    return [(first, second, round(n * factor)) for first, second, n in pairs]


def search_counts(
    scope: counts.Scope, opinions: QuerySet, query: search.Query
) -> counts.ListCounts:
    """The total and facets of ``query`` over ``opinions`` (of ``scope.statuses``), with
    the scope's choices: exact when the search finds at most the threshold, else
    estimated (``estimated`` set), the total still exact within narrow choices
    (``total_exact``)."""
    visible = counts.total(counts.Scope(scope.statuses))
    percent = 100.0 * SAMPLE_ROWS / visible if visible else 100.0
    if percent < LARGEST_SAMPLE_PERCENT:
        sampled = counts.sampled_search_counts(
            scope, search.filter_queryset(opinions, query, use_index=False), percent
        )
        if rows := sampled.extras.get("sampled", 0):
            factor = visible / rows
            if sampled.extras.get("matches", 0) * factor > settings.OPINIONS_EXACT_COUNTS_UP_TO:
                total, exact, within = round(sampled.total * factor), False, None
                if (chosen := counts.total(scope)) <= COUNTED_CHOICES_UP_TO:
                    # The choices hold few remarks: the total is counted among them, the
                    # facets (the term's matches in the other options) stay estimates.
                    total = counts.search_total(
                        scope, search.filter_queryset(opinions, query, use_index=False)
                    )
                    exact, within = True, chosen
                return counts.ListCounts(
                    total=total,
                    themes=_scaled(sampled.themes, factor),
                    tags={name: _scaled(found, factor) for name, found in sampled.tags.items()},
                    documents=_scaled_pairs(sampled.documents, factor),
                    meetings=_scaled_pairs(sampled.meetings, factor),
                    estimated=True,
                    total_exact=exact,
                    share=total / visible,
                    within=within,
                )
    found = counts.search_counts(scope, search.filter_queryset(opinions, query))
    if percent < LARGEST_SAMPLE_PERCENT:
        # Its share tells read_in_order too: 6,151 matches of a million (課題 継続) are met
        # within 7,400 remarks of the list's order (8–12 ms), where the bigram index finds
        # and sorts all of them again for the page (27 ms).
        found.share = found.total / visible
    return found


def read_in_order(
    share: float | None,
    *,
    page: int,
    per_page: int,
    sort: str,
    statuses: Sequence[str],
    within: int | None = None,
) -> bool:
    """Whether a page of a search is read by walking the list's order index and testing
    each remark's text, rather than through the bigram index: when the search matches a
    large ``share`` of the remarks (known once counted, exactly or estimated, on a table
    large enough to sample), the first pages are met within a few thousand rows (0.9 ms
    for page 1 of システム, 5 % of a million remarks), where the bigram index finds all
    54,000 matches to sort them (497 ms). The planner cannot tell the two apart: it
    estimates the bigram condition at a few hundred rows. Deep pages and the relevance
    order, which need every match, keep the index, and so does 新しい順 unless the audience
    reads one of the ``statuses`` (staff read several): its index gives that order one
    status at a time (opinion_status_newest_idx), so a walk over several would sort every
    remark.

    Within narrow choices (``within``: the remarks they hold, at most
    ``COUNTED_CHOICES_UP_TO``) any page is read testing the text, in any order: the walk
    cannot leave the choices' remarks, and through the bigram index the planner walks them
    all the same, computing each remark's bigrams (地域 in a theme for one stakeholder: 280
    ms for 15 matches, against the 60 of testing the text).
    """
    if within is not None and within <= COUNTED_CHOICES_UP_TO:
        return True
    if not share or sort == "relevance" or (sort == "newest" and len(statuses) != 1):
        return False
    return page * per_page / share <= WALKED_ROWS
