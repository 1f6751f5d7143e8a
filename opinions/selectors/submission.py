"""What the submission form reads: near-duplicates of the text being written, and the
tags the rules suggest for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from ..models import MunicipalitySize, Opinion, Stakeholder, TagRule
from ..tagging import Band, Rule, suggest


def near_duplicates(
    text: str, candidates: QuerySet, *, threshold: float = 0.8, limit: int = 3
) -> list[Opinion]:
    """Published or pending remarks among ``candidates`` whose text is very similar to
    ``text``. Callers pass only what the user may open (``Opinion.objects.openable_by``).

    What "very similar" means, and how the candidates are found whatever the database and
    its locale, is ``opinions.analysis.related.near_duplicates_among``: the one definition,
    which the import preview uses too.
    """
    from ..analysis.related import near_duplicates_among

    pool = candidates.filter(status__in=[Opinion.Status.PUBLISHED, Opinion.Status.PENDING])
    return near_duplicates_among([text], pool, threshold=threshold, limit=limit)[0]


def rules_and_bands() -> tuple[list[Rule], list[Band]]:
    """The active suggestion rules and population bands, keyed by (model, pk)."""
    rules = [
        Rule(key=(type(rule.tag), rule.tag.pk), pattern=rule.pattern, is_regex=rule.is_regex)
        for rule in TagRule.objects.active().select_related("municipality_size", "stakeholder")
        if rule.tag.is_active
    ]
    bands = [
        Band(key=(MunicipalitySize, size.pk), low=size.min_population, high=size.max_population)
        for size in MunicipalitySize.objects.active()
    ]
    return rules, bands


@dataclass
class Suggestion:
    field: str  # the form field: municipality_sizes or stakeholders
    tag: MunicipalitySize | Stakeholder
    reason: str

    @property
    def value(self) -> str:
        return f"{self.field}:{self.tag.slug}"


def tag_suggestions(text: str, *, chosen: Iterable = ()) -> list[Suggestion]:
    """Tags the rules suggest for ``text`` that are not among ``chosen`` yet."""
    rules, bands = rules_and_bands()
    found = suggest(text, rules, bands)
    chosen_keys = {(type(tag), tag.pk) for tag in chosen}
    wanted = {key: reason for key, reason in found.items() if key not in chosen_keys}
    suggestions = []
    for model in (MunicipalitySize, Stakeholder):
        ids = [pk for (kind, pk) in wanted if kind is model]
        for tag in model.objects.filter(pk__in=ids):
            suggestions.append(Suggestion(model.opinion_field, tag, wanted[(model, tag.pk)]))
    return suggestions
