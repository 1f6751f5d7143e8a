"""What a visitor chose on the list: the one value filtering, counting, caching and
presentation share.

The FilterSet validates the request and hands over a :class:`Selection`; from then on
nothing reads the request or calls back into the FilterSet. A selection knows how to
narrow a queryset (:meth:`Selection.apply`), what to count over the count tables
(:meth:`Selection.scope`), its part of a cache key (:meth:`Selection.key`) and the
addresses of the lists one change away (:meth:`Selection.url_with`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from ..models import Opinion, opinion_list_url
from . import search
from .axes import AXES, Chip
from .counts import Scope, available

SORT_CHOICES = [
    ("document", _("資料の順")),
    ("newest", _("新しい順")),
    ("relevance", _("関連度順")),
]


@dataclass(frozen=True)
class Selection:
    """The valid choices of a list request: the search, a choice per axis, the order.

    ``params`` are the request's own non-empty parameters but the page, in their order, for
    the addresses a page links to; invalid and unknown values are in them (the address
    stays what the visitor typed) but never in the choices, the counts or the key.
    """

    params: tuple[tuple[str, str], ...] = ()
    search: search.Query | None = None
    choices: tuple[tuple[str, object], ...] = ()  # (axis name, choice), in AXES order
    sort: str = "document"

    @property
    def query(self) -> search.Query:
        """The search, or an empty query (highlighting, relevance)."""
        return self.search or search.Query(raw="")

    def chosen(self, name: str):
        """The choice on axis ``name``, or None."""
        return dict(self.choices).get(name)

    def __bool__(self) -> bool:
        return bool(self.search) or bool(self.choices)

    def without(self, name: str) -> Selection:
        """The same selection without axis ``name`` ("q": without the search)."""
        if name == "q":
            return replace(self, search=None)
        return replace(self, choices=tuple((n, c) for n, c in self.choices if n != name))

    def key(self) -> tuple:
        """The choices as a cache key part: models by id, tag sets as sorted ids, the search
        as typed. Only validated values, so a visitor cannot make new keys at will."""
        parts = tuple((name, AXES[name].key(choice)) for name, choice in self.choices)
        return ((("q", self.search.raw),) if self.search else ()) + parts

    def apply(self, queryset: QuerySet, *, without: str = "", use_index: bool = True) -> QuerySet:
        """``queryset`` narrowed by the search and every choice but ``without``'s
        (``use_index``: see search.filter_queryset)."""
        if self.search and without != "q":
            queryset = search.filter_queryset(queryset, self.search, use_index=use_index)
        for name, choice in self.choices:
            if name != without:
                queryset = AXES[name].apply(queryset, choice)
        return queryset

    def ordered(self, queryset: QuerySet) -> QuerySet:
        """``queryset`` in the chosen order (the document's when none was chosen)."""
        if self.sort == "newest":
            return queryset.order_by("-created_at", "-pk")
        if self.sort == "relevance" and self.search:
            return search.with_relevance(queryset, self.search).order_by(
                "-relevance", *Opinion._meta.ordering
            )
        return queryset

    def scope(self, statuses) -> Scope | None:
        """The choices (not the search) over remarks of ``statuses``, for the count tables;
        None on a database without them or when an axis cannot be counted there."""
        if not available() or any(not AXES[name].countable for name, _c in self.choices):
            return None
        return Scope(tuple(statuses), self.choices)

    def url_with(self, **changes) -> str:
        """This list's query string with ``changes`` applied (None removes, a list sets
        several values) and no page; ``"?"`` when nothing is left."""
        data = QueryDict(mutable=True)
        for key, value in self.params:
            data.appendlist(key, value)
        for key, value in changes.items():
            if value is None:
                data.pop(key, None)
            elif isinstance(value, list):
                data.setlist(key, value)
            else:
                data[key] = value
        return f"?{data.urlencode()}" if data else "?"

    def sort_options(self) -> list[tuple[str, str, str, bool]]:
        """(value, label, URL, selected) for each order available now."""
        return [
            (value, str(label), self.url_with(sort=value), value == self.sort)
            for value, label in SORT_CHOICES
            if value != "relevance" or self.search
        ]

    def chips(self) -> list:
        """The active filters as the list shows them (axes.Chip), the search first."""
        chips = []
        if self.search:
            chips.append(Chip(str(_("キーワード")), self.search.raw[:50], self.url_with(q=None)))
        for name, choice in self.choices:
            chips.extend(AXES[name].chips(choice, self.url_with))
        return chips


def list_url(**params) -> str:
    """The opinion list filtered by ``params`` (None values left out)."""
    query = urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
    return f"{opinion_list_url()}?{query}" if query else opinion_list_url()


def clean_query(data) -> str:
    """``data``'s query string without its empty values (``""`` when nothing is left): the
    address to share or save for a filtered list."""
    pairs = [(key, value) for key, values in data.lists() for value in values if value != ""]
    return f"?{urlencode(pairs)}" if pairs else ""
