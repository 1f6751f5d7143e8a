"""The list's total and facets: for every option of every facet, how many remarks it would
give with the other choices of the selection (the option's own facet left out).

Counted in a fixed number of queries whatever the number of remarks: on PostgreSQL from
the count tables, or for a search from one pass over its matches (counts.search_counts);
elsewhere, or when an axis cannot be counted there, from the remarks, one query a facet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db.models import Count, QuerySet
from django.utils.translation import gettext

from . import counts, estimates, vocabularies
from .axes import AXES, TAG_AXES, UNTAGGED, TagAxis
from .selection import Selection
from .themes import theme_tree


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool
    depth: int = 0
    title: str = ""
    lang: str = "ja"  # the label's: data, but for an option in the interface's words
    active: bool = True  # False for a deactivated tag that still holds remarks
    estimated: bool = False  # the count is an estimate (「約」): 0 may still find some

    @property
    def disabled(self) -> bool:
        return self.count == 0 and not self.selected and not self.estimated


class Facets(dict):
    """Each counted facet's options by axis name: ``facets["size"]``, or ``facets.size``
    (as templates read it). ``estimated``: the counts are estimates, for a search finding
    many remarks (estimates.py); ``total_estimated``: so is the list's total (unless
    narrow choices had it counted exactly)."""

    estimated = False
    total_estimated = False
    # A search's: the list's share of the audience's remarks (estimates.read_in_order).
    share: float | None = None
    # The remarks of narrow choices the total was counted among (estimates.read_in_order).
    within: int | None = None

    def __getattr__(self, name: str) -> list[FacetOption]:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


# --- Where the counts come from -------------------------------------------------------------


def _document_counts(opinions: QuerySet) -> dict[int, int]:
    return dict(
        opinions.values("source_document_id")
        .annotate(n=Count("pk"))
        .values_list("source_document_id", "n")
    )


def _venue_pairs(opinions: QuerySet) -> list[tuple[int | None, int | None, int]]:
    return list(
        opinions.values("meeting_id", "source_document_id")
        .annotate(n=Count("pk"))
        .values_list("meeting_id", "source_document_id", "n")
    )


def _meeting_counts(
    pairs: Iterable[tuple[int | None, int | None, int]], covered: dict[int, set[int]]
) -> dict[int, int]:
    """Remarks per meeting from (meeting, document, remarks): made at it directly, or
    printed in a document covering it (``covered``: document → its meetings)."""
    totals: dict[int, int] = defaultdict(int)
    for meeting_id, document_id, n in pairs:
        for meeting in covered.get(document_id, set()) | ({meeting_id} - {None}):
            totals[meeting] += n
    return totals


def _documents_of(pairs) -> dict[int, int]:
    totals: dict[int, int] = defaultdict(int)
    for _meeting, document, n in pairs:
        if document is not None:
            totals[document] += n
    return totals


class _LiveCounts:
    """The list's counts from the remarks themselves: one query per facet."""

    # Exact; only a search's counts (_SearchCounts) may be estimates.
    estimated = total_estimated = False
    share = within = None

    def __init__(self, selection: Selection, opinions: QuerySet):
        self.selection = selection
        self.opinions = opinions

    def _without(self, name):
        return self.selection.apply(self.opinions, without=name).order_by()

    def total(self):
        return self._without("").count()

    def themes(self):
        return counts.theme_counts(self._without("theme"))

    def tags(self, axis: TagAxis):
        return counts.tag_counts(self._without(axis.name), axis)

    def documents(self):
        return _document_counts(self._without("document"))

    def meeting_pairs(self):
        return _venue_pairs(self._without("meeting"))


class _TableCounts:
    """The same from the count tables; documents and meetings share one query when
    neither is filtered (the two scopes are then the same)."""

    estimated = total_estimated = False
    share = within = None

    def __init__(self, scope: counts.Scope):
        self.scope = scope
        self._venues = {}

    def _venue_pairs(self, name):
        scope = self.scope.without(name)
        if scope not in self._venues:
            self._venues[scope] = counts.by_venue(scope)
        return self._venues[scope]

    def total(self):
        return counts.total(self.scope)

    def themes(self):
        return counts.by_theme(self.scope.without("theme"))

    def tags(self, axis: TagAxis):
        return counts.by_tag(self.scope.without(axis.name), axis)

    def documents(self):
        return _documents_of(self._venue_pairs("document"))

    def meeting_pairs(self):
        return self._venue_pairs("meeting")


class _SearchCounts:
    """The same for a search, from one pass over its matches (counts.search_counts)."""

    def __init__(self, found: counts.ListCounts):
        self.found = found
        self.estimated = found.estimated
        self.total_estimated = found.estimated and not found.total_exact
        self.share, self.within = found.share, found.within

    def total(self):
        return self.found.total

    def themes(self):
        return self.found.themes

    def tags(self, axis: TagAxis):
        return self.found.tags[axis.name]

    def documents(self):
        return _documents_of(self.found.documents)

    def meeting_pairs(self):
        return self.found.meetings


def _count_source(selection: Selection, opinions: QuerySet, statuses):
    scope = selection.scope(statuses) if statuses is not None else None
    if scope is None:
        return _LiveCounts(selection, opinions)
    if selection.search:
        # The search over what the audience may see; the scope's key carries the rest.
        # Exact up to a few thousand matches, estimated above (estimates.py).
        return _SearchCounts(estimates.search_counts(scope, opinions, selection.search))
    return _TableCounts(scope)


def list_counts(
    selection: Selection,
    opinions: QuerySet,
    statuses=None,
    names: vocabularies.Vocabularies | None = None,
) -> tuple[int, Facets]:
    """The number of remarks ``selection`` gives of ``opinions``, and every facet's options
    with their counts (``Facets.estimated`` when they are estimates). ``statuses`` are
    those of ``opinions`` (``visible_statuses``); without them the remarks are counted.
    ``names``: the vocabularies the options name (:func:`vocabularies.of`), read here if
    not given."""
    source = _count_source(selection, opinions, statuses)
    return source.total(), _facets(selection, source, names or vocabularies.read())


class ListTotal(NamedTuple):
    count: int
    estimated: bool  # a search's estimate, shown 「約」 (the total's, as the list's)
    share: float | None  # a search's: of the audience's remarks (read_in_order)
    within: int | None  # the remarks of narrow choices it was counted among (read_in_order)


def list_total(selection: Selection, opinions: QuerySet, statuses=None) -> ListTotal:
    """The number of remarks ``selection`` gives, whether it is an estimate, and its share:
    the same number as :func:`list_counts` (the count tables, or a search's exact or
    estimated counts), so the list, a remark's 「n / N 件目」 and the API agree."""
    source = _count_source(selection, opinions, statuses)
    return ListTotal(source.total(), source.total_estimated, source.share, source.within)


# --- The options ---------------------------------------------------------------------------


def _theme_options(source, selection: Selection, names) -> list[FacetOption]:
    chosen = selection.chosen("theme")
    return [
        FacetOption(
            value=node.theme.slug,
            label=node.theme.short_label,
            title=node.theme.display_name,
            count=node.count,
            selected=chosen is not None and chosen.theme.pk == node.theme.pk,
            depth=node.depth,
        )
        for node in theme_tree(source.themes(), names.themes)
    ]


def _tag_options(source, selection: Selection, axis: TagAxis, names) -> list[FacetOption]:
    choice = selection.chosen(axis.name)
    chosen = set(choice.ids) if choice else set()
    found = source.tags(axis)
    options = [
        FacetOption(
            tag.slug,
            tag.name,
            found.get(tag.pk, 0),
            tag.pk in chosen,
            title=tag.description,
            active=tag.is_active,
        )
        for tag in names.tags[axis.name]
        # Inactive tags only where they still hold remarks (or are chosen), marked so.
        if tag.is_active or tag.pk in chosen or found.get(tag.pk)
    ]
    # The remarks without a tag of this kind, as an option like the tags.
    options.append(
        FacetOption(
            UNTAGGED,
            str(axis.untagged_label),
            found.get(None, 0),
            bool(choice and choice.untagged),
            lang="",
        )
    )
    return options


def _document_options(source, selection: Selection, names) -> list[FacetOption]:
    found = source.documents()
    chosen = selection.chosen("document")
    return [
        FacetOption(
            slug,
            name,
            found.get(pk, 0),
            chosen is not None and chosen.document.pk == pk,
        )
        for pk, slug, name in names.documents
    ]


def _meeting_options(source, selection: Selection, names) -> list[FacetOption]:
    # Meetings from a GROUP BY (meeting, document): a remark counts for its own meeting and
    # for every meeting its document covers (once, even when both say the same meeting).
    # This replaced a correlated COUNT per meeting (2.3 s of 3.2 s at 100k remarks).
    found = _meeting_counts(source.meeting_pairs(), names.covered)
    chosen = selection.chosen("meeting")
    return [
        FacetOption(
            str(pk),
            name,
            found.get(pk, 0),
            chosen is not None and chosen.meeting.pk == pk,
        )
        for pk, name in names.meetings
    ]


def _facets(selection: Selection, source, names: vocabularies.Vocabularies) -> Facets:
    facets = Facets()
    facets.estimated, facets.total_estimated = source.estimated, source.total_estimated
    facets.share, facets.within = source.share, source.within
    for name, axis in AXES.items():
        if name == "theme":
            facets[name] = _theme_options(source, selection, names)
        elif isinstance(axis, TagAxis):
            facets[name] = _tag_options(source, selection, axis, names)
        elif name == "document":
            facets[name] = _document_options(source, selection, names)
        elif name == "meeting":
            facets[name] = _meeting_options(source, selection, names)
        # The response facet counts live, apart (responses.selectors.category_facet).
    if facets.estimated:
        for options in facets.values():
            for option in options:
                option.estimated = True
    return facets


# --- A list that found nothing -------------------------------------------------------------


@dataclass(frozen=True)
class NearQuery:
    """A query near one that found nothing, and how many remarks it finds."""

    text: str  # what changes, in the interface's words
    value: str  # the option's label (data, but for 規模を問わない / 関係者の指定なし)
    lang: str
    url: str
    count: int


def nearest_queries(selection: Selection, facets: Facets, *, limit: int = 6) -> list[NearQuery]:
    """For a list that found nothing: the queries one change away that find something,
    with their counts, most first — another option added to a chosen tag facet, or another
    option instead of a chosen theme, document or meeting.

    Every count is exact and already known: an option's count is that of the other filters
    with the option in place of its facet's, and with the facet's chosen values finding
    nothing, adding an option finds exactly the option's remarks.
    """
    found = []
    # Tag facets first: on a tie of counts, adding a tag comes before replacing a choice.
    for name in [*TAG_AXES, *(name for name in facets if name not in TAG_AXES)]:
        options = facets[name]
        if not any(option.selected for option in options):
            continue
        label = AXES[name].label
        if name in TAG_AXES:
            chosen = [option.value for option in options if option.selected]
            for option in options:
                if option.count and not option.selected:
                    url = selection.url_with(**{name: [*chosen, option.value]})
                    text = gettext("%(facet)sに加える") % {"facet": label}
                    found.append(NearQuery(text, option.label, option.lang, url, option.count))
            continue
        lang = "" if name == "meeting" else "ja"
        for option in options:
            if option.count and not option.selected:
                url = selection.url_with(**{name: option.value})
                text = gettext("%(facet)sを替える") % {"facet": label}
                found.append(NearQuery(text, option.label, lang, url, option.count))
    found.sort(key=lambda near: -near.count)
    return found[:limit]
