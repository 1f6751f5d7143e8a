"""What the exports read: remarks as plain records, streamed, and the 「主なご意見」
document tree of a selection."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import QuerySet
from django.urls import reverse

from ..browsing import counts
from ..browsing.selection import Selection
from ..browsing.themes import theme_tree
from ..exporters import summary_title
from ..importers import ParsedDocument, ParsedNode, ParsedOpinion
from ..models import Meeting, Opinion, SourceDocument, Theme


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
    nodes = theme_tree(counts.theme_counts(shown), themes)
    keep = {node.theme.pk for node in nodes if node.count}
    if keep_unused_themes:
        parents = {theme.pk: theme.parent_id for theme in themes}

        def section_of(pk: int) -> int:
            while parents[pk] is not None:
                pk = parents[pk]
            return pk

        everywhere = theme_tree(counts.theme_counts(Opinion.objects.all()), themes)
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


def summary_for(
    selection: Selection, opinions: QuerySet, *, meetings: list[Meeting]
) -> ParsedDocument:
    """The 「主なご意見」 document for ``opinions`` (the list's hits for ``selection``) and,
    optionally, several meetings.

    Titled as the chosen source document (and then, if no other choice narrows it, the
    whole document with its empty themes), else after the meetings (第１回、第２回における
    主なご意見), else 主なご意見.
    """
    if meetings:
        opinions = opinions.for_meetings(meetings)
    chosen = selection.chosen("document")
    narrowed = (
        meetings
        or selection.search
        or any(selection.chosen(name) for name in ("theme", "size", "stakeholder"))
    )
    if chosen is None:
        return summary_document(opinions, title=summary_title(m.number for m in meetings))
    document = chosen.document
    return summary_document(
        opinions, title=document.title, label=document.label, keep_unused_themes=not narrowed
    )
