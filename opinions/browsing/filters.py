"""The list's FilterSet: validates a request into a :class:`~.selection.Selection`.

The FilterSet declares the search and the order; every other filter comes from the axis
registry (axes.py), which also says how each narrows the remarks and how it is counted.
The list, its counts, exports, saved searches and the API all read the selection.

Within one facet, several values are alternatives (OR); different facets combine (AND).
Unknown values are dropped and reported (``notices``) rather than emptying the list.
"""

import django_filters
from django.http import QueryDict
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from ..models import Opinion, SynonymGroup
from . import search
from .axes import AXES, MAX_VALUES
from .selection import SORT_CHOICES, Selection


class SortFilter(django_filters.ChoiceFilter):
    """Not a filter but the order of the results (Selection.ordered)."""

    def filter(self, qs, value):
        return qs


class OpinionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("キーワード"))
    # ... a filter per axis (get_filters) ...
    sort = SortFilter(label=_("並び順"), choices=SORT_CHOICES, empty_label=None)

    class Meta:
        model = Opinion
        fields = ["q", "sort"]

    @classmethod
    def get_filters(cls):
        """The declared filters with one per axis after the search, in AXES order."""
        declared = super().get_filters()
        return {
            "q": declared.pop("q"),
            **{name: axis.filter() for name, axis in AXES.items()},
            **declared,
        }

    @classmethod
    def parameters(cls) -> dict[str, int]:
        """Each parameter these filters read, with how many values (for cache keys)."""
        return {
            name: MAX_VALUES if isinstance(declared, django_filters.MultipleChoiceFilter) else 1
            for name, declared in cls.base_filters.items()
        }

    def selection(self) -> Selection:
        """The request's valid choices as one frozen value (built once)."""
        if not hasattr(self, "_selection"):
            cleaned = {}
            if self.is_bound:
                self.is_valid()  # the valid fields only: an invalid one is dropped
                cleaned = self.form.cleaned_data
            choices = []
            for name, axis in AXES.items():
                choice = axis.choose(cleaned.get(name))
                if choice is not None:
                    choices.append((name, choice))
            raw = cleaned.get("q") or ""
            params = ()
            if self.is_bound:
                data = self.data if hasattr(self.data, "lists") else QueryDict(mutable=True)
                if data is not self.data:  # a plain dict (a value or a list of values each)
                    for key, value in self.data.items():
                        data.setlist(key, value if isinstance(value, list) else [value])
                params = tuple(
                    (key, str(value))
                    for key, values in data.lists()
                    for value in values
                    if key != "page" and value != ""
                )
            self._selection = Selection(
                params=params,
                search=_parsed(raw) if raw else None,
                choices=tuple(choices),
                sort=cleaned.get("sort") or "document",
            )
        return self._selection

    def filter_queryset(self, queryset):
        """The selection's filters, then any filter a subclass adds, in the chosen order."""
        return self.selection().ordered(self._filtered(queryset))

    def qs_read_in_order(self):
        """The same remarks as ``qs``, the search tested on each row in the list's order
        rather than narrowed through the bigram index first: for the first pages of a
        search matching many remarks (estimates.read_in_order)."""
        return self.selection().ordered(self._filtered(self.queryset, use_index=False))

    def filter_queryset_excluding(self, queryset, exclude: str = ""):
        """Every valid filter except ``exclude`` (for that facet's counts), unordered."""
        return self._filtered(queryset, exclude).order_by()

    def _filtered(self, queryset, exclude: str = "", *, use_index: bool = True):
        queryset = self.selection().apply(queryset, without=exclude, use_index=use_index)
        if self.is_bound:
            for name, value in self.form.cleaned_data.items():
                if name not in AXES and name not in ("q", "sort", exclude):
                    queryset = self.filters[name].filter(queryset, value)
        return queryset

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
                unknown = getattr(self.form.cleaned_data.get(name), "unknown", ())
                unknown = unknown or getattr(self.form.fields[name], "unknown", [])
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
        query = self.selection().search
        if query is not None and query.truncated:
            notices.append(
                gettext(
                    "検索語が長すぎるため、先頭 %(chars)s 文字・%(terms)s 語までで検索しました。"
                )
                % {"chars": search.MAX_QUERY_LENGTH, "terms": search.MAX_TERMS}
            )
        return notices


def _parsed(raw: str) -> search.Query:
    """``raw`` parsed with the synonym groups expanded (one query)."""
    groups = [g.term_list for g in SynonymGroup.objects.filter(is_active=True)]
    return search.parse_query(raw, groups)
