"""Reads that span relations: facet counts, theme summaries, cross-tabs, related remarks.

Every function here runs a fixed number of queries whatever the number of remarks and
tags; counts are computed by the database, never by loading remarks. All of them take
the queryset of what the user may see, so nothing pending or hidden is ever counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext

from . import counts, search
from .exporters import summary_title
from .filters import UNTAGGED, UNTAGGED_LABELS
from .importers import ParsedDocument, ParsedNode, ParsedOpinion
from .models import Meeting, MunicipalitySize, Opinion, SourceDocument, Stakeholder, TagRule, Theme
from .tagging import Band, Rule, suggest

TAG_AXES = {"size": MunicipalitySize, "stakeholder": Stakeholder}


def list_url(**params) -> str:
    """The opinion list filtered by ``params`` (None values left out)."""
    query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
    return (
        f"{reverse('opinions:opinion-list')}?{query}" if query else reverse("opinions:opinion-list")
    )


def clean_query(data) -> str:
    """``data``'s query string without its empty values (``""`` when nothing is left): the
    address to share or save for a filtered list."""
    pairs = [(key, value) for key, values in data.lists() for value in values if value != ""]
    return f"?{urlencode(pairs)}" if pairs else ""


# --- Theme tree ------------------------------------------------------------------------


@dataclass
class ThemeNode:
    theme: Theme
    count: int = 0  # remarks in this node and below
    children: list[ThemeNode] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return self.theme.level - 1


def theme_counts(opinions: QuerySet, scope: counts.Scope | None = None) -> dict[int, int]:
    """Remarks per theme node (the node itself only).

    Here and below, ``scope`` describes the same remarks as ``opinions`` for the count
    tables (opinions/counts.py); given, the counts are read from them.
    """
    if scope is not None:
        return counts.by_theme(scope)
    return dict(
        opinions.order_by().values("theme_id").annotate(n=Count("pk")).values_list("theme_id", "n")
    )


def theme_tree(counts: dict[int, int], themes: Iterable[Theme] | None = None) -> list[ThemeNode]:
    """The theme tree in document order with counts rolled up from the nodes below.

    Returns every node depth-first; roots are those with ``theme.parent_id is None``.
    """
    themes = list(Theme.objects.in_tree_order() if themes is None else themes)
    nodes = {theme.pk: ThemeNode(theme) for theme in themes}
    for theme in themes:
        if theme.parent_id in nodes:
            nodes[theme.parent_id].children.append(nodes[theme.pk])
    # Depth-first order lists parents before children: add in reverse to roll up.
    for theme in reversed(themes):
        node = nodes[theme.pk]
        node.count = counts.get(theme.pk, 0) + sum(child.count for child in node.children)
    return [nodes[theme.pk] for theme in themes]


# --- Facets of the list -------------------------------------------------------------------


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

    @property
    def disabled(self) -> bool:
        return self.count == 0 and not self.selected


@dataclass
class Facets:
    theme: list[FacetOption]
    size: list[FacetOption]
    stakeholder: list[FacetOption]
    document: list[FacetOption]
    meeting: list[FacetOption]


def _cleaned(filterset, name):
    return filterset.form.cleaned_data.get(name) if filterset.is_valid() else None


def _untagged(opinions: QuerySet, field_name: str) -> QuerySet:
    """The remarks of ``opinions`` without any tag of the many-to-many ``field_name``."""
    relation = Opinion._meta.get_field(field_name)
    through = relation.remote_field.through
    return opinions.filter(
        ~Exists(through.objects.filter(**{relation.m2m_field_name(): OuterRef("pk")}))
    )


def _tag_counts(opinions: QuerySet, field_name: str) -> dict[int | None, int]:
    relation = Opinion._meta.get_field(field_name)
    tag_column = f"{relation.m2m_reverse_field_name()}_id"
    through = relation.remote_field.through
    found = dict(
        through.objects.filter(**{f"{relation.m2m_field_name()}__in": opinions.values("pk")})
        .values(tag_column)
        .annotate(n=Count("pk"))
        .values_list(tag_column, "n")
    )
    if untagged := _untagged(opinions, field_name).count():
        found[None] = untagged
    return found


def tag_counts(
    opinions: QuerySet, field_name: str, scope: counts.Scope | None = None
) -> dict[int | None, int]:
    """Remarks of ``opinions`` per tag of the many-to-many ``field_name``, and under None
    those without any tag of it (規模を問わない, 関係者の指定なし): from the count tables in
    one query, else in two."""
    if scope is not None:
        return counts.by_tag(scope, field_name)
    return _tag_counts(opinions, field_name)


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


def _meeting_counts(pairs: Iterable[tuple[int | None, int | None, int]]) -> dict[int, int]:
    """Remarks per meeting from (meeting, document, remarks): made at it directly, or
    printed in a document covering it."""
    covered: dict[int, set[int]] = defaultdict(set)
    for document_id, meeting_id in SourceDocument.meetings.through.objects.values_list(
        "sourcedocument_id", "meeting_id"
    ):
        covered[document_id].add(meeting_id)
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

    def __init__(self, filterset):
        self.filterset = filterset

    def _without(self, name):
        return self.filterset.filter_queryset_excluding(self.filterset.queryset, name)

    def total(self):
        return self._without("").count()

    def themes(self):
        return theme_counts(self._without("theme"))

    def tags(self, name, field_name):
        return _tag_counts(self._without(name), field_name)

    def documents(self):
        return _document_counts(self._without("document"))

    def meetings(self):
        return _meeting_counts(_venue_pairs(self._without("meeting")))


class _TableCounts:
    """The same from the count tables; documents and meetings share one query when
    neither is filtered (the two scopes are then the same)."""

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

    def tags(self, name, field_name):
        return counts.by_tag(self.scope.without(name), field_name)

    def documents(self):
        return _documents_of(self._venue_pairs("document"))

    def meetings(self):
        return _meeting_counts(self._venue_pairs("meeting"))


class _SearchCounts:
    """The same for a search, from one pass over its matches (counts.search_counts)."""

    def __init__(self, found: counts.ListCounts):
        self.found = found

    def total(self):
        return self.found.total

    def themes(self):
        return self.found.themes

    def tags(self, name, field_name):
        return self.found.tags[field_name]

    def documents(self):
        return _documents_of(self.found.documents)

    def meetings(self):
        return _meeting_counts(self.found.meetings)


def _count_source(filterset, statuses):
    scope = filterset.count_scope(statuses) if statuses is not None else None
    if scope is None:
        return _LiveCounts(filterset)
    if query := filterset.applied_search:
        matching = search.filter_queryset(filterset.queryset, query)
        return _SearchCounts(counts.search_counts(scope, matching))
    return _TableCounts(scope)


def list_counts(filterset, statuses=None) -> tuple[int, Facets]:
    """The number of remarks the list's filters give, and every facet's options with their
    counts. ``statuses`` are those of ``filterset.queryset`` (``visible_statuses``); without
    them the remarks are counted.

    On PostgreSQL from the count tables (a few queries over a few thousand rows), or for a
    search from one statement over its matches; elsewhere from the remarks, one query per
    facet. Either way a fixed number of queries.
    """
    source = _count_source(filterset, statuses)
    return source.total(), _facets(filterset, source)


def list_total(filterset, statuses=None) -> int:
    """The number of remarks the filters give: from the count tables when they can answer;
    a search's matches are counted directly (grouping them for facets would cost more)."""
    if filterset.applied_search:
        return _LiveCounts(filterset).total()
    return _count_source(filterset, statuses).total()


def _facets(filterset, source) -> Facets:
    """For every option of every facet, how many remarks it would give together with the
    other active filters (the option's own facet left out)."""
    chosen_theme = _cleaned(filterset, "theme")
    theme_options = [
        FacetOption(
            value=node.theme.slug,
            label=node.theme.short_label,
            title=node.theme.display_name,
            count=node.count,
            selected=chosen_theme is not None and chosen_theme.pk == node.theme.pk,
            depth=node.depth,
        )
        for node in theme_tree(source.themes())
    ]

    tag_options = {}
    for name, model in TAG_AXES.items():
        chosen = {tag.pk for tag in (_cleaned(filterset, name) or [])}
        found = source.tags(name, model.opinion_field)
        tag_options[name] = [
            FacetOption(
                tag.slug,
                tag.name,
                found.get(tag.pk, 0),
                tag.pk in chosen,
                title=tag.description,
                active=tag.is_active,
            )
            for tag in model.objects.all()
            # Inactive tags only where they still hold remarks (or are chosen), marked so.
            if tag.is_active or tag.pk in chosen or found.get(tag.pk)
        ]
        # The remarks without a tag of this kind, as an option like the tags.
        tag_options[name].append(
            FacetOption(
                UNTAGGED,
                str(UNTAGGED_LABELS[name]),
                found.get(None, 0),
                filterset.untagged(name),
                lang="",
            )
        )

    # Meetings from a GROUP BY (meeting, document): a remark counts for its own meeting and
    # for every meeting its document covers (once, even when both say the same meeting).
    # This replaced a correlated COUNT per meeting (2.3 s of 3.2 s at 100k remarks).
    document_counts = source.documents()
    meeting_counts = source.meetings()
    chosen_document = _cleaned(filterset, "document")
    documents = [
        FacetOption(
            document.slug,
            str(document),
            document_counts.get(document.pk, 0),
            chosen_document is not None and chosen_document.pk == document.pk,
        )
        for document in SourceDocument.objects.all()
    ]
    chosen_meeting = _cleaned(filterset, "meeting")
    meetings = [
        FacetOption(
            str(meeting.pk),
            f"{meeting.committee.name} {meeting}",
            meeting_counts.get(meeting.pk, 0),
            chosen_meeting is not None and chosen_meeting.pk == meeting.pk,
        )
        for meeting in Meeting.objects.select_related("committee")
    ]
    return Facets(
        theme_options, tag_options["size"], tag_options["stakeholder"], documents, meetings
    )


@dataclass(frozen=True)
class NearQuery:
    """A query near one that found nothing, and how many remarks it finds."""

    text: str  # what changes, in the interface's words
    value: str  # the option's label (data, but for 規模を問わない / 関係者の指定なし)
    lang: str
    url: str
    count: int


def nearest_queries(filterset, facets: Facets, *, limit: int = 6) -> list[NearQuery]:
    """For a list that found nothing: the queries one change away that find something,
    with their counts, most first — another option added to a chosen tag facet, or another
    option instead of a chosen theme, document or meeting.

    Every count is exact and already known: an option's count is that of the other filters
    with the option in place of its facet's, and with the facet's chosen values finding
    nothing, adding an option finds exactly the option's remarks.
    """
    found = []
    for name in ("size", "stakeholder"):
        chosen = [option for option in getattr(facets, name) if option.selected]
        if not chosen:
            continue
        label = filterset.form[name].label
        for option in getattr(facets, name):
            if option.count and not option.selected:
                url = filterset._url_with(**{name: [o.value for o in chosen] + [option.value]})
                text = gettext("%(facet)sに加える") % {"facet": label}
                found.append(NearQuery(text, option.label, option.lang, url, option.count))
    for name in ("theme", "document", "meeting"):
        options = getattr(facets, name)
        if not any(option.selected for option in options):
            continue
        label = filterset.form[name].label
        lang = "" if name == "meeting" else "ja"
        for option in options:
            if option.count and not option.selected:
                url = filterset._url_with(**{name: option.value})
                text = gettext("%(facet)sを替える") % {"facet": label}
                found.append(NearQuery(text, option.label, lang, url, option.count))
    found.sort(key=lambda near: -near.count)
    return found[:limit]


# --- Theme pages --------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    count: int
    url: str
    percent: float  # of the largest bar, for the chart
    lang: str = "ja"  # the label's ("" for 規模を問わない / 関係者の指定なし)
    active: bool = True  # False for a deactivated tag that still holds remarks


def _bars(tags: Iterable, counts: dict[int | None, int], url_for, untagged_label: str) -> list[Bar]:
    """A bar per tag, then one for the remarks without any (``counts[None]``)."""
    # A deactivated tag is no longer offered, but its remarks still count: it stays, marked.
    entries = [
        (tag.name, counts.get(tag.pk, 0), url_for(tag.slug), "ja", tag.is_active)
        for tag in tags
        if tag.is_active or counts.get(tag.pk)
    ]
    entries.append((untagged_label, counts.get(None, 0), url_for(UNTAGGED), "", True))
    largest = max((entry[1] for entry in entries), default=0) or 1
    return [
        Bar(label, count, url, 100 * count / largest, lang, active)
        for label, count, url, lang, active in entries
    ]


@dataclass
class ThemeSummary:
    node: ThemeNode
    trail: list[Theme]
    subtree: list[ThemeNode]  # the node and everything below, depth first
    size_bars: list[Bar]
    stakeholder_bars: list[Bar]
    opinions_by_node: list[tuple[ThemeNode, list[Opinion]]]
    per_node_limit: int


def theme_summary(
    theme: Theme, visible: QuerySet, scope: counts.Scope | None = None, *, per_node: int = 20
) -> ThemeSummary:
    """Everything the theme page shows, in a fixed number of queries.

    The remarks are listed per node, at most ``per_node`` each (in document order), picked
    by a window function in one query.
    """
    themes = list(Theme.objects.in_tree_order())
    # The subtree's ids as constants, from the themes already loaded (see OpinionFilter.ids).
    parent_of = {t.pk: t.parent_id for t in themes}
    below = {t.pk for t in themes if theme.pk in (t.pk, t.parent_id, parent_of.get(t.parent_id))}
    in_theme = visible.filter(theme_id__in=sorted(below))
    if scope is not None:
        scope = replace(scope, theme_ids=tuple(sorted(below)))
    nodes = theme_tree(theme_counts(in_theme, scope), themes)
    by_pk = {node.theme.pk: node for node in nodes}
    node = by_pk[theme.pk]
    subtree_ids = {t.pk for t in _subtree_themes(node)}
    subtree = [n for n in nodes if n.theme.pk in subtree_ids]

    trail, cursor = [], theme
    parents = {t.pk: t for t in themes}
    while cursor is not None:
        trail.append(cursor)
        cursor = parents.get(cursor.parent_id)

    def tag_url(axis):
        return lambda slug: list_url(theme=theme.slug, **{axis: slug})

    size_bars = _bars(
        MunicipalitySize.objects.all(),
        tag_counts(in_theme, "municipality_sizes", scope),
        tag_url("size"),
        str(UNTAGGED_LABELS["size"]),
    )
    stakeholder_bars = _bars(
        Stakeholder.objects.all(),
        tag_counts(in_theme, "stakeholders", scope),
        tag_url("stakeholder"),
        str(UNTAGGED_LABELS["stakeholder"]),
    )

    ranked = in_theme.filter(pk__in=_first_per_node(in_theme, sorted(below), per_node))
    grouped: dict[int, list[Opinion]] = defaultdict(list)
    for opinion in ranked.with_list_relations().in_document_order():
        grouped[opinion.theme_id].append(opinion)
    opinions_by_node = [(n, grouped[n.theme.pk]) for n in subtree if grouped[n.theme.pk]]
    return ThemeSummary(
        node, trail[::-1], subtree, size_bars, stakeholder_bars, opinions_by_node, per_node
    )


def _first_per_node(in_theme: QuerySet, theme_ids: list[int], per_node: int) -> list[int]:
    """The ids of the first ``per_node`` remarks of each node, in document order.

    On PostgreSQL one UNION ALL of a short index scan per node (opinion_published_theme_idx);
    a window function over the whole subtree sorted every remark of it first (2.4 s for a
    theme of 170,000 remarks).
    """
    order = [F("source_document").asc(nulls_last=True), F("position").asc(nulls_last=True), "pk"]
    if not connection.features.supports_slicing_ordering_in_compound or not theme_ids:
        ranked = in_theme.annotate(
            rank=Window(RowNumber(), partition_by=[F("theme_id")], order_by=order)
        ).filter(rank__lte=per_node)
        return list(ranked.values_list("pk", flat=True))
    parts = [
        in_theme.filter(theme_id=pk).order_by(*order).values_list("pk", flat=True)[:per_node]
        for pk in theme_ids
    ]
    return list(parts[0].union(*parts[1:], all=True)) if len(parts) > 1 else list(parts[0])


def _subtree_themes(node: ThemeNode):
    yield node.theme
    for child in node.children:
        yield from _subtree_themes(child)


@dataclass(frozen=True)
class UntaggedColumn:
    """The cross-tab's column (or row) of remarks without a tag of the axis's kind."""

    name: str
    pk: None = None
    slug: str = UNTAGGED
    is_active: bool = True


# The cross-tab's axes: theme × one kind of tag, or municipality size × stakeholder.
PAIR_AXIS = "size-stakeholder"
CROSSTAB_AXES = (*TAG_AXES, PAIR_AXIS)


@dataclass
class CrossTab:
    axis: str
    columns: list  # tags, then an UntaggedColumn
    # (theme node — or, for the pair, a size tag or UntaggedColumn — , [(count, list URL)])
    rows: list[tuple[object, list[tuple[int, str]]]]
    largest: int
    row_totals: list[int] = field(default_factory=list)  # remarks of each row
    column_totals: list[int] = field(default_factory=list)  # remarks of each column
    total: int = 0  # remarks in the table (a remark may count in several cells)

    def level(self, count: int) -> int:
        """0–5: the heat of a cell, relative to the largest cell."""
        if not count:
            return 0
        return 1 + min(4, int(4 * count / self.largest)) if self.largest else 0

    @property
    def lines(self) -> list[tuple[object, list[tuple[int, str]], int]]:
        """(row head, cells, row total) for the template."""
        return [
            (head, cells, total)
            for (head, cells), total in zip(self.rows, self.row_totals, strict=True)
        ]


def _with_untagged(model, axis: str, used: dict | None = None) -> list:
    """The axis's tags — a deactivated one too while remarks still hold it (marked as
    such) — then the column of remarks without any."""
    used = used or {}
    tags = [tag for tag in model.objects.all() if tag.is_active or used.get(tag.pk)]
    return [*tags, UntaggedColumn(str(UNTAGGED_LABELS[axis]))]


def _theme_tag_pairs(
    visible: QuerySet, field_name: str, scope
) -> list[tuple[int, int | None, int]]:
    """(theme id, tag id or None for none, remarks) from the tables or the remarks."""
    if scope is not None:
        return counts.by_theme_and_tag(scope, field_name)
    relation = Opinion._meta.get_field(field_name)
    tag_column = f"{relation.m2m_reverse_field_name()}_id"
    pairs = list(
        relation.remote_field.through.objects.filter(opinion__in=visible.values("pk"))
        .values("opinion__theme_id", tag_column)
        .annotate(n=Count("pk"))
        .values_list("opinion__theme_id", tag_column, "n")
    )
    untagged = _untagged(visible, field_name).order_by().values("theme_id").annotate(n=Count("pk"))
    return pairs + [(row["theme_id"], None, row["n"]) for row in untagged]


def _size_stakeholder_pairs(visible: QuerySet, scope) -> list[tuple[int | None, int | None, int]]:
    """(size id, stakeholder id, remarks), None for a remark without either kind."""
    if scope is not None:
        return counts.by_tag_pair(scope, "municipality_sizes", "stakeholders")
    sizes = Opinion.municipality_sizes.through.objects
    stakeholders = Opinion.stakeholders.through.objects
    with_size = list(
        sizes.filter(opinion__in=visible.values("pk"))
        .values("municipalitysize_id", "opinion__stakeholders")
        .annotate(n=Count("opinion_id"))
        .values_list("municipalitysize_id", "opinion__stakeholders", "n")
    )
    no_size = _untagged(visible, "municipality_sizes")
    without_size = list(
        stakeholders.filter(opinion__in=no_size.values("pk"))
        .values("stakeholder_id")
        .annotate(n=Count("opinion_id"))
        .values_list("stakeholder_id", "n")
    )
    neither = _untagged(no_size, "stakeholders").count()
    return (
        with_size
        + [(None, stakeholder, n) for stakeholder, n in without_size]
        + ([(None, None, neither)] if neither else [])
    )


def crosstab(
    visible: QuerySet,
    axis: str,
    scope: counts.Scope | None = None,
    *,
    document: SourceDocument | None = None,
    meeting: Meeting | None = None,
) -> CrossTab:
    """Themes (with their subthemes rolled in) × tags of ``axis`` — or sizes × stakeholders
    for ``PAIR_AXIS`` — with a column (and for the pair a row) for remarks without a tag of
    the kind, the totals of each row and column, optionally for one document or meeting."""
    if document is not None:
        visible = visible.filter(source_document=document)
        scope = scope and replace(scope, document_id=document.pk)
    if meeting is not None:
        visible = visible.for_meeting(meeting)
        if scope is not None:
            covering = SourceDocument.objects.filter(meetings=meeting).values_list("pk", flat=True)
            scope = replace(scope, meeting_id=meeting.pk, meeting_document_ids=tuple(covering))
    restriction = {
        "document": document.slug if document else None,
        "meeting": meeting.pk if meeting else None,
    }
    per_theme = theme_counts(visible, scope)
    total = sum(per_theme.values())
    if axis == PAIR_AXIS:
        return _pair_crosstab(visible, scope, restriction, total)
    model = TAG_AXES[axis]
    per_tag: dict[int | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for theme_id, tag_id, n in _theme_tag_pairs(visible, model.opinion_field, scope):
        per_tag[tag_id][theme_id] += n
    column_counts = tag_counts(visible, model.opinion_field, scope)
    columns = _with_untagged(model, axis, column_counts)
    rows, row_totals, largest = [], [], 0
    for node in theme_tree(per_theme):
        if node.theme.level > 2:
            continue
        subtree_ids = [t.pk for t in _subtree_themes(node)]
        cells = []
        for tag in columns:
            count = sum(per_tag[tag.pk].get(pk, 0) for pk in subtree_ids)
            if node.theme.level == 2:
                largest = max(largest, count)
            cells.append(
                (count, list_url(theme=node.theme.slug, **{axis: tag.slug}, **restriction))
            )
        rows.append((node, cells))
        row_totals.append(node.count)
    return CrossTab(
        axis,
        columns,
        rows,
        largest,
        row_totals,
        [column_counts.get(tag.pk, 0) for tag in columns],
        total,
    )


def _pair_crosstab(visible, scope, restriction, total) -> CrossTab:
    cells_of: dict[tuple[int | None, int | None], int] = defaultdict(int)
    for size_id, stakeholder_id, n in _size_stakeholder_pairs(visible, scope):
        cells_of[size_id, stakeholder_id] += n
    sizes = _with_untagged(MunicipalitySize, "size")
    columns = _with_untagged(Stakeholder, "stakeholder")
    size_counts = tag_counts(visible, "municipality_sizes", scope)
    stakeholder_counts = tag_counts(visible, "stakeholders", scope)
    rows, largest = [], 0
    for size in sizes:
        cells = []
        for stakeholder in columns:
            count = cells_of.get((size.pk, stakeholder.pk), 0)
            largest = max(largest, count)
            url = list_url(size=size.slug, stakeholder=stakeholder.slug, **restriction)
            cells.append((count, url))
        rows.append((size, cells))
    return CrossTab(
        PAIR_AXIS,
        columns,
        rows,
        largest,
        [size_counts.get(size.pk, 0) for size in sizes],
        [stakeholder_counts.get(tag.pk, 0) for tag in columns],
        total,
    )


def crosstab_table(table: CrossTab, *, row_header: str, total_label: str) -> list[list]:
    """The cross-tab as rows of plain values for CSV / XLSX: a header, one row per theme
    (or size) with its total, and the column totals."""
    names = [str(column.name) for column in table.columns]
    lines = [[row_header, *names, total_label]]
    for head, cells, row_total in table.lines:
        label = head.theme.display_name if isinstance(head, ThemeNode) else str(head.name)
        lines.append([label, *(count for count, _url in cells), row_total])
    lines.append([total_label, *table.column_totals, table.total])
    return lines


# --- Exports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportRecord:
    """One remark as an export row shows it: plain values, no model instance."""

    pk: int
    trail: tuple[str, str, str]  # section, theme and subtheme names ("" where none)
    body: str
    sizes: list[str]
    stakeholders: list[str]
    meetings: list[str]  # the meeting it was made at, else those its document covers
    document: str
    status: str  # the label, in the active language
    path: str  # the detail page


def export_records(opinions: QuerySet, *, chunk_size: int = 2000) -> Iterator[ExportRecord]:
    """``opinions``, in their order, as export rows, streamed.

    Tuples through a server-side cursor; each chunk's tags in one query per vocabulary;
    themes, documents, meetings and tag names read once. Memory stays flat however many
    remarks, and a row costs tens of microseconds where model instances with prefetched
    relations cost 330 (bench/results.md).
    """
    themes = {theme.pk: theme for theme in Theme.objects.all()}
    trails = {}
    for pk, theme in themes.items():
        names, node = ["", "", ""], theme
        while node is not None:
            names[node.level - 1] = node.name
            node = themes.get(node.parent_id)
        trails[pk] = tuple(names)
    meetings = {meeting.pk: str(meeting) for meeting in Meeting.objects.all()}
    documents = {document.pk: str(document) for document in SourceDocument.objects.all()}
    covered: dict[int, list[str]] = defaultdict(list)
    for document_id, meeting_id in SourceDocument.meetings.through.objects.order_by(
        "meeting__committee", "meeting__number"
    ).values_list("sourcedocument_id", "meeting_id"):
        covered[document_id].append(meetings[meeting_id])
    statuses = {value: str(label) for value, label in Opinion.Status.choices}
    marker = 2**62  # a pk no remark has: the detail URL's pattern, reversed once
    path = reverse("opinions:opinion-detail", args=[marker]).replace(str(marker), "{}")

    def records(chunk):
        ids = [row[0] for row in chunk]
        sizes = _tag_names("municipality_sizes", ids)
        stakeholders = _tag_names("stakeholders", ids)
        for pk, theme_id, body, document_id, meeting_id, status in chunk:
            yield ExportRecord(
                pk=pk,
                trail=trails[theme_id],
                body=body,
                sizes=sizes.get(pk, []),
                stakeholders=stakeholders.get(pk, []),
                meetings=[meetings[meeting_id]] if meeting_id else covered.get(document_id, []),
                document=documents.get(document_id, ""),
                status=statuses.get(status, status),
                path=path.format(pk),
            )

    rows = opinions.values_list(
        "pk", "theme_id", "body", "source_document_id", "meeting_id", "status"
    ).iterator(chunk_size=chunk_size)
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == chunk_size:
            yield from records(chunk)
            chunk = []
    yield from records(chunk)


def _tag_names(field: str, ids: list[int]) -> dict[int, list[str]]:
    """The names of the tags of ``field`` on each of the remarks ``ids``, in tag order."""
    relation = Opinion._meta.get_field(field)
    tag = relation.m2m_reverse_field_name()
    names: dict[int, list[str]] = defaultdict(list)
    pairs = relation.remote_field.through.objects.filter(opinion_id__in=ids)
    for opinion_id, name in pairs.order_by(f"{tag}__position", f"{tag}__name").values_list(
        "opinion_id", f"{tag}__name"
    ):
        names[opinion_id].append(name)
    return names


# --- Detail page ------------------------------------------------------------------------


def neighbours(opinion: Opinion, visible: QuerySet) -> tuple[Opinion | None, Opinion | None]:
    """The previous and next remark in the same document's order (two queries)."""
    if opinion.source_document_id is None:
        return None, None
    same = visible.filter(source_document_id=opinion.source_document_id).only(
        "pk", "body", "position"
    )
    previous = same.filter(position__lt=opinion.position).order_by("-position").first()
    following = same.filter(position__gt=opinion.position).order_by("position").first()
    return previous, following


@dataclass(frozen=True)
class HitContext:
    """Where a remark opened from the list stands among the list's hits."""

    position: int  # 1-based, in the list's order
    total: int
    previous_url: str | None
    next_url: str | None
    list_url: str  # the same list page


def hit_context(
    filterset, opinion: Opinion, *, page: int, page_size: int, statuses=None
) -> HitContext | None:
    """The remark's place among the hits of the list it was opened from, and the hits
    before and after it; None when it is not among them (the data changed since).

    Reads the ids of the list page it was on and of the pages either side (one query),
    never every hit, and counts them as the list does.
    """
    start = max(0, (page - 2) * page_size)
    window = list(filterset.qs.values_list("pk", flat=True)[start : start + 3 * page_size])
    if opinion.pk not in window:
        return None
    index = window.index(opinion.pk)
    position = start + index + 1

    def url_of(pk: int, at: int) -> str:
        query = filterset._url_with(page=str((at - 1) // page_size + 1))
        return f"{reverse('opinions:opinion-detail', args=[pk])}{query}"

    previous = url_of(window[index - 1], position - 1) if index > 0 else None
    following = url_of(window[index + 1], position + 1) if index + 1 < len(window) else None
    back = filterset._url_with(page=str((position - 1) // page_size + 1))
    return HitContext(
        position,
        list_total(filterset, statuses),
        previous,
        following,
        f"{reverse('opinions:opinion-list')}{back}",
    )


def _bigram_set(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _related_ids(
    opinion: Opinion, visible: QuerySet, sizes: set[int], stakeholders: set[int], pool: int
) -> list[int]:
    """The ``pool`` newest remarks sharing the theme or any tag with ``opinion``.

    On PostgreSQL, the newest ``pool`` per theme and per tag, each an index scan that
    stops early, in one UNION ALL; an OR of the three conditions instead hashes every
    remark of the commonest tag first (0.5 s at a million remarks).
    """
    others = visible.exclude(pk=opinion.pk).order_by("-pk")
    if not connection.features.supports_slicing_ordering_in_compound:
        matching = others.filter(
            Q(theme_id=opinion.theme_id)
            | Q(pk__in=visible.with_any_tag("municipality_sizes", sizes).values("pk"))
            | Q(pk__in=visible.with_any_tag("stakeholders", stakeholders).values("pk"))
        )
        return list(matching.values_list("pk", flat=True)[:pool])
    parts = [others.filter(theme_id=opinion.theme_id).values_list("pk", flat=True)[:pool]]
    parts += [
        others.filter(municipality_sizes=tag).values_list("pk", flat=True)[:pool] for tag in sizes
    ]
    parts += [
        others.filter(stakeholders=tag).values_list("pk", flat=True)[:pool] for tag in stakeholders
    ]
    ids = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return sorted(set(ids), reverse=True)[:pool]


def _tag_pairs(field: str, ids: list[int]) -> dict[int, set[int]]:
    relation = Opinion._meta.get_field(field)
    tag_column = f"{relation.m2m_reverse_field_name()}_id"
    tags: dict[int, set[int]] = defaultdict(set)
    pairs = relation.remote_field.through.objects.filter(opinion_id__in=ids)
    for opinion_id, tag_id in pairs.values_list("opinion_id", tag_column):
        tags[opinion_id].add(tag_id)
    return tags


def related_opinions(
    opinion: Opinion, visible: QuerySet, *, limit: int = 5, pool: int = 200
) -> list[Opinion]:
    """Up to ``limit`` remarks sharing tags or theme with ``opinion``, ranked by shared tags
    and text similarity (bigram overlap). Candidates are capped at ``pool``.

    Candidates are scored from plain tuples and only the ``limit`` chosen are loaded as
    remarks: 200 model instances with their tags cost more than the rest of the page.
    """
    sizes = {tag.pk for tag in opinion.municipality_sizes.all()}
    stakeholders = {tag.pk for tag in opinion.stakeholders.all()}
    ids = _related_ids(opinion, visible, sizes, stakeholders, pool)
    candidates = visible.filter(pk__in=ids).values_list("pk", "theme_id", "search_text")
    their_sizes = _tag_pairs("municipality_sizes", ids)
    their_stakeholders = _tag_pairs("stakeholders", ids)
    grams = _bigram_set(opinion.search_text)

    def score(candidate) -> tuple[float, int]:
        pk, theme_id, text = candidate
        shared = len(sizes & their_sizes[pk]) + len(stakeholders & their_stakeholders[pk])
        theirs = _bigram_set(text)
        similarity = len(grams & theirs) / len(grams | theirs) if grams and theirs else 0
        same_theme = 0.5 if theme_id == opinion.theme_id else 0
        return shared + same_theme + 3 * similarity, pk  # newer first on a tie, as before

    chosen = [pk for pk, *_ in sorted(candidates, key=score, reverse=True)[:limit]]
    loaded = visible.filter(pk__in=chosen).select_related("theme").in_bulk()
    return [loaded[pk] for pk in chosen]


# --- Submission ----------------------------------------------------------------------------


def near_duplicates(
    text: str, candidates: QuerySet, *, threshold: float = 0.8, limit: int = 3
) -> list[Opinion]:
    """Published or pending remarks among ``candidates`` whose text is very similar to
    ``text``. Callers pass only what the user may open (``Opinion.objects.openable_by``).

    What "very similar" means, and how the candidates are found whatever the database and
    its locale, is ``opinions.analysis.related.near_duplicates_among``: the one definition,
    which the import preview uses too.
    """
    from .analysis.related import near_duplicates_among

    pool = candidates.filter(status__in=[Opinion.Status.PUBLISHED, Opinion.Status.PENDING])
    return near_duplicates_among([text], pool, threshold=threshold, limit=limit)[0]


def rules_and_bands() -> tuple[list[Rule], list[Band]]:
    """The active suggestion rules and population bands, keyed by (model, pk)."""
    rules = [
        Rule(key=(type(rule.tag), rule.tag.pk), pattern=rule.pattern, is_regex=rule.is_regex)
        for rule in TagRule.objects.active().select_related("municipality_size", "stakeholder")
        if rule.tag.is_active
    ]
    bands = [
        Band(key=(MunicipalitySize, size.pk), low=size.min_population, high=size.max_population)
        for size in MunicipalitySize.objects.active()
    ]
    return rules, bands


@dataclass
class Suggestion:
    field: str  # the form field: municipality_sizes or stakeholders
    tag: MunicipalitySize | Stakeholder
    reason: str

    @property
    def value(self) -> str:
        return f"{self.field}:{self.tag.slug}"


def tag_suggestions(text: str, *, chosen: Iterable = ()) -> list[Suggestion]:
    """Tags the rules suggest for ``text`` that are not among ``chosen`` yet."""
    rules, bands = rules_and_bands()
    found = suggest(text, rules, bands)
    chosen_keys = {(type(tag), tag.pk) for tag in chosen}
    wanted = {key: reason for key, reason in found.items() if key not in chosen_keys}
    suggestions = []
    for model in (MunicipalitySize, Stakeholder):
        ids = [pk for (kind, pk) in wanted if kind is model]
        for tag in model.objects.filter(pk__in=ids):
            suggestions.append(Suggestion(model.opinion_field, tag, wanted[(model, tag.pk)]))
    return suggestions


# --- The 「主なご意見」 document ------------------------------------------------------------


def summary_document(
    opinions: QuerySet, *, title: str, label: str = "", keep_unused_themes: bool = False
) -> ParsedDocument:
    """The remarks of ``opinions`` as the committee's document tree, in document order
    (sections, themes and subthemes by ``Theme.objects.in_tree_order()``, remarks by
    document position). Three queries, four with ``keep_unused_themes``.

    Hidden (非公開) remarks are left out: they were withdrawn, or a revised document no
    longer has them; so are returned (差し戻し) ones: 事務局 sent them back to be revised,
    so their text is not yet what the member means to say. Nodes without remarks are dropped; with ``keep_unused_themes`` (a
    whole source document is exported), the nodes that no remark at all uses are kept in
    the sections that have remarks here, as the committee's document prints them (the
    seed has three), so that importing the text gives back the same tree.
    """
    shown = opinions.exclude(status__in=[Opinion.Status.HIDDEN, Opinion.Status.RETURNED])
    by_theme: dict[int, list[ParsedOpinion]] = defaultdict(list)
    for theme_id, body in shown.in_document_order().values_list("theme_id", "body"):
        by_theme[theme_id].append(ParsedOpinion(body=body))

    themes = list(Theme.objects.in_tree_order())
    nodes = theme_tree(theme_counts(shown), themes)
    keep = {node.theme.pk for node in nodes if node.count}
    if keep_unused_themes:
        parents = {theme.pk: theme.parent_id for theme in themes}

        def section_of(pk: int) -> int:
            while parents[pk] is not None:
                pk = parents[pk]
            return pk

        everywhere = theme_tree(theme_counts(Opinion.objects.all()), themes)
        unused = {node.theme.pk for node in everywhere if not node.count}
        covered = {pk for pk in keep if parents[pk] is None}
        keep |= {pk for pk in unused if section_of(pk) in covered}

    document = ParsedDocument(title=title, label=label)
    parsed: dict[int, ParsedNode] = {}
    for node in nodes:
        theme = node.theme
        if theme.pk not in keep:
            continue
        parsed[theme.pk] = ParsedNode(
            level=theme.level, name=theme.name, opinions=by_theme[theme.pk]
        )
        if theme.parent_id is None:
            document.sections.append(parsed[theme.pk])
        else:
            parsed[theme.parent_id].children.append(parsed[theme.pk])
    return document


def summary_for(filterset, *, meetings: list[Meeting]) -> ParsedDocument:
    """The 「主なご意見」 document for the list's filters and, optionally, several meetings.

    Titled as the chosen source document (and then, if no other filter narrows it, the
    whole document with its empty themes), else after the meetings (第１回、第２回における
    主なご意見), else 主なご意見.
    """
    opinions = filterset.qs
    if meetings:
        opinions = opinions.for_meetings(meetings)
    filterset.is_valid()
    chosen = getattr(filterset.form, "cleaned_data", {})
    document = chosen.get("document")
    narrowed = meetings or any(chosen.get(name) for name in ("q", "theme", "size", "stakeholder"))
    if document is None:
        return summary_document(opinions, title=summary_title(m.number for m in meetings))
    return summary_document(
        opinions, title=document.title, label=document.label, keep_unused_themes=not narrowed
    )
