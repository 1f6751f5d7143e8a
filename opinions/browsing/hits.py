"""A remark's page opened from the list: its place among the list's hits (前/次, n / N, back
to the same list page), and its neighbours in the document's order."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.urls import reverse

from ..models import Opinion
from . import estimates
from .facets import list_total
from .selection import Selection


def neighbours(opinion: Opinion, visible: QuerySet) -> tuple[Opinion | None, Opinion | None]:
    """The previous and next remark in the same document's order: one query where the
    database orders and limits each part of a UNION ALL (PostgreSQL), two elsewhere."""
    if opinion.source_document_id is None:
        return None, None
    same = visible.filter(source_document_id=opinion.source_document_id).only(
        "pk", "body", "position"
    )
    before = same.filter(position__lt=opinion.position).order_by("-position")[:1]
    after = same.filter(position__gt=opinion.position).order_by("position")[:1]
    if connection.features.supports_slicing_ordering_in_compound:
        found = list(before.union(after, all=True))
    else:
        found = [*before, *after]
    previous = next((row for row in found if row.position < opinion.position), None)
    following = next((row for row in found if row.position > opinion.position), None)
    return previous, following


@dataclass(frozen=True)
class HitContext:
    """Where a remark opened from the list stands among the list's hits."""

    position: int  # 1-based, in the list's order
    total: int
    total_estimated: bool  # as the list shows it: 「約 N」 for a search finding many
    previous_url: str | None
    next_url: str | None
    list_url: str  # the same list page


def hit_context(
    selection: Selection,
    visible: QuerySet,
    opinion: Opinion,
    *,
    page: int,
    page_size: int,
    statuses=None,
) -> HitContext | None:
    """The remark's place among the hits ``selection`` gives of ``visible`` (in the list's
    order), and the hits before and after it; None when it is not among them (the data
    changed since).

    Reads the ids of the list page it was on and of the pages either side (one query),
    never every hit, and counts them as the list does — reading them in the list's order
    as the list does for the first pages of a search matching many remarks.
    """
    total = list_total(selection, visible, statuses)
    in_order = estimates.read_in_order(
        total.share,
        page=page + 1,  # the window reaches the next page
        per_page=page_size,
        sort=selection.sort,
        statuses=statuses or (),
        within=total.within,
    )
    hits = selection.ordered(selection.apply(visible, use_index=not in_order))
    start = max(0, (page - 2) * page_size)
    window = list(hits.values_list("pk", flat=True)[start : start + 3 * page_size])
    if opinion.pk not in window:
        return None
    index = window.index(opinion.pk)
    position = start + index + 1

    def url_of(pk: int, at: int) -> str:
        query = selection.url_with(page=str((at - 1) // page_size + 1))
        return f"{reverse('opinions:opinion-detail', args=[pk])}{query}"

    previous = url_of(window[index - 1], position - 1) if index > 0 else None
    following = url_of(window[index + 1], position + 1) if index + 1 < len(window) else None
    back = selection.url_with(page=str((position - 1) // page_size + 1))
    return HitContext(
        position,
        total.count,
        total.estimated,
        previous,
        following,
        f"{reverse('opinions:opinion-list')}{back}",
    )
