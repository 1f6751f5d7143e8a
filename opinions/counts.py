"""Exact counts from the count tables (PostgreSQL), instead of visiting the remarks.

Migration 0011 keeps two tables of remarks per key — status, theme, sorted size-tag ids,
sorted stakeholder-tag ids, and in the finer one document and meeting — exact through
triggers on every write. A count of the list, any facet, the theme index, a theme page's
bars or the cross-tab is then a sum over a few thousand rows (or, for document and
meeting, over one row per venue and key) whatever the number of remarks: 1–50 ms at a
million remarks where counting the remarks took 1–2.5 s (bench/results.md).

What the tables cannot answer, callers count from the remarks as before: a search (its
matches are only known by reading the text) and any database but PostgreSQL.

A :class:`Scope` is what is counted: the statuses the audience may see (the same as
``Opinion.objects.visible_to``, from :func:`opinions.models.visible_statuses`) and the
list's filters other than the search.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.db import connection

from .models import visible_statuses

TAG_TABLE = "opinions_tagcount"
VENUE_TABLE = "opinions_venuetagcount"
# The key column of each tag axis (see selectors.TAG_AXES).
TAG_COLUMNS = {"municipality_sizes": "size_ids", "stakeholders": "stakeholder_ids"}


def available() -> bool:
    return connection.vendor == "postgresql"


def visible_scope(user) -> Scope | None:
    """What ``user`` may see (as ``Opinion.objects.visible_to``), unfiltered; None where
    the tables are not kept."""
    return Scope(visible_statuses(user)) if available() else None


@dataclass(frozen=True)
class Scope:
    statuses: tuple[str, ...]
    theme_ids: tuple[int, ...] | None = None  # a subtree, as OpinionFilter.filter_theme
    size_ids: tuple[int, ...] = ()  # any of (empty: no filter)
    stakeholder_ids: tuple[int, ...] = ()
    document_id: int | None = None
    # A meeting: remarks made at it, or printed in a document that covers it.
    meeting_id: int | None = None
    meeting_document_ids: tuple[int, ...] = ()

    def without(self, facet: str) -> Scope:
        """The same scope with one facet's filter left out (for that facet's options)."""
        cleared = {
            "theme": {"theme_ids": None},
            "size": {"size_ids": ()},
            "stakeholder": {"stakeholder_ids": ()},
            "document": {"document_id": None},
            "meeting": {"meeting_id": None, "meeting_document_ids": ()},
        }
        return replace(self, **cleared[facet]) if facet else self

    @property
    def by_venue(self) -> bool:
        return self.document_id is not None or self.meeting_id is not None

    def where(self) -> tuple[str, list]:
        clauses, params = ["status = ANY(%s)"], [list(self.statuses)]
        if self.theme_ids is not None:
            clauses.append("theme_id = ANY(%s)")
            params.append(list(self.theme_ids))
        for column, ids in (("size_ids", self.size_ids), ("stakeholder_ids", self.stakeholder_ids)):
            if ids:
                clauses.append(f"{column} && %s::bigint[]")
                params.append(list(ids))
        if self.document_id is not None:
            clauses.append("source_document_id = %s")
            params.append(self.document_id)
        if self.meeting_id is not None:
            clauses.append("(meeting_id = %s OR source_document_id = ANY(%s))")
            params += [self.meeting_id, list(self.meeting_document_ids)]
        return " AND ".join(clauses), params


def _rows(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _table(scope: Scope, *, venue: bool = False) -> str:
    return VENUE_TABLE if venue or scope.by_venue else TAG_TABLE


def total(scope: Scope) -> int:
    where, params = scope.where()
    return _rows(f"SELECT coalesce(sum(n), 0)::bigint FROM {_table(scope)} WHERE {where}", params)[
        0
    ][0]


def by_theme(scope: Scope) -> dict[int, int]:
    """Remarks per theme node (the node itself only), as selectors.theme_counts."""
    where, params = scope.where()
    sql = f"SELECT theme_id, sum(n)::bigint FROM {_table(scope)} WHERE {where} GROUP BY theme_id"
    return {theme_id: n for theme_id, n in _rows(sql, params) if n}


def by_tag(scope: Scope, field_name: str) -> dict[int, int]:
    """Remarks per tag of the many-to-many ``field_name``, as selectors.tag_counts."""
    column = TAG_COLUMNS[field_name]
    where, params = scope.where()
    sql = (
        f"SELECT tag, sum(n)::bigint FROM {_table(scope)}, unnest({column}) AS tag"
        f" WHERE {where} GROUP BY tag"
    )
    return {tag: n for tag, n in _rows(sql, params) if n}


def by_theme_and_tag(scope: Scope, field_name: str) -> list[tuple[int, int, int]]:
    """(theme id, tag id, remarks) for the cross-tab."""
    column = TAG_COLUMNS[field_name]
    where, params = scope.where()
    sql = (
        f"SELECT theme_id, tag, sum(n)::bigint FROM {_table(scope)}, unnest({column}) AS tag"
        f" WHERE {where} GROUP BY theme_id, tag"
    )
    return [row for row in _rows(sql, params) if row[2]]


def by_venue(scope: Scope) -> list[tuple[int | None, int | None, int]]:
    """(meeting id, document id, remarks), None for none, as the list's venue facets use."""
    where, params = scope.where()
    sql = (
        f"SELECT meeting_id, source_document_id, sum(n)::bigint FROM {VENUE_TABLE}"
        f" WHERE {where} GROUP BY meeting_id, source_document_id"
    )
    return [
        (meeting or None, document or None, n) for meeting, document, n in _rows(sql, params) if n
    ]


def rebuild() -> None:
    """Recompute both tables from the remarks (after a load that bypassed the triggers)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT opinions_rebuild_counts()")


@contextmanager
def suspended():
    """For a bulk load inside a transaction: the count triggers off while it runs (a
    setting local to the transaction, read by the triggers), then one rebuild (4 s for a
    million remarks) instead of a delta per statement — which, with the loader's indexes
    dropped, would look up every remark's tags without an index."""
    if not available():
        yield
        return
    assert connection.in_atomic_block, "the setting must end with the load's transaction"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL opinions.counts_suspended = on")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL opinions.counts_suspended = off")
    rebuild()
