"""The FilterSet the opinion list (and later its exports and API) share."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Opinion, Theme


class ThemeChoiceField(forms.ModelChoiceField):
    """Themes as an indented tree, each option showing the heading as the document has it."""

    def label_from_instance(self, obj: Theme) -> str:
        return "\u3000" * (obj.level - 1) + obj.short_label


class ThemeFilter(django_filters.ModelChoiceFilter):
    field_class = ThemeChoiceField


class OpinionFilter(django_filters.FilterSet):
    theme = ThemeFilter(
        label=_("テーマ"),
        queryset=Theme.objects.in_tree_order(),
        to_field_name="slug",
        method="filter_theme",
        empty_label=_("すべてのテーマ"),
    )

    class Meta:
        model = Opinion
        fields = ["theme"]

    def filter_theme(self, queryset, name, value: Theme):
        """A section or theme includes everything below it."""
        return queryset.in_theme(value)
