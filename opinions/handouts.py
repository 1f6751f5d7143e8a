"""What an export says about the remarks it holds: the conditions, as the list's chips name
them, the committee, and the parts of its file name.

Read from the list's Selection, here, into a frozen value that the exporters (pure, see
``exporters.TitleBlock`` and ``exporters.export_filename``) are given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import pgettext

from . import exporters
from .browsing.axes import AXES
from .browsing.selection import Selection
from .models import Committee, Meeting


@dataclass(frozen=True)
class Conditions:
    """What an export was made with: (facet, value) pairs as the list's chips say them,
    the same shortened for a file name (a document by its slug), and the committee they
    point at, if any."""

    shown: tuple[tuple[str, str], ...] = ()
    name_parts: tuple[str, ...] = ()
    committee_id: int | None = None


def conditions_of(selection: Selection, *, meetings: Sequence[Meeting] = ()) -> Conditions:
    """The conditions of the list's ``selection``, and ``meetings`` when an export takes
    several (the 主なご意見 document of 第３回 and 第４回)."""
    document = selection.chosen("document")
    document_facet = str(AXES["document"].label)
    shown, parts = [], []
    for chip in selection.chips():
        shown.append((chip.facet, chip.value))
        parts.append(document.document.slug if chip.facet == document_facet else chip.value)
    if meetings:
        between = pgettext("list separator", "、")
        shown.append((str(AXES["meeting"].label), between.join(str(m) for m in meetings)))
        parts.extend(str(meeting) for meeting in meetings)
    meeting = meetings[0] if meetings else getattr(selection.chosen("meeting"), "meeting", None)
    committee_id = (
        document.document.committee_id if document else meeting.committee_id if meeting else None
    )
    return Conditions(tuple(shown), tuple(parts), committee_id)


def crosstab_conditions(axis_title: str, form, *, document=None, meeting=None) -> Conditions:
    """A cross-tab's conditions: its axes (テーマ × 関係者), then the document or meeting it
    is restricted to (``form`` the cross-tab's, for the names of those fields)."""
    shown, parts = [], [axis_title.replace(" ", "")]
    if document is not None:
        shown.append((str(form["document"].label), str(document)))
        parts.append(document.slug)
    if meeting is not None:
        shown.append((str(form["meeting"].label), str(meeting)))
        parts.append(str(meeting))
    committee = document or meeting
    return Conditions(tuple(shown), tuple(parts), committee.committee_id if committee else None)


def committee_name(conditions: Conditions) -> str:
    """The committee the remarks are of: the chosen document's or meeting's, else the only
    committee there is; "" when there are several. One query."""
    if conditions.committee_id is not None:
        names = Committee.objects.filter(pk=conditions.committee_id)
    else:
        names = Committee.objects.all()
    found = list(names.values_list("name", flat=True)[:2])
    return found[0] if len(found) == 1 else ""


def title_block(
    conditions: Conditions, *, title: str, label: str = "", count: int | None = None, url: str
) -> exporters.TitleBlock:
    return exporters.TitleBlock(
        title=title,
        committee=committee_name(conditions),
        label=label,
        conditions=conditions.shown,
        count=count,
        url=url,
    )


def filename(
    kind: str, conditions: Conditions, *, suffix: str, variant: str = ""
) -> exporters.FileName:
    return exporters.export_filename(kind, conditions.name_parts, suffix=suffix, variant=variant)
