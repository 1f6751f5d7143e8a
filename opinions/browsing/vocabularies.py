"""The curated vocabularies the list names in its facets and cards: the theme tree, each
kind of tag, the documents and the meetings.

A few hundred rows that change when an admin curates them, yet every first visit of a
search or a filter combination read and built them all again: 6–7 ms of a search's 60–75
at a million remarks (bench/results.md). They are cached under the data version like the
counts (:func:`caching.cached`: a write to any of their tables renews the version, and the
key holds the language their names are given in), as plain values where a facet needs no
more and as model instances where the templates read them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ..models import Meeting, SourceDocument, Theme
from . import caching
from .axes import TAG_AXES


@dataclass(frozen=True)
class Vocabularies:
    themes: list[Theme]  # depth-first document order (Theme.objects.in_tree_order)
    tags: dict[str, list]  # axis name → its tags in the vocabulary's order, inactive ones too
    documents: list[tuple[int, str, str]]  # (pk, slug, name)
    meetings: list[tuple[int, str]]  # (pk, "committee name + meeting")
    covered: dict[int, set[int]]  # document pk → the meetings it covers


def read() -> Vocabularies:
    """Every vocabulary as it is now (six queries)."""
    covered: dict[int, set[int]] = defaultdict(set)
    for document_id, meeting_id in SourceDocument.meetings.through.objects.values_list(
        "sourcedocument_id", "meeting_id"
    ):
        covered[document_id].add(meeting_id)
    return Vocabularies(
        themes=list(Theme.objects.in_tree_order()),
        tags={name: list(axis.model.objects.all()) for name, axis in TAG_AXES.items()},
        documents=[
            (document.pk, document.slug, str(document)) for document in SourceDocument.objects.all()
        ],
        meetings=[
            (meeting.pk, f"{meeting.committee.name} {meeting}")
            for meeting in Meeting.objects.select_related("committee")
        ],
        covered=dict(covered),
    )


def of(request) -> Vocabularies:
    """The vocabularies, read once per data version, language and audience."""
    return caching.cached(request, "vocabularies", (), read)
