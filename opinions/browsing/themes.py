"""The theme tree with counts, and everything a theme page shows.

Every function here runs a fixed number of queries whatever the number of remarks and
tags, and takes the queryset of what the user may see, so nothing pending or hidden is
ever counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from ..models import Opinion, Theme
from . import cards, counts
from .axes import SIZE, STAKEHOLDER, UNTAGGED, ThemeChoice
from .selection import list_url


@dataclass
class ThemeNode:
    theme: Theme
    count: int = 0  # remarks in this node and below
    children: list[ThemeNode] = field(default_factory=list)

    @property
    def depth(self) -> int:
        return self.theme.level - 1


def theme_tree(per_theme: dict[int, int], themes: Iterable[Theme] | None = None) -> list[ThemeNode]:
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
        node.count = per_theme.get(theme.pk, 0) + sum(child.count for child in node.children)
    return [nodes[theme.pk] for theme in themes]


# --- Theme pages ----------------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    count: int
    url: str
    percent: float  # of the largest bar, for the chart
    lang: str = "ja"  # the label's ("" for 規模を問わない / 関係者の指定なし)
    active: bool = True  # False for a deactivated tag that still holds remarks


def _bars(tags: Iterable, found: dict[int | None, int], url_for, untagged_label: str) -> list[Bar]:
    """A bar per tag, then one for the remarks without any (``found[None]``)."""
    # A deactivated tag is no longer offered, but its remarks still count: it stays, marked.
    entries = [
        (tag.name, found.get(tag.pk, 0), url_for(tag.slug), "ja", tag.is_active)
        for tag in tags
        if tag.is_active or found.get(tag.pk)
    ]
    entries.append((untagged_label, found.get(None, 0), url_for(UNTAGGED), "", True))
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
    theme: Theme,
    visible: QuerySet,
    scope: counts.Scope | None = None,
    *,
    per_node: int = 5,
    whole_up_to: int = 100,
) -> ThemeSummary:
    """Everything the theme page shows, in a fixed number of queries.

    The remarks are listed per node in document order: all of them while the theme has at
    most ``whole_up_to`` (a page read, and printed, whole), else the first ``per_node`` of
    each node with a link to all of them in the list, so that the page's rendering grows
    with its nodes, not its remarks (about 4 ms a card: a section's page at a million
    remarks spent 1,058 ms in Python with 20 a node, 254 ms with 5; bench/results.md).
    """
    themes = list(Theme.objects.in_tree_order())
    # The subtree's ids as constants, from the themes already loaded (see ThemeAxis.choose).
    parent_of = {t.pk: t.parent_id for t in themes}
    below = {t.pk for t in themes if theme.pk in (t.pk, t.parent_id, parent_of.get(t.parent_id))}
    in_theme = visible.filter(theme_id__in=sorted(below))
    if scope is not None:
        scope = scope.narrowed("theme", ThemeChoice(theme, tuple(sorted(below))))
    nodes = theme_tree(counts.theme_counts(in_theme, scope), themes)
    by_pk = {node.theme.pk: node for node in nodes}
    node = by_pk[theme.pk]
    if node.count <= whole_up_to:
        per_node = max(node.count, 1)
    subtree_ids = {t.pk for t in subtree_themes(node)}
    subtree = [n for n in nodes if n.theme.pk in subtree_ids]

    trail, cursor = [], theme
    parents = {t.pk: t for t in themes}
    while cursor is not None:
        trail.append(cursor)
        cursor = parents.get(cursor.parent_id)

    def tag_url(axis):
        return lambda slug: list_url(theme=theme.slug, **{axis: slug})

    size_bars, stakeholder_bars = (
        _bars(
            axis.model.objects.all(),
            counts.tag_counts(in_theme, axis, scope),
            tag_url(axis.name),
            str(axis.untagged_label),
        )
        for axis in (SIZE, STAKEHOLDER)
    )

    ranked = in_theme.filter(pk__in=_first_per_node(in_theme, sorted(below), per_node))
    grouped: dict[int, list[Opinion]] = defaultdict(list)
    for opinion in cards.attach_tags(list(ranked.with_card_relations().in_document_order())):
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


def subtree_themes(node: ThemeNode):
    yield node.theme
    for child in node.children:
        yield from subtree_themes(child)
