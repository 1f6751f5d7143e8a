"""Exact counts from the count tables (PostgreSQL), instead of visiting the remarks.

Two tables of remarks per key — status, theme, sorted size-tag ids, sorted stakeholder-tag
ids, and in the finer one document and meeting — and a third of the venue alone (status,
document, meeting) are kept exact by triggers on every write
(declared in opinions/sql/postgresql/counts.sql). A write adds delta rows, so every read
sums per cell. A count of the list, any facet, the theme index, a theme page's
bars or the cross-tab is then a sum over a few thousand rows (or, for document and
meeting, over one row per venue, or per venue and key when more is chosen) whatever the
number of remarks: a few milliseconds at a million remarks, where counting the remarks
kept an uncached list page at 0.9 s (bench/results.md, optimization 15).

A search's matches are only known by reading the text: :func:`search_counts` groups them
by the same key in the one pass that finds them, then sums as over the tables. Any other
database than PostgreSQL counts the remarks themselves (the functions at the end).

A :class:`Scope` is what is counted: the statuses the audience may see (the same as
``Opinion.objects.visible_to``, from :func:`opinions.models.visible_statuses`) and the
selection's choices other than the search, each read over the key's columns as its axis
says (axes.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import BigIntegerField, Count, Exists, OuterRef, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from ..models import Opinion, visible_statuses
from .axes import AXES, TAG_AXES, TagAxis

# The count tables' key: one column of sorted tag ids per tag axis (axes.TAG_AXES).
TAG_COLUMNS = ", ".join(axis.column for axis in TAG_AXES.values())
KEY = f"status, theme_id, source_document_id, meeting_id, {TAG_COLUMNS}"
TAG_TABLE = "opinions_tagcount"
VENUE_TABLE = "opinions_venuetagcount"
VENUE_ONLY_TABLE = "opinions_venuecount"


def available() -> bool:
    return connection.vendor == "postgresql"


def visible_scope(user) -> Scope | None:
    """What ``user`` may see (as ``Opinion.objects.visible_to``), unfiltered; None where
    the tables are not kept."""
    return Scope(visible_statuses(user)) if available() else None


@dataclass(frozen=True)
class Scope:
    """Which remarks to count: of these statuses, with these choices (axis name, choice —
    see axes.py; a selection's choices but the search)."""

    statuses: tuple[str, ...]
    choices: tuple[tuple[str, object], ...] = ()

    def without(self, facet: str) -> Scope:
        """The same scope with one facet's choice left out (for that facet's options)."""
        return replace(self, choices=tuple((n, c) for n, c in self.choices if n != facet))

    def narrowed(self, name: str, choice) -> Scope:
        """The same scope with ``choice`` on axis ``name`` (in place of any other)."""
        rest = tuple((n, c) for n, c in self.without(name).choices)
        order = list(AXES)
        return replace(
            self, choices=tuple(sorted((*rest, (name, choice)), key=lambda p: order.index(p[0])))
        )

    @property
    def by_venue(self) -> bool:
        return any(AXES[name].by_venue for name, _choice in self.choices)

    @property
    def venue_only(self) -> bool:
        """Chosen by nothing but document or meeting: the venue table alone answers."""
        return all(AXES[name].by_venue for name, _choice in self.choices)

    def where(self) -> tuple[str, list]:
        """The SQL condition over a table or CTE with the key's columns, and its params."""
        clauses, params = ["status = ANY(%s)"], [list(self.statuses)]
        for name, choice in self.choices:
            clause, more = AXES[name].where(choice)
            clauses.append(clause)
            params += more
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


def by_tag(scope: Scope, axis: TagAxis) -> dict[int | None, int]:
    """Remarks per tag of ``axis``, and under None those without any, as
    themes.tag_counts."""
    column = axis.column
    where, params = scope.where()
    sql = (
        f"SELECT tag, sum(n)::bigint FROM {_table(scope)}, {_tags_or_none(column)} AS tag"
        f" WHERE {where} GROUP BY tag"
    )
    return {tag: n for tag, n in _rows(sql, params) if n}


def by_theme_and_tag(scope: Scope, axis: TagAxis) -> list[tuple[int, int | None, int]]:
    """(theme id, tag id or None for none, remarks) for the cross-tab."""
    column = axis.column
    where, params = scope.where()
    sql = (
        f"SELECT theme_id, tag, sum(n)::bigint FROM {_table(scope)}, {_tags_or_none(column)} AS tag"
        f" WHERE {where} GROUP BY theme_id, tag"
    )
    return [row for row in _rows(sql, params) if row[2]]


def by_tag_pair(
    scope: Scope, first: TagAxis, second: TagAxis
) -> list[tuple[int | None, int | None, int]]:
    """(tag id of ``first``, tag id of ``second``, remarks) — None for a remark without a
    tag of that kind — for the size × stakeholder cross-tab."""
    where, params = scope.where()
    sql = (
        f"SELECT a, b, sum(n)::bigint FROM {_table(scope)},"
        f" {_tags_or_none(first.column)} AS a, {_tags_or_none(second.column)} AS b"
        f" WHERE {where} GROUP BY a, b"
    )
    return [row for row in _rows(sql, params) if row[2]]


def by_venue(scope: Scope) -> list[tuple[int | None, int | None, int]]:
    """(meeting id, document id, remarks), None for none, as the list's venue facets use.
    From the venue table alone when nothing else is chosen (about 600 cells, against the
    finer table's 106,000 published ones at a million remarks)."""
    where, params = scope.where()
    table = VENUE_ONLY_TABLE if scope.venue_only else VENUE_TABLE
    sql = (
        f"SELECT meeting_id, source_document_id, sum(n)::bigint FROM {table}"
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
    tags: dict[str, dict[int, int]]  # by tag axis name
    documents: list[tuple[int | None, int | None, int]]  # (meeting, document, n)
    meetings: list[tuple[int | None, int | None, int]]
    extras: dict[str, int] = field(default_factory=dict)
    # True when the numbers are estimates from a sample (estimates.py), shown as 「約」.
    estimated: bool = False
    # With ``estimated``: the total alone was counted exactly (narrow choices).
    total_exact: bool = False
    # A search's: the total's share of the audience's remarks (estimates.read_in_order).
    share: float | None = None
    # With ``total_exact``: how many remarks the choices hold, among which it was counted.
    within: int | None = None


def tag_id_columns(prefix: str) -> dict[str, RawSQL]:
    """The remark row's sorted tag ids of each tag axis (its key columns, which the
    triggers keep: counts.sql), as annotations ``<prefix><axis name>``. PostgreSQL only."""
    table = connection.ops.quote_name(Opinion._meta.db_table)
    ids = ArrayField(BigIntegerField())
    return {
        f"{prefix}{name}": RawSQL(f"{table}.{axis.column}", (), output_field=ids)
        for name, axis in TAG_AXES.items()
    }


def _cells(matching: QuerySet) -> tuple[str, list]:
    """``matching``'s remarks grouped by the count tables' key, as SQL and params."""
    cells = (
        matching.order_by()
        .annotate(
            cell_document=Coalesce("source_document_id", 0),
            cell_meeting=Coalesce("meeting_id", 0),
            **tag_id_columns("cell_"),
        )
        .values(
            "status",
            "theme_id",
            "cell_document",
            "cell_meeting",
            *(f"cell_{name}" for name in TAG_AXES),
        )
        .annotate(n=Count("pk"))
    )
    sql, params = cells.query.sql_with_params()
    return sql, list(params)


def _summed(scope: Scope, cells_sql: str, params: list, *extra: tuple[str, list]) -> ListCounts:
    """The total and every facet of ``scope`` as sums over the cells (one statement);
    ``extra`` are more ``SELECT kind, 0, 0, n`` parts, whose counts land in ``extras``."""
    parts, params = [], list(params)

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
    for name, axis in TAG_AXES.items():
        part(name, name, "tag, 0", "tag", unnest=axis.column)
    part("document", "document", "meeting_id, source_document_id", "2, 3")
    part("meeting", "meeting", "meeting_id, source_document_id", "2, 3")
    for sql, extra_params in extra:
        parts.append(sql)
        params.extend(extra_params)
    sql = f"WITH cells ({KEY}, n) AS MATERIALIZED ({cells_sql}) " + " UNION ALL ".join(
        f"({p})" for p in parts
    )
    result = ListCounts(0, {}, {name: {} for name in TAG_AXES}, [], [])
    for kind, first, second, n in _rows(sql, params):
        if not n:
            continue
        if kind == "total":
            result.total = n
        elif kind == "theme":
            result.themes[first] = n
        elif kind in TAG_AXES:
            result.tags[kind][first] = n
        elif kind in ("document", "meeting"):
            getattr(result, f"{kind}s").append((first or None, second or None, n))
        else:
            result.extras[kind] = n
    return result


def search_counts(scope: Scope, matching: QuerySet) -> ListCounts:
    """Everything :class:`ListCounts` holds for a search, exactly, in one statement.

    ``matching`` holds the remarks of the search (visible ones only). Its matches are
    grouped by the count tables' key in the one pass that finds them — the remarks' rows
    carry their tag ids — and each count is a sum over those groups with the scope's other
    filters, as over the tables. Counting the remarks once per facet read every match six
    times (bench/results.md).
    """
    return _summed(scope, *_cells(matching))


def search_total(scope: Scope, matching: QuerySet) -> int:
    """The number of ``matching``'s remarks with the scope's choices, exactly, without
    the facets: the choices are tested inside the scan (the cells are not materialized,
    so PostgreSQL pushes the conditions on their key columns down to the remarks), where
    their own indexes find the remarks. For a frequent term and narrow choices (estimates.py)
    with ``matching`` testing the text alone, this reads the choices' remarks, not every
    match of the term.
    """
    cells_sql, params = _cells(matching)
    where, where_params = scope.where()
    sql = (
        f"WITH cells ({KEY}, n) AS NOT MATERIALIZED ({cells_sql})"
        f" SELECT coalesce(sum(n), 0)::bigint FROM cells WHERE {where}"
    )
    [(count,)] = _rows(sql, [*params, *where_params])
    return count


def sampled_search_counts(scope: Scope, matching: QuerySet, percent: float) -> ListCounts:
    """The same as :func:`search_counts` over a block sample of ``percent`` % of the
    remarks' table (``TABLESAMPLE SYSTEM``, the same pages for the same table: REPEATABLE),
    unscaled. ``extras`` holds ``matches``, the sampled matches of the search alone (no
    choice applied), and ``sampled``, the sampled remarks of the scope's statuses.

    ``matching`` should test the text alone (``search.filter_queryset(use_index=False)``):
    no index narrows a sample. Only remarks of the scope's statuses are counted, as in
    the exact statement.
    """
    table = connection.ops.quote_name(Opinion._meta.db_table)
    # Numbers made here, not input: formatted into the SQL (a parameter there would have to
    # go between the select list's parameters and the WHERE's).
    sample = f"TABLESAMPLE SYSTEM ({float(percent):.6f}) REPEATABLE (19)"
    cells_sql, params = _cells(matching)
    main_from = f"FROM {table} WHERE "
    assert cells_sql.count(main_from) == 1, "the remarks' table once, before its WHERE"
    cells_sql = cells_sql.replace(main_from, f"FROM {table} {sample} WHERE ")
    statuses = list(scope.statuses)
    return _summed(
        scope,
        cells_sql,
        params,
        ("SELECT 'matches', 0, 0, sum(n)::bigint FROM cells WHERE status = ANY(%s)", [statuses]),
        (
            f"SELECT 'sampled', 0, 0, count(*) FROM {table} {sample} WHERE status = ANY(%s)",
            [statuses],
        ),
    )


# --- The same from the remarks (any database) ------------------------------------------


def untagged(opinions: QuerySet, axis: TagAxis) -> QuerySet:
    """The remarks of ``opinions`` without any tag of ``axis``."""
    relation = Opinion._meta.get_field(axis.field_name)
    through = relation.remote_field.through
    return opinions.filter(
        ~Exists(through.objects.filter(**{relation.m2m_field_name(): OuterRef("pk")}))
    )


def theme_counts(opinions: QuerySet, scope: Scope | None = None) -> dict[int, int]:
    """Remarks per theme node (the node itself only).

    Here and below, ``scope`` describes the same remarks as ``opinions`` for the count
    tables; given, the counts are read from them.
    """
    if scope is not None:
        return by_theme(scope)
    return dict(
        opinions.order_by().values("theme_id").annotate(n=Count("pk")).values_list("theme_id", "n")
    )


def tag_counts(
    opinions: QuerySet, axis: TagAxis, scope: Scope | None = None
) -> dict[int | None, int]:
    """Remarks of ``opinions`` per tag of ``axis``, and under None those without any tag
    of it (規模を問わない, 関係者の指定なし): from the count tables in one query, else in two."""
    if scope is not None:
        return by_tag(scope, axis)
    relation = Opinion._meta.get_field(axis.field_name)
    tag_column = f"{relation.m2m_reverse_field_name()}_id"
    through = relation.remote_field.through
    found = dict(
        through.objects.filter(**{f"{relation.m2m_field_name()}__in": opinions.values("pk")})
        .values(tag_column)
        .annotate(n=Count("pk"))
        .values_list(tag_column, "n")
    )
    if without := untagged(opinions, axis).count():
        found[None] = without
    return found


# --- Maintenance ---------------------------------------------------------------------------


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
