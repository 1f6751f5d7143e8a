"""How a remark is cited: its meetings each with its own date, and a plain-text citation.

A remark belongs to a meeting directly (one submitted for it) or through its source
document, which may cover several meetings; each is named with its own date, so that
「第1回、第2回（2019年4月9日）」 no longer reads as if both met that day.
"""

from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .models import Committee, Meeting, Opinion


@dataclass(frozen=True)
class MeetingLabel:
    meeting: Meeting
    text: str  # 第2回（2019年4月9日）, or 第1回（開催日未登録）


def meeting_label(meeting: Meeting) -> str:
    if meeting.held_on is None:
        return _("%(meeting)s（開催日未登録）") % {"meeting": meeting}
    return _("%(meeting)s（%(date)s）") % {
        "meeting": meeting,
        "date": date_format(meeting.held_on, "DATE_FORMAT"),
    }


def meetings_of(opinion: Opinion) -> list[MeetingLabel]:
    """The meetings the remark was made at, in order, each labelled with its own date."""
    if opinion.meeting is not None:
        meetings = [opinion.meeting]
    elif opinion.source_document is not None:
        # .all() and a sort here, not order_by(): the page's prefetch holds them already
        meetings = sorted(opinion.source_document.meetings.all(), key=lambda m: m.number)
    else:
        meetings = []
    return [MeetingLabel(meeting, meeting_label(meeting)) for meeting in meetings]


def committee_of(opinion: Opinion, meetings: list[MeetingLabel]) -> Committee | None:
    if opinion.source_document is not None:
        return opinion.source_document.committee
    return meetings[0].meeting.committee if meetings else None


@dataclass(frozen=True)
class CitationPart:
    text: str
    lang: str = ""  # "ja" for data (names and titles), "" for the interface's language


def citation_parts(
    opinion: Opinion, *, url: str, meetings: list[MeetingLabel]
) -> list[CitationPart]:
    """A citation's parts: committee, meetings with their dates, 資料番号 and title, page,
    意見番号 and URL; parts the remark lacks are left out. (No day of viewing: the page that
    shows it is cached until the data changes.)"""
    parts = []
    if committee := committee_of(opinion, meetings):
        parts.append(CitationPart(committee.name, "ja"))
    if meetings:
        between = pgettext("between meetings", "・")
        parts.append(CitationPart(between.join(label.text for label in meetings)))
    if opinion.source_document is not None:
        parts.append(CitationPart(str(opinion.source_document), "ja"))
    if opinion.source_page:
        parts.append(CitationPart(_("%(page)s ページ") % {"page": opinion.source_page}))
    parts.append(CitationPart(_("意見番号 %(number)s") % {"number": opinion.pk}))
    parts.append(CitationPart(url))
    return parts


def separator() -> str:
    return pgettext("between citation parts", "、")


def citation(opinion: Opinion, *, url: str, meetings: list[MeetingLabel]) -> str:
    """The citation as plain text, in the interface's language around the data."""
    return separator().join(
        part.text for part in citation_parts(opinion, url=url, meetings=meetings)
    )
