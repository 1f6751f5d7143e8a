"""The theme × 自治体規模 × 関係者 cube: which cells are empty or thin.

Counted from the remarks ``visible`` holds, in two grouped queries; a remark counts once in
every (size, stakeholder) pair it carries. A remark without a size tag (規模を問わない) is in
no cell: the cube asks whose voice is missing for a given size of municipality.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, QuerySet


@dataclass
class Cell:
    stakeholder: object
    count: int


@dataclass
class GapRow:
    theme: object  # a ○theme (level 2)
    size: object
    cells: list[Cell]  # the empty and thin ones, emptiest first
    total: int  # remarks of this theme and size


def gap_rows(visible: QuerySet, *, thin: int = 1, theme=None) -> list[GapRow]:
    """For each ○theme and size band, the stakeholders with at most ``thin`` remarks."""
    from opinions.models import MunicipalitySize, Opinion, Stakeholder, Theme

    themes = [t for t in Theme.objects.in_tree_order() if t.level == 2]
    if theme is not None:
        themes = [t for t in themes if theme.pk in (t.pk, t.parent_id)] or [
            t for t in themes if t.pk == getattr(theme.parent, "pk", None)
        ]
    all_themes = list(Theme.objects.all())
    level2 = {}
    for t in all_themes:
        level2[t.pk] = t.pk if t.level == 2 else (t.parent_id if t.level == 3 else None)
    sizes = list(MunicipalitySize.objects.active())
    stakeholders = list(Stakeholder.objects.active())
    # Grouped in the database by subtheme; a remark has one theme, so the sums over a
    # ○theme's subthemes count each remark once.
    by_size = Opinion.municipality_sizes.through.objects.filter(opinion__in=visible.values("pk"))
    totals: Counter = Counter()
    for theme_id, size_id, n in (
        by_size.values_list("opinion__theme_id", "municipalitysize_id")
        .annotate(n=Count("opinion_id"))
        .order_by()
    ):
        totals[level2.get(theme_id), size_id] += n
    counts: Counter = Counter()
    for theme_id, size_id, stakeholder_id, n in (
        by_size.filter(opinion__stakeholders__isnull=False)
        .values_list("opinion__theme_id", "municipalitysize_id", "opinion__stakeholders")
        .annotate(n=Count("opinion_id"))
        .order_by()
    ):
        counts[level2.get(theme_id), size_id, stakeholder_id] += n
    rows = []
    for t in themes:
        for size in sizes:
            cells = [
                Cell(s, counts[t.pk, size.pk, s.pk])
                for s in stakeholders
                if counts[t.pk, size.pk, s.pk] <= thin
            ]
            cells.sort(key=lambda c: c.count)
            rows.append(GapRow(t, size, cells, totals[t.pk, size.pk]))
    return rows
