"""What the submission form reads: near-duplicates of the text being written, and the
tags the rules suggest for it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Collate

from ..browsing.search import Bigrams
from ..models import MunicipalitySize, Opinion, Stakeholder, TagRule
from ..tagging import Band, Rule, normalize, suggest


def near_duplicates(
    text: str, candidates: QuerySet, *, threshold: float = 0.8, limit: int = 3
) -> list[Opinion]:
    """Published or pending remarks among ``candidates`` whose text is very similar to
    ``text``. Callers pass only what the user may open (``Opinion.objects.openable_by``).

    The similarity is difflib's ratio over the width- and case-folded texts, computed here:
    pg_trgm's ``similarity()`` is 0 for two identical Japanese texts on a database whose
    LC_CTYPE is C, so the safeguard would vanish without an error on such a server. On
    PostgreSQL the candidates are first narrowed through the bigram index used by search: a
    near-duplicate shares almost all bigrams, so it contains every bigram of at least one
    of three small groups picked across the text. On SQLite (the demo database) the 500
    newest remarks are the candidates.
    """
    normalized = normalize(text)
    pool = candidates.filter(status__in=[Opinion.Status.PUBLISHED, Opinion.Status.PENDING])
    if connection.vendor == "postgresql":
        grams = list(dict.fromkeys(normalized[i : i + 2] for i in range(len(normalized) - 1)))
        if len(grams) >= 12:
            groups = [
                grams[offset::3][:: max(1, len(grams[offset::3]) // 4)][:4] for offset in range(3)
            ]
            narrowed = Q()
            for group in groups:
                narrowed |= Q(bigrams__contains=group)
            pool = pool.alias(bigrams=Collate(Bigrams("search_text"), "C")).filter(narrowed)
    scored = []
    for opinion in pool.select_related("theme").order_by("-pk")[:500]:
        ratio = SequenceMatcher(None, normalized, opinion.search_text, autojunk=False).ratio()
        if ratio >= threshold:
            opinion.similarity = ratio
            scored.append(opinion)
    return sorted(scored, key=lambda o: (-o.similarity, o.pk))[:limit]


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
