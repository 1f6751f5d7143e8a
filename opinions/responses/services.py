"""Writes of the response ledger. Each runs in one transaction and locks what it changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import Opinion
from ..people import person_name
from ..services.submission import _notify
from .models import PolicyDocument, Response, ResponseCategory, ResponseReference, ResponseRemark

State = Response.State


class ResponseConflict(Exception):
    """The response changed since the version the edit was made from."""

    def __init__(self, response: Response, changes: list[tuple[str, str, str]]):
        self.response = response
        self.changes = changes  # (field label, as it was, as it is now)
        super().__init__(f"response {response.pk} changed since the edit began")


class NotAllowed(Exception):
    """The step is not possible in the response's state or for this user; the message
    (Japanese, translatable) says why."""


@dataclass(frozen=True)
class Reference:
    """One 反映先 as the form gives it."""

    document: PolicyDocument
    section: str = ""
    page: int | None = None
    url: str = ""


_SHOWN_FIELDS = ("category", "reasoning", "memo", "state", "author", "reviewer")


def _display(field: str, value) -> str:
    if value in (None, ""):
        return "—"
    if field == "category":
        category = ResponseCategory.objects.filter(pk=value).first()
        return category.name if category else str(value)
    if field == "state":
        return str(State(value).label)
    if field in ("author", "reviewer"):
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=value).first()
        return person_name(user) if user else str(value)
    return str(value)


def changes_since(response: Response, version: int) -> list[tuple[str, str, str]]:
    """What changed in ``response`` after ``version``, field by field, from its history."""
    records = response.history.order_by("history_date", "history_id")
    base = records.filter(version=version).last()
    latest = records.last()
    if base is None or latest is None:
        return []
    delta = latest.diff_against(base, included_fields=list(_SHOWN_FIELDS))
    return [
        (
            str(Response._meta.get_field(change.field).verbose_name),
            _display(change.field, change.old),
            _display(change.field, change.new),
        )
        for change in delta.changes
    ]


def _locked(response_pk: int, expected_version: int | None) -> Response:
    response = Response.objects.select_for_update().get(pk=response_pk)
    if expected_version is not None and response.version != expected_version:
        raise ResponseConflict(response, changes_since(response, expected_version))
    return response


def _require_draft(response: Response) -> None:
    if response.state != State.DRAFT:
        raise NotAllowed(
            _("対応 %(pk)s は「%(state)s」のため変更できません。先に下書きに戻してください。")
            % {"pk": response.pk, "state": response.get_state_display()}
        )


def _save(response: Response, by, **kwargs) -> None:
    response._history_user = by
    response.save(**kwargs)


def _prune_empty(response_ids: Iterable[int]) -> None:
    """Responses left with no remark are deleted (their history stays)."""
    Response.objects.filter(pk__in=set(response_ids), links__isnull=True).delete()


@transaction.atomic
def group_remarks(*, remarks: Sequence[Opinion], by) -> Response:
    """Put ``remarks`` under one response: the draft one of them already has (the first in
    document order), else a new draft. Remarks taken from another draft leave it (a draft
    left empty is deleted); a remark whose response is confirmed or published is not moved.
    Remarks joining an existing response are marked as needing another look."""
    opinions = list(Opinion.objects.filter(pk__in=[r.pk for r in remarks]).in_document_order())
    if not opinions:
        raise NotAllowed(_("意見を選んでください。"))
    links = {
        link.opinion_id: link
        for link in ResponseRemark.objects.select_for_update(of=("self",))
        .filter(opinion__in=opinions)
        .select_related("response")
        .order_by("pk")
    }
    for link in links.values():
        _require_draft(link.response)
    target = next((links[o.pk].response for o in opinions if o.pk in links), None)
    if target is None:
        target = Response(author=by)
        _save(target, by)
    left = set()
    for opinion in opinions:
        link = links.get(opinion.pk)
        if link is None:
            ResponseRemark.objects.create(response=target, opinion=opinion)
        elif link.response_id != target.pk:
            left.add(link.response_id)
            link.response, link.answered_version = target, None
            link.save(update_fields=["response", "answered_version"])
    _prune_empty(left)
    _save(target, by, update_fields=[])
    return target


@transaction.atomic
def ungroup_remarks(*, remarks: Sequence[Opinion], by) -> int:
    """Take ``remarks`` out of their (draft) responses; each then has none. Returns how
    many were taken out."""
    links = list(
        ResponseRemark.objects.select_for_update(of=("self",))
        .filter(opinion__in=[r.pk for r in remarks])
        .select_related("response")
        .order_by("pk")
    )
    for link in links:
        _require_draft(link.response)
    for link in links:
        link._history_user = by
        link.delete()
    _prune_empty(link.response_id for link in links)
    return len(links)


@dataclass
class CategoryResult:
    updated: int = 0  # drafts whose 対応区分 was set
    created: int = 0  # remarks without a response that got a draft
    skipped: int = 0  # remarks whose response is confirmed or published


@transaction.atomic
def set_category(*, remarks: Sequence[Opinion], category: ResponseCategory, by) -> CategoryResult:
    """The bulk 対応区分: each selected remark's draft response gets ``category``; a remark
    without a response gets a draft of its own; confirmed and published ones are left."""
    result = CategoryResult()
    ids = [r.pk for r in remarks]
    drafts = Response.objects.select_for_update().filter(
        pk__in=ResponseRemark.objects.filter(opinion__in=ids).values("response_id")
    )
    for response in drafts:
        if response.state != State.DRAFT:
            result.skipped += response.links.filter(opinion__in=ids).count()
            continue
        response.category = category
        _save(response, by, update_fields=["category"])
        result.updated += 1
    for opinion in Opinion.objects.filter(pk__in=ids, response_link__isnull=True):
        response = Response(author=by, category=category)
        _save(response, by)
        ResponseRemark.objects.create(response=response, opinion=opinion)
        result.created += 1
    return result


@transaction.atomic
def save_response(
    response_pk: int,
    *,
    by,
    expected_version: int,
    category: ResponseCategory | None,
    reasoning: str,
    memo: str,
    references: Iterable[Reference],
) -> Response:
    """Write a draft's text and 反映先. The writer becomes its author (so the confirmation
    is by someone else than who wrote it last), and every remark counts as looked at."""
    response = _locked(response_pk, expected_version)
    _require_draft(response)
    response.category, response.reasoning, response.memo = category, reasoning.strip(), memo
    response.author = by
    _save(response, by)
    response.references.all().delete()
    ResponseReference.objects.bulk_create(
        ResponseReference(
            response=response,
            document=reference.document,
            section=reference.section,
            page=reference.page,
            url=reference.url,
            position=position,
        )
        for position, reference in enumerate(references, start=1)
    )
    for link in response.links.select_related("opinion"):
        if link.answered_version != link.opinion.version:
            link.answered_version = link.opinion.version
            link.save(update_fields=["answered_version"])
    return response


@transaction.atomic
def confirm_response(response_pk: int, *, by, expected_version: int) -> Response:
    """The second pair of eyes: a draft is confirmed by someone other than its author."""
    response = _locked(response_pk, expected_version)
    _require_draft(response)
    if response.author_id == by.pk:
        raise NotAllowed(
            _("自分が書いた対応は確認できません。ほかの事務局の方に依頼してください。")
        )
    if response.category_id is None or not response.reasoning.strip():
        raise NotAllowed(_("対応区分と考え方を入力してから確認してください。"))
    if any(link.needs_look for link in response.links.select_related("opinion")):
        raise NotAllowed(
            _(
                "対応の後に追加・修正された意見があります。考え方を見直して保存してから確認してください。"
            )
        )
    response.state = State.CONFIRMED
    response.reviewer, response.reviewed_at = by, timezone.now()
    _save(response, by)
    return response


@transaction.atomic
def publish_response(response_pk: int, *, by, expected_version: int) -> Response:
    """Publish a confirmed response; the authors of the remarks it answers get a mail."""
    response = _locked(response_pk, expected_version)
    if response.state != State.CONFIRMED:
        raise NotAllowed(
            _("公開できるのは確認済みの対応だけです（対応 %(pk)s は「%(state)s」）。")
            % {"pk": response.pk, "state": response.get_state_display()}
        )
    response.state, response.published_at = State.PUBLISHED, timezone.now()
    _save(response, by)
    _after_commit_mail_authors(response)
    return response


@transaction.atomic
def return_to_draft(response_pk: int, *, by, expected_version: int) -> Response:
    """Back to 下書き from 確認済み or 公開 (a published one leaves the public pages)."""
    response = _locked(response_pk, expected_version)
    if response.state == State.DRAFT:
        return response
    response.state = State.DRAFT
    response.reviewer = response.reviewed_at = response.published_at = None
    _save(response, by)
    return response


def _after_commit_mail_authors(response: Response) -> None:
    """Once committed, each author of a published remark it answers gets one mail (in the
    portal's default language, as for other 事務局 actions)."""

    def send():
        opinions = (
            Opinion.objects.published()
            .filter(response_link__response=response)
            .select_related("author", "theme")
            .exclude(author__isnull=True)
            .exclude(author__email="")
        )
        by_author: dict[int, list[Opinion]] = {}
        for opinion in opinions:
            by_author.setdefault(opinion.author_id, []).append(opinion)
        for remarks in by_author.values():
            author = remarks[0].author
            _notify(
                _("【意見ポータル】ご意見への事務局の対応が公開されました"),
                "emails/response_published.txt",
                {
                    "author": author,
                    "response": response,
                    "opinions": remarks,
                    "base_url": settings.PORTAL_URL,
                },
                [author.email],
                language=settings.LANGUAGE_CODE,
            )

    transaction.on_commit(send)
