"""Exact counts from the count tables (PostgreSQL), instead of visiting the remarks.

Two tables of remarks per key — status, theme, sorted size-tag ids, sorted stakeholder-tag
ids, and in the finer one document and meeting — are kept exact by triggers on every write
(declared in opinions/sql/postgresql/counts.sql). A write adds delta rows, so every read
sums per cell. A count of the list, any facet, the theme index, a theme page's
bars or the cross-tab is then a sum over a few thousand rows (or, for document and
meeting, over one row per venue and key) whatever the number of remarks: a few
milliseconds at a million remarks (24 for the venue facets), where counting the remarks
kept an uncached list page at 0.9 s (bench/results.md, optimization 15).

A search's matches are only known by reading the text: :func:`search_counts` groups them
by the same key in the one pass that finds them, then sums as over the tables. Any other
database than PostgreSQL counts the remarks themselves (selectors.py).

A :class:`Scope` is what is counted: the statuses the audience may see (the same as
``Opinion.objects.visible_to``, from :func:`opinions.models.visible_statuses`) and the
list's filters other than the search.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import BigIntegerField, Count, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from .models import Opinion, visible_statuses

KEY = "status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids"
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
    """Which remarks to count: of these statuses, with the list's filters but the search."""

    statuses: tuple[str, ...]
    theme_ids: tuple[int, ...] | None = None  # a subtree, as OpinionFilter.filter_theme
    size_ids: tuple[int, ...] = ()  # any of (empty: no filter)
    stakeholder_ids: tuple[int, ...] = ()
    # Also (or only, without ids) the remarks with no tag of that kind at all.
    size_untagged: bool = False
    stakeholder_untagged: bool = False
    document_id: int | None = None
    # A meeting: remarks made at it, or printed in a document that covers it.
    meeting_id: int | None = None
    meeting_document_ids: tuple[int, ...] = ()

    def without(self, facet: str) -> Scope:
        """The same scope with one facet's filter left out (for that facet's options)."""
        cleared = {
            "theme": {"theme_ids": None},
            "size": {"size_ids": (), "size_untagged": False},
            "stakeholder": {"stakeholder_ids": (), "stakeholder_untagged": False},
            "document": {"document_id": None},
            "meeting": {"meeting_id": None, "meeting_document_ids": ()},
        }
        return replace(self, **cleared[facet]) if facet else self

    @property
    def by_venue(self) -> bool:
        return self.document_id is not None or self.meeting_id is not None

    def where(self) -> tuple[str, list]:
        """The SQL condition over a table or CTE with the key's columns, and its params."""
        clauses, params = ["status = ANY(%s)"], [list(self.statuses)]
        if self.theme_ids is not None:
            clauses.append("theme_id = ANY(%s)")
            params.append(list(self.theme_ids))
        for column, ids, untagged in (
            ("size_ids", self.size_ids, self.size_untagged),
            ("stakeholder_ids", self.stakeholder_ids, self.stakeholder_untagged),
        ):
            alternatives = []
            if ids:
                alternatives.append(f"{column} && %s::bigint[]")
                params.append(list(ids))
            if untagged:
                alternatives.append(f"cardinality({column}) = 0")
            if alternatives:
                clauses.append(f"({' OR '.join(alternatives)})")
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


def _table(scope: Scope) -> str:
    """The coarser table, unless the scope filters by document or meeting."""
    return VENUE_TABLE if scope.by_venue else TAG_TABLE


def total(scope: Scope) -> int:
    where, params = scope.where()
    sql = f"SELECT coalesce(sum(n), 0)::bigint FROM {_table(scope)} WHERE {where}"
    [(count,)] = _rows(sql, params)
    return count


def by_theme(scope: Scope) -> dict[int, int]:
    """Remarks per theme node (the node itself only), as selectors.theme_counts."""
    where, params = scope.where()
    sql = f"SELECT theme_id, sum(n)::bigint FROM {_table(scope)} WHERE {where} GROUP BY theme_id"
    return {theme_id: n for theme_id, n in _rows(sql, params) if n}


def _tags_or_none(column: str) -> str:
    """The tag ids of a key, or one NULL for a key without tags: unnested, the remarks
    without any tag of the kind are counted under None (規模を問わない, 関係者の指定なし)."""
    return (
        f"unnest(CASE WHEN cardinality({column}) = 0 THEN '{{NULL}}'::bigint[] ELSE {column} END)"
    )


def by_tag(scope: Scope, field_name: str) -> dict[int | None, int]:
    """Remarks per tag of the many-to-many ``field_name``, and under None those without
    any, as selectors.tag_counts."""
    column = TAG_COLUMNS[field_name]
    where, params = scope.where()
    sql = (
        f"SELECT tag, sum(n)::bigint FROM {_table(scope)}, {_tags_or_none(column)} AS tag"
        f" WHERE {where} GROUP BY tag"
    )
    return {tag: n for tag, n in _rows(sql, params) if n}


def by_theme_and_tag(scope: Scope, field_name: str) -> list[tuple[int, int | None, int]]:
    """(theme id, tag id or None for none, remarks) for the cross-tab."""
    column = TAG_COLUMNS[field_name]
    where, params = scope.where()
    sql = (
        f"SELECT theme_id, tag, sum(n)::bigint FROM {_table(scope)}, {_tags_or_none(column)} AS tag"
        f" WHERE {where} GROUP BY theme_id, tag"
    )
    return [row for row in _rows(sql, params) if row[2]]


def by_tag_pair(scope: Scope, first: str, second: str) -> list[tuple[int | None, int | None, int]]:
    """(tag id of ``first``, tag id of ``second``, remarks) — None for a remark without a
    tag of that kind — for the size × stakeholder cross-tab."""
    where, params = scope.where()
    sql = (
        f"SELECT a, b, sum(n)::bigint FROM {_table(scope)},"
        f" {_tags_or_none(TAG_COLUMNS[first])} AS a, {_tags_or_none(TAG_COLUMNS[second])} AS b"
        f" WHERE {where} GROUP BY a, b"
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


@dataclass
class ListCounts:
    """The list's total and each facet's counts (the facet's own filter left out)."""

    total: int
    themes: dict[int, int]
    tags: dict[str, dict[int, int]]  # by many-to-many field name
    documents: list[tuple[int | None, int | None, int]]  # (meeting, document, n)
    meetings: list[tuple[int | None, int | None, int]]


def search_counts(scope: Scope, matching: QuerySet) -> ListCounts:
    """Everything :class:`ListCounts` holds for a search, in one statement.

    ``matching`` holds the remarks of the search (visible ones only). Its matches are
    grouped by the count tables' key in the one pass that finds them — the remarks' rows
    carry their tag ids — and each count is a sum over those groups with the scope's other
    filters, as over the tables. Counting the remarks once per facet read every match six
    times (bench/results.md).
    """
    table = connection.ops.quote_name(Opinion._meta.db_table)
    ids = ArrayField(BigIntegerField())
    cells = (
        matching.order_by()
        .annotate(
            cell_document=Coalesce("source_document_id", 0),
            cell_meeting=Coalesce("meeting_id", 0),
            cell_sizes=RawSQL(f"{table}.size_ids", (), output_field=ids),
            cell_stakeholders=RawSQL(f"{table}.stakeholder_ids", (), output_field=ids),
        )
        .values(
            "status",
            "theme_id",
            "cell_document",
            "cell_meeting",
            "cell_sizes",
            "cell_stakeholders",
        )
        .annotate(n=Count("pk"))
    )
    cells_sql, cells_params = cells.query.sql_with_params()
    parts, params = [], list(cells_params)

    def part(kind: str, facet: str, select: str, group: str = "", unnest: str = ""):
        where, where_params = scope.without(facet).where()
        source = f"cells, {_tags_or_none(unnest)} AS tag" if unnest else "cells"
        parts.append(
            f"SELECT '{kind}', {select}, sum(n)::bigint FROM {source} WHERE {where}"
            + (f" GROUP BY {group}" if group else "")
        )
        params.extend(where_params)

    part("total", "", "0, 0")
    part("theme", "theme", "theme_id, 0", "theme_id")
    for field_name, column in TAG_COLUMNS.items():
        facet = "size" if column == "size_ids" else "stakeholder"
        part(field_name, facet, "tag, 0", "tag", unnest=column)
    part("document", "document", "meeting_id, source_document_id", "2, 3")
    part("meeting", "meeting", "meeting_id, source_document_id", "2, 3")
    sql = f"WITH cells ({KEY}, n) AS MATERIALIZED ({cells_sql}) " + " UNION ALL ".join(
        f"({p})" for p in parts
    )
    result = ListCounts(0, {}, {name: {} for name in TAG_COLUMNS}, [], [])
    for kind, first, second, n in _rows(sql, params):
        if not n:
            continue
        if kind == "total":
            result.total = n
        elif kind == "theme":
            result.themes[first] = n
        elif kind in TAG_COLUMNS:
            result.tags[kind][first] = n
        else:
            getattr(result, f"{kind}s").append((first or None, second or None, n))
    return result


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
