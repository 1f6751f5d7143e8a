"""Reads of the response ledger, each in a fixed number of queries.

Everything public goes through ``published_*``: a draft or confirmed response, and any
memo, is only read by the workbench, which requires ``opinions.view_draft_response``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from ..browsing import facets
from ..browsing.facets import FacetOption
from ..browsing.selection import Selection, list_url
from ..browsing.themes import Bar
from ..models import Opinion, Theme
from .filters import NONE
from .models import Response, ResponseCategory, ResponseReference, ResponseRemark, ResponseState

PUBLISHED = ResponseState.PUBLISHED


def _published_links() -> QuerySet:
    """Links to published responses, with their category. Unordered: a remark has one link
    at most, and the links' default order (by document, then position) joins the remarks,
    their documents and committees: for a page's 50 remarks, three times the planning
    (0.4-0.5 ms against 0.13-0.16 on a connection that has planned before, 5 against 0.2
    on a new one) for no order anyone reads."""
    return (
        ResponseRemark.objects.filter(response__state=PUBLISHED)
        .select_related("response__category")
        .order_by()
    )


def with_published_response(opinions: QuerySet) -> QuerySet:
    """``opinions`` with ``published_link`` on each: its link to a published response (with
    the category), or None. One query for the page's rows."""
    return opinions.prefetch_related(
        Prefetch(
            "response_link",
            queryset=_published_links(),
            to_attr="published_link",
        )
    )


@dataclass
class ShownResponse:
    """A published response as a remark's page shows it."""

    response: Response
    others: list[Opinion]  # the other remarks it answers that the reader may see
    references: list[ResponseReference]


def published_response(opinion: Opinion, visible: QuerySet) -> ShownResponse | None:
    """The published response to ``opinion`` with the other remarks it answers among
    ``visible`` and its 反映先 (three queries at most)."""
    link = _published_links().filter(opinion=opinion).first()
    if link is None:
        return None
    response = link.response
    others = list(
        visible.filter(response_link__response=response)
        .exclude(pk=opinion.pk)
        .select_related("theme")
        .in_document_order()
    )
    references = list(response.references.select_related("document"))
    return ShownResponse(response, others, references)


def published_category_counts(opinions: QuerySet) -> dict[int, int]:
    """Remarks of ``opinions`` per category of their published response, in one grouped
    query over the response links (a remark has at most one), which are few: a subquery per
    remark instead visited every remark (12 s of the list's 14 s at a million remarks with no
    response published, bench/results.md)."""
    return dict(
        ResponseRemark.objects.filter(
            response__state=PUBLISHED,
            response__category__isnull=False,
            opinion__in=opinions.order_by().values("pk"),
        )
        .values("response__category_id")
        .annotate(n=Count("pk"))
        .values_list("response__category_id", "n")
    )


def category_facet(
    selection: Selection,
    visible: QuerySet,
    statuses=None,
    *,
    total: int | None = None,
    estimated: bool = False,
) -> list[FacetOption]:
    """The list's 対応区分 facet: for each category (and "not yet"), how many remarks the
    other active filters give with a published response of it. "Not yet" is the rest of
    those remarks: ``total`` of them when the caller knows it (the list's own total, when
    no 対応区分 is chosen), else from the count tables (``statuses``: those of ``visible``,
    as for facets.list_counts). A fixed number of queries whatever the filters.

    ``estimated``: ``total`` is an estimate (a search finding many remarks), and so is the
    rest: "not yet" is shown 「約」 too, never below zero."""
    others = selection.without("response")
    found = published_category_counts(others.apply(visible))
    if total is None:
        counted = facets.list_total(others, visible, statuses)
        total, estimated = counted.count, counted.estimated
    without_response = max(0, total - sum(found.values()))
    chosen = selection.chosen("response") or ()
    chosen_pks = {c.pk for c in chosen if c != NONE}
    options = [
        FacetOption(
            category.slug,
            category.name,
            found.get(category.pk, 0),
            category.pk in chosen_pks,
            title=category.description,
        )
        for category in ResponseCategory.objects.filter(Q(is_active=True) | Q(pk__in=chosen_pks))
    ]
    options.append(
        FacetOption(
            NONE, str(_("対応の公表前")), without_response, NONE in chosen, estimated=estimated
        )
    )
    return options


def category_bars(theme: Theme, visible: QuerySet) -> list[Bar]:
    """A theme page's remarks (the node and below) by 対応区分 of their published response,
    as bars linking to the filtered list (two queries); none while nothing is published."""
    in_theme = visible.in_theme(theme)
    found = published_category_counts(in_theme)
    categories = list(ResponseCategory.objects.filter(is_active=True))
    largest = max((found.get(c.pk, 0) for c in categories), default=0)
    if not largest:
        return []  # no published response in the theme yet: no chart of zeros
    return [
        Bar(
            category.name,
            found.get(category.pk, 0),
            list_url(theme=theme.slug, response=category.slug),
            100 * found.get(category.pk, 0) / largest,
        )
        for category in categories
    ]


# --- The workbench ---------------------------------------------------------------------------


def workbench_rows(opinions: QuerySet) -> QuerySet:
    """What a workbench row shows: the remark, its response (any state) with category and
    author, in a constant number of queries for a page."""
    return opinions.with_list_relations().prefetch_related(
        Prefetch(
            "response_link",
            queryset=ResponseRemark.objects.select_related(
                "response__category", "response__author", "response__reviewer"
            ),
        )
    )


def response_link(opinion: Opinion) -> ResponseRemark | None:
    """The remark's (prefetched) link to its response, or None."""
    try:
        return opinion.response_link
    except ResponseRemark.DoesNotExist:
        return None


@dataclass
class Progress:
    """Answered remarks of a theme node and below: with a response in any state, and
    published."""

    theme: Theme
    total: int = 0
    answered: int = 0
    published: int = 0

    @property
    def depth(self) -> int:
        return self.theme.level - 1

    @property
    def percent(self) -> float:
        return 100 * self.answered / self.total if self.total else 0.0

    @property
    def published_percent(self) -> float:
        return 100 * self.published / self.total if self.total else 0.0


def theme_progress(opinions: QuerySet) -> list[Progress]:
    """Per theme node in document order, how many of ``opinions`` have a response and a
    published one, rolled up from the nodes below (two queries)."""
    rows = (
        opinions.order_by()
        .values("theme_id")
        .annotate(
            total=Count("pk"),
            answered=Count("pk", filter=Q(response_link__isnull=False)),
            published=Count("pk", filter=Q(response_link__response__state=PUBLISHED)),
        )
    )
    own = {row["theme_id"]: row for row in rows}
    themes = list(Theme.objects.in_tree_order())
    progress = {theme.pk: Progress(theme) for theme in themes}
    children = defaultdict(list)
    for theme in themes:
        children[theme.parent_id].append(theme.pk)
    for theme in reversed(themes):
        node = progress[theme.pk]
        row = own.get(theme.pk, {})
        node.total = row.get("total", 0) + sum(progress[c].total for c in children[theme.pk])
        node.answered = row.get("answered", 0) + sum(
            progress[c].answered for c in children[theme.pk]
        )
        node.published = row.get("published", 0) + sum(
            progress[c].published for c in children[theme.pk]
        )
    return [progress[theme.pk] for theme in themes if progress[theme.pk].total]


def editable_response(pk: int) -> Response:
    """A response with its remarks (each with its theme) and 反映先, for the edit page."""
    return (
        Response.objects.select_related("category", "author", "reviewer")
        .prefetch_related(
            Prefetch(
                "links",
                queryset=ResponseRemark.objects.select_related(
                    "opinion__theme__parent__parent", "opinion__author"
                ),
            ),
            Prefetch("references", queryset=ResponseReference.objects.select_related("document")),
        )
        .get(pk=pk)
    )


def mypage_responses(opinions: QuerySet) -> QuerySet:
    """A member's own remarks with their published responses and 反映先 (constant queries)."""
    return opinions.prefetch_related(
        Prefetch(
            "response_link",
            queryset=_published_links(),
            to_attr="published_link",
        ),
        Prefetch(
            "published_link__response__references",
            queryset=ResponseReference.objects.select_related("document"),
        ),
    )


# --- 「ご意見と対応」 -------------------------------------------------------------------------


@dataclass
class LedgerRow:
    """One remark of the export; consecutive rows of the same response share its cells."""

    number: int
    remark: str
    response_id: int | None
    reasoning: str = ""
    category: str = ""
    references: list[str] | None = None


@dataclass
class LedgerSection:
    heading: str  # 【section】 ○theme ＜subtheme＞ of the rows' theme
    rows: list[LedgerRow]


@dataclass
class Ledger:
    title: str
    committee: str
    sections: list[LedgerSection]


def _reference_text(reference: ResponseReference) -> str:
    parts = [str(reference.document)]
    if reference.section:
        parts.append(reference.section)
    if reference.page:
        parts.append(_("p.%(page)s") % {"page": reference.page})
    text = " ".join(parts)
    return f"{text} {reference.url}" if reference.url else text


def ledger(opinions: QuerySet) -> Ledger:
    """The 「ご意見と対応」 document of ``opinions`` (published remarks, already filtered):
    sections per theme in tree order, remarks in document order, numbered from 1; the
    remarks of one response are listed together where its first one stands, sharing its
    cells. Only published responses are read. A fixed number of queries."""
    remarks = list(opinions.select_related("theme").in_document_order())
    links = {
        link.opinion_id: link
        for link in ResponseRemark.objects.filter(
            opinion__in=[o.pk for o in remarks], response__state=PUBLISHED
        ).select_related("response__category")
    }
    references = defaultdict(list)
    for reference in ResponseReference.objects.filter(
        response__in={link.response_id for link in links.values()}
    ).select_related("document"):
        references[reference.response_id].append(_reference_text(reference))
    themes = list(Theme.objects.in_tree_order())
    order = {theme.pk: index for index, theme in enumerate(themes)}
    by_pk = {theme.pk: theme for theme in themes}

    # The remarks of a response follow its first one (in document order).
    placed: dict[int, list[Opinion]] = {}
    sequence: list[list[Opinion]] = []
    for opinion in sorted(remarks, key=lambda o: order.get(o.theme_id, 0)):
        link = links.get(opinion.pk)
        if link is None:
            sequence.append([opinion])
        elif link.response_id in placed:
            placed[link.response_id].append(opinion)
        else:
            placed[link.response_id] = [opinion]
            sequence.append(placed[link.response_id])

    sections: list[LedgerSection] = []
    number = 0
    for group in sequence:
        theme = by_pk[group[0].theme_id]
        heading = " ".join(node.display_name for node in _trail(theme, by_pk))
        if not sections or sections[-1].heading != heading:
            sections.append(LedgerSection(heading, []))
        for opinion in group:
            number += 1
            link = links.get(opinion.pk)
            response = link.response if link else None
            sections[-1].rows.append(
                LedgerRow(
                    number,
                    opinion.body,
                    response.pk if response else None,
                    response.reasoning if response else "",
                    response.category.name if response and response.category_id else "",
                    references[response.pk] if response else [],
                )
            )
    committee = (
        opinions.exclude(source_document__isnull=True)
        .values_list("source_document__committee__name", flat=True)
        .first()
    )
    return Ledger(_("ご意見と対応"), committee or "", sections)


def _trail(theme: Theme, by_pk: dict[int, Theme]) -> list[Theme]:
    nodes, node = [], theme
    while node is not None:
        nodes.append(node)
        node = by_pk.get(node.parent_id)
    return nodes[::-1]
