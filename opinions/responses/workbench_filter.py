"""The workbench's FilterSet: the list's filters, plus 対応区分 and state over every
response (for 事務局)."""

import django_filters
from django import forms
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from ..browsing.filters import OpinionFilter
from .filters import NONE, _answered, by_category
from .models import ResponseCategory, ResponseState


class StateChoices:
    """The workbench's state filter: a response state, no response, or needs another look."""

    NEEDS_LOOK = "needs-look"

    @classmethod
    def choices(cls):
        return [
            (NONE, _("未対応")),
            *ResponseState.choices,
            (cls.NEEDS_LOOK, _("要再確認")),
        ]


def needs_look_condition() -> Q:
    """A remark grouped in after its response was written, or revised since."""
    return Q(response_link__answered_version__isnull=True) | ~Q(
        response_link__answered_version=F("version")
    )


class WorkbenchFilter(OpinionFilter):
    """The list's filters, plus 対応区分 and state over every response (for 事務局)."""

    category = django_filters.MultipleChoiceFilter(
        label=_("対応区分"),
        method="filter_category",
        choices=[],
        widget=forms.CheckboxSelectMultiple,
    )
    state = django_filters.MultipleChoiceFilter(
        label=_("対応の状態"),
        method="filter_state",
        choices=StateChoices.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta(OpinionFilter.Meta):
        fields = [*OpinionFilter.Meta.fields, "category", "state"]

    # Its counts are live (the count tables know nothing of responses): it never builds a
    # count scope, and the choices of category and state apply after the selection's.

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["category"].extra["choices"] = [
            *((c.slug, c.name) for c in ResponseCategory.objects.all()),
            (NONE, _("対応なし")),
        ]

    def filter_category(self, queryset, name, value):
        categories = list(ResponseCategory.objects.filter(slug__in=value))
        return by_category(
            queryset, [*categories, *([NONE] if NONE in value else [])], published_only=False
        )

    def filter_state(self, queryset, name, value):
        if not value:
            return queryset
        condition = Q()
        states = [v for v in value if v in ResponseState.values]
        if states:
            condition |= Q(_answered(response__state__in=states))
        if NONE in value:
            condition |= ~Q(_answered())
        if StateChoices.NEEDS_LOOK in value:
            condition |= Q(response_link__isnull=False) & needs_look_condition()
        return queryset.filter(condition)
