"""The detail page's 関連する意見 when a remark has not been analysed yet: shared tags,
theme and wording (opinions/analysis/related.py finds them by meaning once it has)."""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet

from ..browsing import cards, counts
from ..models import Opinion


def _bigram_set(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def _related(
    opinion: Opinion, visible: QuerySet, sizes: set[int], stakeholders: set[int], pool: int
) -> QuerySet:
    """The remarks sharing the theme or any tag with ``opinion``, newest first; of each
    theme and tag only the ``pool`` newest.

    On PostgreSQL, the newest ``pool`` of the theme and of each tag, each an index scan
    that stops early, in one UNION ALL that the query reading the candidates takes as its
    subquery; an OR of the three conditions instead hashes every remark of the commonest
    tag first (0.5 s at a million remarks). A tag's newest are read from its own index
    (tag, remark) and only then restricted to what ``visible`` holds: joined to the
    remarks, each tag's part walked the primary key back past every remark of other tags.
    """
    others = visible.exclude(pk=opinion.pk).order_by("-pk")
    if not connection.features.supports_slicing_ordering_in_compound:
        return others.filter(
            Q(theme_id=opinion.theme_id)
            | Q(pk__in=visible.with_any_tag("municipality_sizes", sizes).values("pk"))
            | Q(pk__in=visible.with_any_tag("stakeholders", stakeholders).values("pk"))
        )
    parts = [others.filter(theme_id=opinion.theme_id).values_list("pk", flat=True)[:pool]]
    for field, tags in (("municipality_sizes", sizes), ("stakeholders", stakeholders)):
        relation = Opinion._meta.get_field(field)
        remark, tag_field = relation.m2m_field_name(), relation.m2m_reverse_field_name()
        parts += [
            relation.remote_field.through.objects.filter(**{tag_field: tag})
            .order_by(f"-{remark}")
            .values_list(remark, flat=True)[:pool]
            for tag in tags
        ]
    ids = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return others.filter(pk__in=ids)


def _candidates(related: QuerySet, pool: int) -> list[tuple[int, int, str, set, set]]:
    """(pk, theme id, search text, size ids, stakeholder ids) of the ``pool`` first of
    ``related``. On PostgreSQL the rows carry their tag ids (counts.sql), read in the same
    query; elsewhere the tag tables are read, two queries more."""
    if counts.available():
        found = related.annotate(**counts.tag_id_columns("tag_ids_")).values_list(
            "pk", "theme_id", "search_text", "tag_ids_size", "tag_ids_stakeholder"
        )[:pool]
        return [(pk, theme, text, set(sizes), set(held)) for pk, theme, text, sizes, held in found]
    rows = list(related.values_list("pk", "theme_id", "search_text")[:pool])
    ids = [pk for pk, _, _ in rows]
    held = cards.tag_ids(ids)
    return [
        (pk, theme, text, held["size"].get(pk, set()), held["stakeholder"].get(pk, set()))
        for pk, theme, text in rows
    ]


def related_opinions(
    opinion: Opinion, visible: QuerySet, *, limit: int = 5, pool: int = 200
) -> list[Opinion]:
    """Up to ``limit`` remarks sharing tags or theme with ``opinion``, ranked by shared tags
    and text similarity (bigram overlap). Candidates are capped at ``pool``.

    Candidates are scored from plain tuples and only the ``limit`` chosen are loaded as
    remarks: 200 model instances with their tags cost more than the rest of the page.
    """
    sizes = {tag.pk for tag in opinion.municipality_sizes.all()}
    stakeholders = {tag.pk for tag in opinion.stakeholders.all()}
    candidates = _candidates(_related(opinion, visible, sizes, stakeholders, pool), pool)
    grams = _bigram_set(opinion.search_text)

    def score(candidate) -> tuple[float, int]:
        pk, theme_id, text, their_sizes, their_stakeholders = candidate
        shared = len(sizes & their_sizes) + len(stakeholders & their_stakeholders)
        theirs = _bigram_set(text)
        similarity = len(grams & theirs) / len(grams | theirs) if grams and theirs else 0
        same_theme = 0.5 if theme_id == opinion.theme_id else 0
        return shared + same_theme + 3 * similarity, pk  # newer first on a tie, as before

    chosen = [pk for pk, *_ in sorted(candidates, key=score, reverse=True)[:limit]]
    loaded = visible.filter(pk__in=chosen).select_related("theme").in_bulk()
    return [loaded[pk] for pk in chosen]
