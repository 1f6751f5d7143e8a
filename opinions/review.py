"""事務局's review queue: what it lists (filters, sort), the pending count the navigation
shows, and publishing several remarks at once."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import django_filters
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Case, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from . import services
from .browsing.axes import ThemeFilter
from .forms import ReviewForm
from .models import MunicipalitySize, Opinion, Stakeholder, Theme
from .people import person_name

PERMISSION = "opinions.publish_opinion"

SORT_CHOICES = [
    ("oldest", _("待ち時間の長い順")),
    ("newest", _("新しい順")),
    ("theme", _("テーマ順")),
]
AGE_CHOICES = [
    ("1", _("1日以上待っている")),
    ("3", _("3日以上待っている")),
    ("7", _("1週間以上待っている")),
    ("30", _("30日以上待っている")),
]


class AuthorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person_name(obj)


class AuthorFilter(django_filters.ModelChoiceFilter):
    field_class = AuthorChoiceField


def pending():
    """The remarks waiting for a decision."""
    return Opinion.objects.filter(status=Opinion.Status.PENDING)


def pending_authors():
    """The people who have a remark waiting, by name (the author filter's choices)."""
    return (
        get_user_model()
        .objects.filter(opinions__status=Opinion.Status.PENDING)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class ReviewFilter(django_filters.FilterSet):
    """The queue's filters. ``remark`` (one remark's number) is what mails link to."""

    remark = django_filters.NumberFilter(field_name="pk", widget=forms.HiddenInput)
    theme = ThemeFilter(
        label=_("テーマ"),
        queryset=Theme.objects.in_tree_order(),
        to_field_name="slug",
        method="filter_theme",
        empty_label=_("すべてのテーマ"),
    )
    author = AuthorFilter(label=_("投稿者"), queryset=pending_authors(), empty_label=_("すべて"))
    age = django_filters.ChoiceFilter(
        label=_("待ち時間"), choices=AGE_CHOICES, method="filter_age", empty_label=_("すべて")
    )
    sort = django_filters.ChoiceFilter(
        label=_("並び順"), choices=SORT_CHOICES, method="filter_sort", empty_label=None
    )

    class Meta:
        model = Opinion
        fields = ["remark", "theme", "author", "age", "sort"]

    def filter_theme(self, queryset, name, value: Theme):
        return queryset.in_theme(value)

    def filter_age(self, queryset, name, value: str):
        cutoff = timezone.now() - datetime.timedelta(days=int(value))
        return queryset.filter(updated_at__lte=cutoff)

    def filter_sort(self, queryset, name, value):
        return queryset  # applied in ``qs``, after every filter

    @property
    def qs(self):
        queryset = super().qs
        sort = self.form.cleaned_data.get("sort") if self.is_valid() else ""
        if sort == "newest":
            return queryset.order_by("-updated_at", "-pk")
        if sort == "theme":
            # The theme tree's document order, as Theme.objects.in_tree_order() sorts nodes.
            return queryset.order_by(
                Coalesce(
                    "theme__parent__parent__position", "theme__parent__position", "theme__position"
                ),
                Case(
                    When(theme__level=2, then="theme__position"),
                    When(theme__level=3, then="theme__parent__position"),
                    default=Value(-1),
                ),
                Case(When(theme__level=3, then="theme__position"), default=Value(-1)),
                "updated_at",
                "pk",
            )
        return queryset.order_by("updated_at", "pk")  # the longest waiting first


def pending_count_context(request) -> dict:
    """``review_pending_count`` for the navigation of those who review: one COUNT query,
    made only when a page renders it (a callable: templates call it on first use)."""
    if not request.user.is_authenticated or not request.user.has_perm(PERMISSION):
        return {}
    result: list[int] = []

    def count() -> int:
        if not result:
            result.append(pending().count())
        return result[0]

    return {"review_pending_count": count}


@dataclass
class BulkResult:
    published: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)  # edited since the page was shown
    not_pending: list[int] = field(default_factory=list)  # decided by someone else meanwhile


def parse_choices(values) -> list[tuple[int, int]]:
    """``"pk:version"`` values from the queue's checkboxes (malformed ones are ignored)."""
    choices = []
    for value in values[:200]:
        pk, _sep, version = str(value).partition(":")
        if pk.isdigit() and version.isdigit():
            choices.append((int(pk), int(version)))
    return list(dict.fromkeys(choices))


def publish_many(choices: list[tuple[int, int]], *, by) -> BulkResult:
    """Publish each chosen remark as shown (its version), each in its own transaction: one
    changed meanwhile is skipped and reported, the others are published all the same."""
    result = BulkResult()
    for pk, version in choices:
        try:
            services.review_opinion(pk, by=by, expected_version=version, publish=True)
        except services.EditConflict:
            result.changed.append(pk)
        except (services.NotEditable, Opinion.DoesNotExist):
            result.not_pending.append(pk)
        else:
            result.published.append(pk)
    return result


def queue_context(opinions, *, bound=None) -> dict:
    """What the queue's forms need beyond the rows: a form per remark (``bound``, a form
    posted with errors, in its remark's place) and the tags to tick, read once for the page
    (not once per form), each remark's own ticked."""
    sizes = list(MunicipalitySize.objects.all())
    stakeholders = list(Stakeholder.objects.all())
    rows = []
    for opinion in opinions:
        form = ReviewForm(
            initial={"version": opinion.version, "memo": opinion.internal_memo},
            prefix=f"r{opinion.pk}",
        )
        own_sizes = {tag.pk for tag in opinion.municipality_sizes.all()}
        own_stakeholders = {tag.pk for tag in opinion.stakeholders.all()}
        if bound is not None and bound.prefix == form.prefix:
            form = bound
            own_sizes = _ticked(bound, "municipality_sizes")
            own_stakeholders = _ticked(bound, "stakeholders")
        rows.append(
            {
                "opinion": opinion,
                "form": form,
                "tagged": bool(own_sizes or own_stakeholders),
                # Inactive tags are offered only where a remark already has them.
                "sizes": [
                    (tag, tag.pk in own_sizes)
                    for tag in sizes
                    if tag.is_active or tag.pk in own_sizes
                ],
                "stakeholders": [
                    (tag, tag.pk in own_stakeholders)
                    for tag in stakeholders
                    if tag.is_active or tag.pk in own_stakeholders
                ],
            }
        )
    return {"rows": rows}


def _ticked(form, name: str) -> set[int]:
    return {int(value) for value in form.data.getlist(form.add_prefix(name)) if value.isdigit()}


def bulk_messages(result: BulkResult) -> list[tuple[int, str]]:
    """The flash messages (level, text) that report a bulk publication, with counts."""

    def numbers(pks):
        return pgettext("list separator", "、").join(str(pk) for pk in pks)

    reported = []
    if result.published:
        reported.append(
            (
                messages.SUCCESS,
                ngettext(
                    "%(count)s 件の意見を公開しました。",
                    "%(count)s 件の意見を公開しました。",
                    len(result.published),
                )
                % {"count": len(result.published)},
            )
        )
    if result.changed:
        reported.append(
            (
                messages.WARNING,
                gettext(
                    "%(count)s 件は確認中に変更されたため公開しませんでした（意見 %(pks)s）。内容を確かめてください。"
                )
                % {"count": len(result.changed), "pks": numbers(result.changed)},
            )
        )
    if result.not_pending:
        reported.append(
            (
                messages.WARNING,
                gettext(
                    "%(count)s 件は確認待ちではなくなっていたため公開しませんでした（意見 %(pks)s）。"
                )
                % {"count": len(result.not_pending), "pks": numbers(result.not_pending)},
            )
        )
    return reported
