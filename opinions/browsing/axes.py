"""The list's axes: every filter of the list but the search, each declared once.

An axis is one URL parameter of the list. It says, in one place,

- what a choice on it is (a frozen value the :class:`~.selection.Selection` holds),
- how a choice narrows a queryset of remarks (the ORM: any database, the live counts),
- how the same choice reads over the count tables' cells (SQL over the key's columns —
  ``status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids``, see
  opinions/sql/postgresql/counts.sql), or that it cannot (then everything is counted live),
- how it is shown: its label, its chips, and what the facet counts by.

``AXES`` is the registry, in the order the list shows its filters. A third tag axis is one
more :class:`TagAxis` line here plus a migration (its many-to-many, its key column in the
count tables and the trigger that keeps that column); a date-range filter is one more axis
class with ``apply`` and ``where``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from ..fields import ThemeChoiceField
from ..models import Meeting, MunicipalitySize, SourceDocument, Stakeholder, Theme, Vocabulary
from ..responses.filters import NONE, PublishedCategoryFilter, by_category

# The value of a tag facet for remarks without any tag of that kind: 規模を問わない for sizes,
# 関係者の指定なし for stakeholders. slugify() never makes a slug that starts with "_".
UNTAGGED = "_none"

# The most values read from one multi-valued parameter; any further ones are ignored.
MAX_VALUES = 50


class Chip(NamedTuple):
    """An active filter as the list shows it: facet label, value label, the list without
    it, and the language of the value ("ja" for data, "" for the interface's words)."""

    facet: str
    value: str
    url: str
    lang: str = "ja"


# --- Choices: what the selection holds for an axis --------------------------------------------


@dataclass(frozen=True)
class ThemeChoice:
    theme: Theme
    ids: tuple[int, ...]  # the node and everything below it

    def key(self):
        return self.theme.pk


@dataclass(frozen=True)
class TagChoice:
    """Tags of one kind (any of them), and/or the remarks with no tag of that kind."""

    tags: tuple[Vocabulary, ...] = ()
    untagged: bool = False
    unknown: tuple[str, ...] = ()  # values given that name no tag (reported, not applied)

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(tag.pk for tag in self.tags)

    def __bool__(self) -> bool:
        return bool(self.tags) or self.untagged

    def key(self):
        return (*sorted(self.ids), *((UNTAGGED,) if self.untagged else ()))


@dataclass(frozen=True)
class DocumentChoice:
    document: SourceDocument

    def key(self):
        return self.document.pk


@dataclass(frozen=True)
class MeetingChoice:
    """A meeting: remarks made at it, or printed in a document that covers it."""

    meeting: Meeting
    document_ids: tuple[int, ...]  # the documents covering it

    def key(self):
        return self.meeting.pk


# --- The form side: the filters' fields validate a parameter into a choice -------------


class ThemeFilter(django_filters.ModelChoiceFilter):
    field_class = ThemeChoiceField


class LenientMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Tags by slug, as an axes.TagChoice: the known ones, the unknown values (reported,
    not applied), and whether the untagged value (``UNTAGGED``) was among them."""

    def clean(self, value) -> TagChoice:
        if isinstance(value, str):  # one value, from a plain dict rather than a QueryDict
            value = [value]
        # An empty value is "not given" (an empty field of a form), not an unknown tag.
        values = [str(v)[:100] for v in value or () if str(v).strip()][:MAX_VALUES]
        untagged = UNTAGGED in values
        values = [v for v in values if v != UNTAGGED]
        # PostgreSQL text cannot hold NUL; such a value matches nothing, so it is unknown.
        candidates = [v for v in values if "\x00" not in v]
        known = list(self.queryset.filter(slug__in=candidates)) if candidates else []
        found = {tag.slug for tag in known}
        unknown = tuple(v for v in values if v not in found)
        return TagChoice(tuple(known), untagged, unknown)


# Tag slugs, for the API schema (it cannot tell from a filter with a method).
@extend_schema_field(OpenApiTypes.STR)
class TagFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = LenientMultipleChoiceField


# --- Axes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    name: str  # the URL parameter, the facet's and the filter's name
    label: Promise
    # False: the count tables cannot answer with this axis chosen (everything counts live).
    countable = True
    # True: with this axis chosen, counts need the finer table (document and meeting).
    by_venue = False

    def filter(self) -> django_filters.Filter:
        """The FilterSet's filter: its form field validates the parameter."""
        raise NotImplementedError

    def choose(self, cleaned) -> object | None:
        """The choice for the form field's cleaned value; None for "not given"."""
        return cleaned or None

    def filter_method(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """The filter's own method (``Filter.method``), so that a filter used alone narrows
        as the selection does; its hint tells the API schema the parameter is a string."""
        choice = self.choose(value)
        return queryset if choice is None else self.apply(queryset, choice)

    def apply(self, queryset: QuerySet, choice) -> QuerySet:
        raise NotImplementedError

    def where(self, choice) -> tuple[str, list]:
        """The choice over the count tables' key columns (``countable`` axes)."""
        raise NotImplementedError

    def key(self, choice) -> object:
        """The choice as a cache key part: ids, never labels or raw input."""
        return choice.key() if hasattr(choice, "key") else str(choice)

    def chips(self, choice, url_with) -> list[Chip]:
        raise NotImplementedError


@dataclass(frozen=True)
class ThemeAxis(Axis):
    """A section or theme includes everything below it."""

    def filter(self):
        return ThemeFilter(
            method=self.filter_method,
            label=self.label,
            queryset=Theme.objects.in_tree_order(),
            to_field_name="slug",
            empty_label=_("すべてのテーマ"),
        )

    def choose(self, cleaned: Theme | None):
        if cleaned is None:
            return None
        # Constants rather than a subquery: the planner then estimates from its statistics
        # how many remarks the subtree holds, where a subquery made it guess (a count at a
        # million remarks, theme + size + stakeholder: 1.6 s with a subquery, 0.26 s).
        ids = Theme.objects.subtree(cleaned).values_list("pk", flat=True)
        return ThemeChoice(cleaned, tuple(sorted(ids)))

    def apply(self, queryset, choice: ThemeChoice):
        return queryset.filter(theme_id__in=choice.ids)

    def where(self, choice: ThemeChoice):
        return "theme_id = ANY(%s)", [list(choice.ids)]

    def chips(self, choice: ThemeChoice, url_with):
        return [Chip(str(self.label), choice.theme.short_label, url_with(**{self.name: None}))]


@dataclass(frozen=True)
class TagAxis(Axis):
    """Tags of one kind: any of the chosen ones, and/or (``UNTAGGED``) none of the kind."""

    model: type[Vocabulary]
    column: str  # the count tables' key column of sorted tag ids
    untagged_label: Promise  # the facet value for remarks with no tag of the kind

    @property
    def field_name(self) -> str:
        """The Opinion many-to-many that holds these tags."""
        return self.model.opinion_field

    def filter(self):
        return TagFilter(
            label=self.label,
            queryset=self.model.objects.all(),
            to_field_name="slug",
            method=self.filter_method,
        )

    def choose(self, cleaned: TagChoice | None):
        return cleaned if cleaned else None

    def apply(self, queryset, choice: TagChoice):
        return queryset.with_any_tag(self.field_name, choice.ids, untagged=choice.untagged)

    def where(self, choice: TagChoice):
        alternatives, params = [], []
        if choice.ids:
            alternatives.append(f"{self.column} && %s::bigint[]")
            params.append(list(choice.ids))
        if choice.untagged:
            alternatives.append(f"cardinality({self.column}) = 0")
        return f"({' OR '.join(alternatives)})", params

    def chips(self, choice: TagChoice, url_with):
        untagged = [UNTAGGED] if choice.untagged else []
        chips = [
            Chip(
                str(self.label),
                tag.name,
                url_with(
                    **{
                        self.name: [t.slug for t in choice.tags if t.pk != tag.pk] + untagged
                        or None
                    }
                ),
            )
            for tag in choice.tags
        ]
        if untagged:
            rest = [tag.slug for tag in choice.tags]
            chips.append(
                Chip(
                    str(self.label),
                    str(self.untagged_label),
                    url_with(**{self.name: rest or None}),
                    "",
                )
            )
        return chips


@dataclass(frozen=True)
class DocumentAxis(Axis):
    by_venue = True

    def filter(self):
        return django_filters.ModelChoiceFilter(
            label=self.label,
            queryset=SourceDocument.objects.all(),
            # Used alone, it filters by this field (as DocumentAxis.apply does); the API
            # schema reads the slug's title from it.
            field_name="source_document",
            to_field_name="slug",
            empty_label=_("すべての資料"),
        )

    def choose(self, cleaned: SourceDocument | None):
        return DocumentChoice(cleaned) if cleaned is not None else None

    def apply(self, queryset, choice: DocumentChoice):
        return queryset.filter(source_document_id=choice.document.pk)

    def where(self, choice: DocumentChoice):
        return "source_document_id = %s", [choice.document.pk]

    def chips(self, choice: DocumentChoice, url_with):
        return [Chip(str(self.label), str(choice.document), url_with(**{self.name: None}))]


@dataclass(frozen=True)
class MeetingAxis(Axis):
    by_venue = True

    def filter(self):
        return django_filters.ModelChoiceFilter(
            label=self.label,
            queryset=Meeting.objects.all(),
            empty_label=_("すべての会議"),
            method=self.filter_method,
        )

    def choose(self, cleaned: Meeting | None):
        if cleaned is None:
            return None
        covering = SourceDocument.objects.filter(meetings=cleaned).values_list("pk", flat=True)
        return MeetingChoice(cleaned, tuple(sorted(covering)))

    def apply(self, queryset, choice: MeetingChoice):
        return queryset.filter(
            Q(meeting_id=choice.meeting.pk) | Q(source_document_id__in=choice.document_ids)
        )

    def where(self, choice: MeetingChoice):
        return "(meeting_id = %s OR source_document_id = ANY(%s))", [
            choice.meeting.pk,
            list(choice.document_ids),
        ]

    def chips(self, choice: MeetingChoice, url_with):
        # 第1回 / Meeting 1: the interface's words, not data.
        return [Chip(str(self.label), str(choice.meeting), url_with(**{self.name: None}), "")]


@dataclass(frozen=True)
class ResponseAxis(Axis):
    """The published response's 対応区分 (opinions/responses): not in the count tables."""

    countable = False

    def filter(self):
        return PublishedCategoryFilter(label=self.label, method=self.filter_method)

    def choose(self, cleaned):
        return tuple(cleaned) if cleaned else None

    def apply(self, queryset, choice):
        return by_category(queryset, choice, published_only=True)

    def key(self, choice):
        return tuple(sorted(str(getattr(category, "pk", category)) for category in choice))

    def chips(self, choice, url_with):
        label = str(self.label)
        slugs = [c.slug if c != NONE else NONE for c in choice]
        chips = []
        for category, slug in zip(choice, slugs, strict=True):
            rest = [s for s in slugs if s != slug] or None
            if category == NONE:
                chips.append(Chip(label, str(_("対応の公表前")), url_with(response=rest), ""))
            else:
                chips.append(Chip(label, category.name, url_with(response=rest)))
        return chips


SIZE = TagAxis(
    "size",
    _("自治体規模"),
    model=MunicipalitySize,
    column="size_ids",
    untagged_label=_("規模を問わない"),
)
STAKEHOLDER = TagAxis(
    "stakeholder",
    _("関係者"),
    model=Stakeholder,
    column="stakeholder_ids",
    untagged_label=_("関係者の指定なし"),
)

AXES: dict[str, Axis] = {
    axis.name: axis
    for axis in (
        ThemeAxis("theme", _("テーマ")),
        SIZE,
        STAKEHOLDER,
        DocumentAxis("document", _("資料")),
        MeetingAxis("meeting", _("会議")),
        ResponseAxis("response", _("対応区分")),
    )
}

TAG_AXES: dict[str, TagAxis] = {
    name: axis for name, axis in AXES.items() if isinstance(axis, TagAxis)
}
