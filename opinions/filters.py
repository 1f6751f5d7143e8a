"""The FilterSet the opinion list, its facet counts (and later exports and the API) share.

Within one facet, several values are alternatives (OR); different facets combine (AND).
Unknown values are dropped and reported (``notices``) rather than emptying the list.
"""

from dataclasses import replace

import django_filters
from django import forms
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from . import counts, search
from .models import (
    Meeting,
    MunicipalitySize,
    Opinion,
    SourceDocument,
    Stakeholder,
    SynonymGroup,
    Theme,
)
from .responses.filters import PublishedCategoryFilter, response_chips


class ThemeSelect(forms.Select):
    """The theme options marked as Japanese (their labels are data); not the empty choice,
    which is interface text."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value != "":
            option["attrs"]["lang"] = "ja"
        return option


class ThemeChoiceField(forms.ModelChoiceField):
    """Themes as an indented tree."""

    widget = ThemeSelect

    def label_from_instance(self, obj: Theme) -> str:
        return "\u3000" * (obj.level - 1) + obj.short_label


class ThemeFilter(django_filters.ModelChoiceFilter):
    field_class = ThemeChoiceField


# The value of a tag facet for remarks without any tag of that kind: 規模を問わない for sizes,
# 関係者の指定なし for stakeholders. slugify() never makes a slug that starts with "_".
UNTAGGED = "_none"


UNTAGGED_LABELS = {"size": _("規模を問わない"), "stakeholder": _("関係者の指定なし")}


class LenientMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Keeps the known values of a multi-valued parameter and remembers the unknown ones,
    and whether the untagged value (``UNTAGGED``) was among them."""

    # The most values read from one parameter; any further ones are ignored.
    MAX_VALUES = 50

    def clean(self, value):
        self.unknown = []
        # An empty value is "not given" (an empty field of a form), not an unknown tag.
        values = [str(v)[:100] for v in value or () if str(v).strip()][: self.MAX_VALUES]
        self.untagged = UNTAGGED in values
        values = [v for v in values if v != UNTAGGED]
        if not values:
            return self.queryset.none()
        # PostgreSQL text cannot hold NUL; such a value matches nothing, so it is unknown.
        candidates = [v for v in values if "\x00" not in v]
        known = self.queryset.filter(**{f"{self.to_field_name}__in": candidates})
        found = {str(getattr(obj, self.to_field_name)) for obj in known}
        self.unknown = [v for v in values if v not in found]
        return known


# Tag slugs, for the API schema (it cannot tell from a filter with a method).
@extend_schema_field(OpenApiTypes.STR)
class TagFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = LenientMultipleChoiceField


class SortFilter(django_filters.ChoiceFilter):
    """Not a filter but the order of the results; applied last."""

    def filter(self, qs, value):
        return qs


SORT_CHOICES = [
    ("document", _("資料の順")),
    ("newest", _("新しい順")),
    ("relevance", _("関連度順")),
]


class OpinionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("キーワード"), method="filter_search")
    theme = ThemeFilter(
        label=_("テーマ"),
        queryset=Theme.objects.in_tree_order(),
        to_field_name="slug",
        method="filter_theme",
        empty_label=_("すべてのテーマ"),
    )
    size = TagFilter(
        label=_("自治体規模"),
        queryset=MunicipalitySize.objects.all(),
        to_field_name="slug",
        method="filter_sizes",
    )
    stakeholder = TagFilter(
        label=_("関係者"),
        queryset=Stakeholder.objects.all(),
        to_field_name="slug",
        method="filter_stakeholders",
    )
    document = django_filters.ModelChoiceFilter(
        label=_("資料"),
        queryset=SourceDocument.objects.all(),
        to_field_name="slug",
        field_name="source_document",
        empty_label=_("すべての資料"),
    )
    meeting = django_filters.ModelChoiceFilter(
        label=_("会議"),
        queryset=Meeting.objects.all(),
        empty_label=_("すべての会議"),
        method="filter_meeting",
    )
    response = PublishedCategoryFilter(label=_("対応区分"))
    sort = SortFilter(label=_("並び順"), choices=SORT_CHOICES, empty_label=None)

    class Meta:
        model = Opinion
        fields = ["q", "theme", "size", "stakeholder", "document", "meeting", "response", "sort"]

    # The facets the list counts options for, with the filter each one is.
    FACETS = ("theme", "size", "stakeholder", "document", "meeting")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.query = search.Query(raw="")
        self._ids: dict[str, list[int]] = {}

    def ids(self, name: str, queryset) -> list[int]:
        """The primary keys of ``queryset``, read once per request for filter ``name``.

        Filters compare with these constants rather than a subquery: the planner then
        estimates from its statistics how many remarks a tag or theme holds, where a
        subquery made it guess (a count at a million remarks, theme + size + stakeholder:
        1.6 s with subqueries, 0.26 s with constants). Facet counts reuse them.
        """
        if name not in self._ids:
            # Iterated rather than values_list(): a tag filter's value is the queryset the
            # chips iterate too, so its result cache saves them the query.
            self._ids[name] = [obj.pk for obj in queryset]
        return self._ids[name]

    @classmethod
    def parameters(cls) -> dict[str, int]:
        """Each parameter these filters read, with how many values (for cache keys)."""
        return {
            name: LenientMultipleChoiceField.MAX_VALUES
            if isinstance(declared, django_filters.MultipleChoiceFilter)
            else 1
            for name, declared in cls.base_filters.items()
        }

    def applied(self) -> tuple:
        """The values the results are filtered by, as a cache key part: every valid
        filter but the order, models by id, a set of tags as sorted ids, the search as
        typed. Invalid or unknown values are dropped here as they are from the results,
        so they cannot make new keys."""
        if not self.is_bound:
            return ()
        self.is_valid()
        parts = []
        for name, value in sorted(self.form.cleaned_data.items()):
            if name == "sort" or value in (None, "") or value == []:
                continue  # not given (an empty choice list is as good as none)
            if name == "q":
                value = self.search_query.raw
            elif hasattr(value, "pk"):
                value = value.pk
            elif hasattr(value, "model"):  # a queryset of tags, iterated once and kept
                value = tuple(sorted(obj.pk for obj in value)) or None
                if self.untagged(name):  # 規模を問わない / 関係者の指定なし is a value too
                    value = (*(value or ()), UNTAGGED)
            if value is not None:
                parts.append((name, value))
        return tuple(parts)

    # --- Filters ---------------------------------------------------------------------

    def filter_search(self, queryset, name, value):
        return search.filter_queryset(queryset, self.search_query)

    def filter_theme(self, queryset, name, value: Theme):
        """A section or theme includes everything below it."""
        return queryset.filter(theme_id__in=self.ids(name, Theme.objects.subtree(value)))

    def filter_sizes(self, queryset, name, value):
        return self._filter_tags(queryset, name, value, "municipality_sizes")

    def filter_stakeholders(self, queryset, name, value):
        return self._filter_tags(queryset, name, value, "stakeholders")

    def _filter_tags(self, queryset, name, value, field):
        untagged = self.untagged(name)
        if not value and not untagged:
            return queryset
        return queryset.with_any_tag(field, self.ids(name, value), untagged=untagged)

    def untagged(self, name: str) -> bool:
        """Whether tag facet ``name`` includes the remarks without any tag of its kind."""
        if not self.is_bound:
            return False
        self.is_valid()
        return getattr(self.form.fields[name], "untagged", False)

    def filter_meeting(self, queryset, name, value: Meeting):
        # A remark belongs to a meeting directly, or through the document that covers it.
        return queryset.for_meeting(value)

    @property
    def search_query(self) -> search.Query:
        """The parsed ``q`` with synonyms expanded (one query for the synonym groups)."""
        if self.query.raw != (raw := self.data.get("q", "") or ""):
            groups = (
                [g.term_list for g in SynonymGroup.objects.filter(is_active=True)] if raw else []
            )
            self.query = search.parse_query(raw, groups)
        return self.query

    @property
    def applied_search(self) -> search.Query | None:
        """The search the results are filtered by: None without one, or when ``q`` is
        invalid (e.g. holds a NUL character) and so dropped, like any invalid filter."""
        if not self.is_bound:
            return None
        self.is_valid()
        return self.search_query if self.form.cleaned_data.get("q") else None

    # --- What the list needs beyond filtering -----------------------------------------

    def count_scope(self, statuses) -> counts.Scope | None:
        """These filters but the search, over remarks of ``statuses``, for the count tables
        (opinions/counts.py); None on a database without them."""
        if not counts.available():
            return None
        cleaned = {}
        if self.is_bound:
            self.is_valid()  # the valid filters only, as filter_queryset applies them
            cleaned = self.form.cleaned_data
        if cleaned.get("response"):
            return None  # the count tables know nothing of responses: count live
        scope = counts.Scope(statuses=tuple(statuses))
        if theme := cleaned.get("theme"):
            subtree = self.ids("theme", Theme.objects.subtree(theme))
            scope = replace(scope, theme_ids=tuple(subtree))
        for name in ("size", "stakeholder"):
            if tags := cleaned.get(name):
                scope = replace(scope, **{f"{name}_ids": tuple(self.ids(name, tags))})
            if self.untagged(name):
                scope = replace(scope, **{f"{name}_untagged": True})
        if document := cleaned.get("document"):
            scope = replace(scope, document_id=document.pk)
        if meeting := cleaned.get("meeting"):
            covering = SourceDocument.objects.filter(meetings=meeting).values_list("pk", flat=True)
            scope = replace(scope, meeting_id=meeting.pk, meeting_document_ids=tuple(covering))
        return scope

    def filter_queryset_excluding(self, queryset, exclude: str = ""):
        """Every valid filter except ``exclude`` (for that facet's counts), unordered."""
        if not self.is_bound:
            return queryset.order_by()
        self.is_valid()
        for name, value in self.form.cleaned_data.items():
            if name != exclude and name != "sort":
                queryset = self.filters[name].filter(queryset, value)
        return queryset.order_by()

    @property
    def qs(self):
        if not hasattr(self, "_qs"):
            queryset = super().qs
            sort = self.form.cleaned_data.get("sort") if self.is_bound and self.is_valid() else None
            sort = sort or self.data.get("sort")
            if sort == "newest":
                queryset = queryset.order_by("-created_at", "-pk")
            elif sort == "relevance" and self.search_query:
                queryset = search.with_relevance(queryset, self.search_query).order_by(
                    "-relevance", *Opinion._meta.ordering
                )
            self._qs = queryset
        return self._qs

    def _url_with(self, **changes) -> str:
        """This list's query string with ``changes`` applied (None removes) and no page."""
        data = self.data.copy()
        data.pop("page", None)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            elif isinstance(value, list):
                data.setlist(key, value)
            else:
                data[key] = value
        return f"?{data.urlencode()}" if data else "?"

    def chips(self) -> list[tuple[str, str, str, str]]:
        """Active filters as (facet label, value label, URL without it, language of the value:
        "ja" for data and the search words, "" for a value in the interface's language)."""
        if not self.is_bound or not self.is_valid():
            self.is_valid()
        cleaned = getattr(self.form, "cleaned_data", {})
        chips = []
        if self.search_query:
            chips.append(
                (
                    str(self.form["q"].label),
                    self.search_query.raw[:50],
                    self._url_with(q=None),
                    "ja",
                )
            )
        if theme := cleaned.get("theme"):
            chips.append(
                (str(self.form["theme"].label), theme.short_label, self._url_with(theme=None), "ja")
            )
        for name in ("size", "stakeholder"):
            selected = list(cleaned.get(name) or [])
            untagged = [UNTAGGED] if self.untagged(name) else []
            for tag in selected:
                rest = [t.slug for t in selected if t.pk != tag.pk] + untagged
                chips.append(
                    (
                        str(self.form[name].label),
                        tag.name,
                        self._url_with(**{name: rest or None}),
                        "ja",
                    )
                )
            if untagged:
                rest = [t.slug for t in selected]
                chips.append(
                    (
                        str(self.form[name].label),
                        str(UNTAGGED_LABELS[name]),
                        self._url_with(**{name: rest or None}),
                        "",
                    )
                )
        if document := cleaned.get("document"):
            chips.append(
                (
                    str(self.form["document"].label),
                    str(document),
                    self._url_with(document=None),
                    "ja",
                )
            )
        if meeting := cleaned.get("meeting"):
            # 第1回 / Meeting 1: the interface's words, not data.
            chips.append(
                (str(self.form["meeting"].label), str(meeting), self._url_with(meeting=None), "")
            )
        chips.extend(response_chips(self, cleaned.get("response") or []))
        return chips

    def sort_options(self) -> list[tuple[str, str, str, bool]]:
        """(value, label, URL, selected) for each sort available now."""
        current = self.data.get("sort") or "document"
        return [
            (value, str(label), self._url_with(sort=value), value == current)
            for value, label in SORT_CHOICES
            if value != "relevance" or self.search_query
        ]

    @property
    def notices(self) -> list[str]:
        """What was ignored or changed in the request, in the user's language."""
        notices = []
        if self.is_bound:
            self.is_valid()
            for name in self.errors:
                notices.append(
                    gettext("%(field)sの指定は無効なため無視しました。")
                    % {"field": self.form[name].label}
                )
            for name in ("size", "stakeholder", "response"):
                unknown = getattr(self.form.fields[name], "unknown", [])
                if unknown:
                    notices.append(
                        gettext("%(field)sの「%(values)s」は見つからないため無視しました。")
                        % {
                            "field": self.form[name].label,
                            "values": pgettext("list separator", "、").join(
                                v[:30] for v in unknown[:5]
                            ),
                        }
                    )
        query = self.search_query
        if query.truncated:
            notices.append(
                gettext(
                    "検索語が長すぎるため、先頭 %(chars)s 文字・%(terms)s 語までで検索しました。"
                )
                % {"chars": search.MAX_QUERY_LENGTH, "terms": search.MAX_TERMS}
            )
        return notices
