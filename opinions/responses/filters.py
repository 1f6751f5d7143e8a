"""Filters by response: the public 対応区分 facet (published responses only) and the
workbench's filters over every response state.

``NONE`` stands for "no (published) response" next to the categories' slugs. The
workbench's FilterSet is in ``workbench_filter`` (it extends OpinionFilter, which uses
the facet filter here).
"""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import ResponseCategory, ResponseRemark, ResponseState

NONE = "none"


class CategoryChoiceField(forms.ModelMultipleChoiceField):
    """Category slugs, plus ``none``; unknown values are dropped and remembered (as the
    tag filters' LenientMultipleChoiceField does) rather than emptying the list."""

    def clean(self, value):
        values = [str(v)[:100] for v in (value or [])][:50]
        candidates = [v for v in values if v != NONE and "\x00" not in v]
        known = list(self.queryset.filter(slug__in=candidates)) if candidates else []
        found = {category.slug for category in known}
        self.unknown = [v for v in values if v != NONE and v not in found]
        return [*known, NONE] if NONE in values else known


def _answered(**conditions) -> Exists:
    return Exists(ResponseRemark.objects.filter(opinion=OuterRef("pk"), **conditions))


def by_category(queryset, value, *, published_only: bool):
    """Remarks whose response has one of the chosen categories (or, for ``none``, none)."""
    if not value:
        return queryset
    states = {"response__state": ResponseState.PUBLISHED} if published_only else {}
    categories = [category for category in value if category != NONE]
    condition = Q()
    if categories:
        condition |= Q(_answered(response__category__in=categories, **states))
    if NONE in value:
        condition |= ~Q(_answered(**states))
    return queryset.filter(condition)


@extend_schema_field(OpenApiTypes.STR)
class PublishedCategoryFilter(django_filters.ModelMultipleChoiceFilter):
    """The list's 対応区分: what the published response to a remark says (``none``: no
    published response yet). Drafts and confirmed responses are never looked at, so the
    facet tells nobody anything about them."""

    field_class = CategoryChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("queryset", ResponseCategory.objects.all())
        kwargs.setdefault("to_field_name", "slug")
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        return by_category(qs, value, published_only=True)
