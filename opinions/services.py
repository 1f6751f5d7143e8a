"""Multi-step writes. Each runs in one transaction: it happens whole or not at all."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify

from .importers import ParsedDocument, ParsedNode
from .models import Committee, Meeting, Opinion, SourceDocument, Theme

# path of a node (names from the section down, joined by " › ") -> (short label, slug)
ThemeLabels = Mapping[str, tuple[str, str]]

_TRAILING_NOTE = re.compile(r"[（(][^（）()]*[）)]$")


@dataclass
class ImportResult:
    document: SourceDocument
    document_created: bool = False
    themes_created: int = 0
    opinions_created: int = 0
    opinions_updated: int = 0
    opinions_unchanged: int = 0
    opinions_hidden: int = 0  # positions the new text no longer has
    messages: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.document_created
            or self.themes_created
            or self.opinions_created
            or self.opinions_updated
            or self.opinions_hidden
        )


def default_short_label(name: str) -> str:
    """A first short label for a heading: width-folded, without a trailing （…） note.

    未来技術（Society 5.0等） → 未来技術; curators refine labels in the admin.
    """
    label = unicodedata.normalize("NFKC", name)
    stripped = _TRAILING_NOTE.sub("", label).strip()
    return (stripped or label)[: Theme._meta.get_field("short_label").max_length]


def read_theme_labels(path: Path) -> dict[str, tuple[str, str]]:
    """Read a curated labels file: tab-separated ``path``, ``short_label``, ``slug``."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {
            row["path"]: (row["short_label"], row["slug"])
            for row in csv.DictReader(handle, delimiter="\t")
        }


def _unique_slug(model, wanted: str, *, exclude_pk: int | None = None) -> str:
    base = slugify(wanted, allow_unicode=True)[:90] or model._meta.model_name
    candidate, number = base, 1
    taken = model.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _sync_theme(
    parsed: ParsedNode, parent: Theme | None, path: str, labels: ThemeLabels, result: ImportResult
) -> Theme:
    """Find the node by parent and name, or create it after its existing siblings."""
    theme = Theme.objects.filter(parent=parent, name=parsed.name).first()
    if theme is not None:
        return theme
    siblings = Theme.objects.filter(parent=parent) if parent else Theme.objects.filter(level=1)
    position = (siblings.aggregate(last=Max("position"))["last"] or 0) + 1
    short_label, slug = labels.get(path) or (default_short_label(parsed.name), "")
    result.themes_created += 1
    return Theme.objects.create(
        parent=parent,
        level=parsed.level,
        name=parsed.name,
        short_label=short_label,
        slug=_unique_slug(Theme, slug or short_label),
        position=position,
    )


@transaction.atomic
def import_summary_document(
    parsed: ParsedDocument,
    *,
    committee: Committee,
    meeting_numbers: Iterable[int] = (),
    labels: ThemeLabels | None = None,
) -> ImportResult:
    """Write a parsed summary document: its themes, its remarks (published), its meetings.

    Idempotent: the document is found by committee and title, themes by parent and name,
    remarks by document and position, so a second run of the same text changes nothing.
    A re-import of a revised text updates changed remarks and hides (never deletes) those
    whose position the text no longer has.
    """
    labels = labels or {}
    document = SourceDocument.objects.filter(committee=committee, title=parsed.title).first()
    if document is None:
        document = SourceDocument.objects.create(
            committee=committee,
            title=parsed.title,
            label=parsed.label,
            slug=_unique_slug(SourceDocument, f"{parsed.label}-{parsed.title}"),
        )
        result = ImportResult(document=document, document_created=True)
    else:
        result = ImportResult(document=document)
        if parsed.label and document.label != parsed.label:
            document.label = parsed.label
            document.save(update_fields=["label"])
            result.messages.append(f"資料番号を「{parsed.label}」に更新しました。")

    meetings = [
        Meeting.objects.get_or_create(committee=committee, number=number)[0]
        for number in meeting_numbers
    ]
    document.meetings.add(*meetings)

    existing = {opinion.position: opinion for opinion in document.opinions.all()}
    themes: dict[int, Theme] = {}  # id(parsed node) -> its Theme row
    position = 0
    for node, parent, path in parsed.walk_tree():
        theme = themes[id(node)] = _sync_theme(
            node, themes[id(parent)] if parent else None, " › ".join(path), labels, result
        )
        for item in node.opinions:
            position += 1
            _sync_opinion(existing.get(position), item.body, theme, position, result)

    for stale in (opinion for pos, opinion in existing.items() if pos > position):
        if stale.status != Opinion.Status.HIDDEN:
            stale.status = Opinion.Status.HIDDEN
            stale.save(update_fields=["status", "updated_at"])
            result.opinions_hidden += 1
    return result


def _sync_opinion(
    opinion: Opinion | None, body: str, theme: Theme, position: int, result: ImportResult
) -> None:
    if opinion is None:
        Opinion.objects.create(
            body=body,
            theme=theme,
            source_document=result.document,
            position=position,
            status=Opinion.Status.PUBLISHED,
        )
        result.opinions_created += 1
    elif opinion.body != body or opinion.theme_id != theme.pk:
        opinion.body, opinion.theme = body, theme
        opinion.save(update_fields=["body", "theme", "updated_at"])
        result.opinions_updated += 1
    else:
        result.opinions_unchanged += 1
