"""Submission and review: members submit, revise and withdraw remarks; 事務局 reviews
them; each step mails who must know once it commits. Each runs in one transaction."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from ..concurrency import retrying_atomic
from ..models import (
    Meeting,
    MunicipalitySize,
    Opinion,
    Stakeholder,
    Theme,
)

# --- Submission and review ---------------------------------------------------------------


class EditConflict(Exception):
    """The remark changed since the version the edit was made from."""

    def __init__(self, opinion: Opinion, changes: list[tuple[str, str, str]]):
        self.opinion = opinion
        self.changes = changes  # (field label, as it was, as it is now)
        super().__init__(f"opinion {opinion.pk} changed since the edit began")


class NotEditable(Exception):
    """The remark is no longer in a state its author may change (e.g. already published)."""


def _display(field: str, value) -> str:
    if value in (None, "", []):
        return "—"
    if field == "theme":
        theme = Theme.objects.filter(pk=value).first()
        return theme.display_name if theme else str(value)
    if field == "meeting":
        meeting = Meeting.objects.select_related("committee").filter(pk=value).first()
        return f"{meeting.committee} {meeting}" if meeting else str(value)
    if field in ("municipality_sizes", "stakeholders"):
        model = MunicipalitySize if field == "municipality_sizes" else Stakeholder
        column = model._meta.model_name
        ids = [row[column] for row in value]
        names = model.objects.filter(pk__in=ids).values_list("name", flat=True)
        return pgettext("list separator", "、").join(names) or "—"
    if field == "status":
        return str(Opinion.Status(value).label)
    return str(value)


def changes_since(opinion: Opinion, version: int) -> list[tuple[str, str, str]]:
    """What changed in ``opinion`` after ``version``, field by field, from its history."""
    records = opinion.history.order_by("history_date", "history_id")
    base = records.filter(version=version).last()
    latest = records.last()
    if base is None or latest is None:
        return []
    shown = {
        "body",
        "theme",
        "municipality_sizes",
        "stakeholders",
        "meeting",
        "status",
        "review_comment",
    }
    delta = latest.diff_against(base, included_fields=shown)
    return [
        (
            str(Opinion._meta.get_field(change.field).verbose_name),
            _display(change.field, change.old),
            _display(change.field, change.new),
        )
        for change in delta.changes
    ]


def _notify(
    subject: str, template: str, context: dict, recipients: Iterable[str], *, language: str
) -> None:
    recipients = sorted({address for address in recipients if address})
    if recipients:
        with translation.override(language):
            # A remark's subject carries its 受付番号 (%(pk)s); others have none to fill.
            opinion = context.get("opinion")
            send_mail(
                str(subject) % {"pk": opinion.pk} if opinion is not None else str(subject),
                render_to_string(template, context),
                None,  # DEFAULT_FROM_EMAIL
                recipients,
                fail_silently=False,
            )


def _secretariat_addresses() -> list[str]:
    """Whoever reviews remarks: the holders of the permission, not a group's name."""
    from .. import roles

    return list(roles.holders(roles.REVIEWS).exclude(email="").values_list("email", flat=True))


_SUBJECTS = {
    "submitted": _("【意見ポータル】意見を受け付けました"),
    "revised": _("【意見ポータル】意見の修正を受け付けました"),
    "resubmitted": _("【意見ポータル】意見が修正・再提出されました"),
    "published": _("【意見ポータル】意見が公開されました"),
    "returned": _("【意見ポータル】意見が差し戻されました"),
    "withdrawn": _("【意見ポータル】意見が取り下げられました"),
}
# What 事務局 is told of the author's doings: new (新規) or changed (修正), with the number.
_STAFF_SUBJECTS = {
    "submitted": _("【意見ポータル】確認待ちの意見（新規）受付番号 %(pk)s"),
    "revised": _("【意見ポータル】確認待ちの意見（修正）受付番号 %(pk)s"),
    "resubmitted": _("【意見ポータル】確認待ちの意見（修正・再提出）受付番号 %(pk)s"),
    "withdrawn": _("【意見ポータル】意見が取り下げられました 受付番号 %(pk)s"),
}
# What the author did themselves; the rest (published, returned) is 事務局's doing.
_AUTHOR_EVENTS = ("submitted", "revised", "resubmitted", "withdrawn")


def _after_commit_notify(opinion: Opinion, event: str) -> None:
    """Mail the author and, for submissions, the 事務局 once the change is committed.

    Nobody's preferred language is stored, so a mail is in the language the author is using
    when it is their own action, and otherwise in the portal's default (Japanese).
    """
    acting_language = translation.get_language() or settings.LANGUAGE_CODE
    author_language = acting_language if event in _AUTHOR_EVENTS else settings.LANGUAGE_CODE

    def send():
        context = {"opinion": opinion, "event": event, "base_url": settings.PORTAL_URL}
        author = [opinion.author.email] if opinion.author_id and opinion.author.email else []
        _notify(
            _SUBJECTS[event],
            "emails/opinion_event.txt",
            context,
            author,
            language=author_language,
        )
        if event in _AUTHOR_EVENTS:
            _notify(
                _STAFF_SUBJECTS[event],
                "emails/opinion_event_staff.txt",
                context,
                _secretariat_addresses(),
                language=settings.LANGUAGE_CODE,
            )

    transaction.on_commit(send)


@retrying_atomic
def submit_opinion(
    *,
    author,
    token,
    body: str,
    theme: Theme,
    municipality_sizes: Iterable[MunicipalitySize] = (),
    stakeholders: Iterable[Stakeholder] = (),
    meeting: Meeting | None = None,
) -> tuple[Opinion, bool]:
    """Create a pending remark, once per form token: a resubmitted POST returns the remark
    the first one created (``created`` False) instead of making a second one."""
    existing = Opinion.objects.filter(submission_token=token).first()
    if existing is not None:
        return existing, False
    opinion = Opinion(
        body=body,
        theme=theme,
        meeting=meeting,
        author=author,
        status=Opinion.Status.PENDING,
        submission_token=token,
    )
    opinion._history_user = author
    try:
        with transaction.atomic():  # a concurrent double submit loses here, cleanly
            opinion.save()
    except IntegrityError:
        return Opinion.objects.get(submission_token=token), False
    opinion.municipality_sizes.set(municipality_sizes)
    opinion.stakeholders.set(stakeholders)
    _after_commit_notify(opinion, "submitted")
    return opinion, True


def _locked(opinion_pk: int, expected_version: int | None) -> Opinion:
    """The row, locked until the transaction ends; EditConflict if it moved on."""
    opinion = Opinion.objects.select_for_update().get(pk=opinion_pk)
    if expected_version is not None and opinion.version != expected_version:
        raise EditConflict(opinion, changes_since(opinion, expected_version))
    return opinion


@retrying_atomic
def revise_opinion(
    opinion_pk: int,
    *,
    by,
    expected_version: int,
    body: str,
    theme: Theme,
    municipality_sizes: Iterable[MunicipalitySize],
    stakeholders: Iterable[Stakeholder],
    meeting: Meeting | None,
) -> Opinion:
    """The author's edit. A returned remark goes back to 確認待ち (resubmitted)."""
    opinion = _locked(opinion_pk, expected_version)
    if not opinion.is_editable_by_author:
        raise NotEditable(opinion.get_status_display())
    was_returned = opinion.status == Opinion.Status.RETURNED
    opinion.body, opinion.theme, opinion.meeting = body, theme, meeting
    opinion.status = Opinion.Status.PENDING
    opinion._history_user = by
    opinion.save()
    opinion.municipality_sizes.set(municipality_sizes)
    opinion.stakeholders.set(stakeholders)
    # An edit of a remark still waiting is a 修正, not a new remark: 事務局 must not read it
    # as one more to review from scratch.
    _after_commit_notify(opinion, "resubmitted" if was_returned else "revised")
    return opinion


@retrying_atomic
def withdraw_opinion(opinion_pk: int, *, by) -> Opinion:
    """Soft delete by the author: the record and its history stay."""
    opinion = _locked(opinion_pk, None)
    if not opinion.is_editable_by_author:
        raise NotEditable(opinion.get_status_display())
    opinion.status = Opinion.Status.WITHDRAWN
    opinion._history_user = by
    opinion.save(update_fields=["status", "updated_at"])
    _after_commit_notify(opinion, "withdrawn")
    return opinion


@retrying_atomic
def review_opinion(
    opinion_pk: int,
    *,
    by,
    expected_version: int,
    publish: bool,
    comment: str = "",
    memo: str | None = None,
    municipality_sizes: Iterable[MunicipalitySize] | None = None,
    stakeholders: Iterable[Stakeholder] | None = None,
) -> Opinion:
    """事務局's decision on a pending remark: publish it, or return it with a comment.

    The comment goes to the author either way (a publication may carry one too); ``memo``,
    when given, replaces the internal memo, which only 事務局 reads. Tags given are set
    before the save, so the historical record of the decision holds them.
    """
    opinion = _locked(opinion_pk, expected_version)
    if opinion.status != Opinion.Status.PENDING:
        raise NotEditable(opinion.get_status_display())
    _set_review_tags(opinion, municipality_sizes, stakeholders)
    opinion.status = Opinion.Status.PUBLISHED if publish else Opinion.Status.RETURNED
    opinion.review_comment = comment.strip()
    if memo is not None:
        opinion.internal_memo = memo.strip()
    opinion.reviewed_by, opinion.reviewed_at = by, timezone.now()
    opinion._history_user = by
    opinion.save()
    _after_commit_notify(opinion, "published" if publish else "returned")
    return opinion


def _set_review_tags(opinion: Opinion, municipality_sizes, stakeholders) -> None:
    if municipality_sizes is not None:
        opinion.municipality_sizes.set(municipality_sizes)
    if stakeholders is not None:
        opinion.stakeholders.set(stakeholders)


@retrying_atomic
def save_review_notes(
    opinion_pk: int,
    *,
    by,
    expected_version: int,
    memo: str,
    municipality_sizes: Iterable[MunicipalitySize] | None = None,
    stakeholders: Iterable[Stakeholder] | None = None,
) -> Opinion:
    """事務局's memo and tag corrections on a pending remark, without deciding on it yet.

    The memo is written with ``update()``, not ``save()``: it is not a new version of the
    remark, so an edit its author has open is not refused as a conflict because of it.
    """
    opinion = _locked(opinion_pk, expected_version)
    if opinion.status != Opinion.Status.PENDING:
        raise NotEditable(opinion.get_status_display())
    _set_review_tags(opinion, municipality_sizes, stakeholders)
    Opinion.objects.filter(pk=opinion.pk).update(internal_memo=memo.strip())
    opinion.internal_memo = memo.strip()
    return opinion
