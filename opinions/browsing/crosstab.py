"""The cross-tab: themes × the tags of one axis, or sizes × stakeholders, with totals.

A fixed number of queries whatever the number of remarks: from the count tables on
PostgreSQL, else from the remarks; always over what the user may see.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from ..models import Meeting, Opinion, SourceDocument
from . import counts
from .axes import AXES, SIZE, STAKEHOLDER, TAG_AXES, UNTAGGED, DocumentChoice, TagAxis
from .selection import list_url
from .themes import ThemeNode, subtree_themes, theme_tree


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


def _with_untagged(axis: TagAxis, used: dict | None = None) -> list:
    """The axis's tags — a deactivated one too while remarks still hold it (marked as
    such) — then the column of remarks without any."""
    used = used or {}
    tags = [tag for tag in axis.model.objects.all() if tag.is_active or used.get(tag.pk)]
    return [*tags, UntaggedColumn(str(axis.untagged_label))]


def _theme_tag_pairs(visible: QuerySet, axis: TagAxis, scope) -> list[tuple[int, int | None, int]]:
    """(theme id, tag id or None for none, remarks) from the tables or the remarks."""
    if scope is not None:
        return counts.by_theme_and_tag(scope, axis)
    relation = Opinion._meta.get_field(axis.field_name)
    tag_column = f"{relation.m2m_reverse_field_name()}_id"
    pairs = list(
        relation.remote_field.through.objects.filter(opinion__in=visible.values("pk"))
        .values("opinion__theme_id", tag_column)
        .annotate(n=Count("pk"))
        .values_list("opinion__theme_id", tag_column, "n")
    )
    untagged = counts.untagged(visible, axis).order_by().values("theme_id").annotate(n=Count("pk"))
    return pairs + [(row["theme_id"], None, row["n"]) for row in untagged]


def _size_stakeholder_pairs(visible: QuerySet, scope) -> list[tuple[int | None, int | None, int]]:
    """(size id, stakeholder id, remarks), None for a remark without either kind."""
    if scope is not None:
        return counts.by_tag_pair(scope, SIZE, STAKEHOLDER)
    sizes = Opinion.municipality_sizes.through.objects
    stakeholders = Opinion.stakeholders.through.objects
    with_size = list(
        sizes.filter(opinion__in=visible.values("pk"))
        .values("municipalitysize_id", "opinion__stakeholders")
        .annotate(n=Count("opinion_id"))
        .values_list("municipalitysize_id", "opinion__stakeholders", "n")
    )
    no_size = counts.untagged(visible, SIZE)
    without_size = list(
        stakeholders.filter(opinion__in=no_size.values("pk"))
        .values("stakeholder_id")
        .annotate(n=Count("opinion_id"))
        .values_list("stakeholder_id", "n")
    )
    neither = counts.untagged(no_size, STAKEHOLDER).count()
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
    restrictions = []
    if document is not None:
        restrictions.append(("document", DocumentChoice(document)))
    if meeting is not None:
        restrictions.append(("meeting", AXES["meeting"].choose(meeting)))
    for name, choice in restrictions:
        visible = AXES[name].apply(visible, choice)
        scope = scope and scope.narrowed(name, choice)
    restriction = {
        "document": document.slug if document else None,
        "meeting": meeting.pk if meeting else None,
    }
    per_theme = counts.theme_counts(visible, scope)
    total = sum(per_theme.values())
    if axis == PAIR_AXIS:
        return _pair_crosstab(visible, scope, restriction, total)
    tag_axis = TAG_AXES[axis]
    per_tag: dict[int | None, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for theme_id, tag_id, n in _theme_tag_pairs(visible, tag_axis, scope):
        per_tag[tag_id][theme_id] += n
    column_counts = counts.tag_counts(visible, tag_axis, scope)
    columns = _with_untagged(tag_axis, column_counts)
    rows, row_totals, largest = [], [], 0
    for node in theme_tree(per_theme):
        if node.theme.level > 2:
            continue
        subtree_ids = [t.pk for t in subtree_themes(node)]
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
    sizes = _with_untagged(SIZE)
    columns = _with_untagged(STAKEHOLDER)
    size_counts = counts.tag_counts(visible, SIZE, scope)
    stakeholder_counts = counts.tag_counts(visible, STAKEHOLDER, scope)
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
