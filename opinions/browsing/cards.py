"""The tags of the remark cards (opinions_extras.remark_card) on a list or theme page.

Django's prefetch of a many-to-many builds a related manager and a queryset for every
remark and kind of tag (a hundred a page) before it hands the tags out, which cost a list
page's first visit more than its queries. A kind of tag is a curated vocabulary of a few
dozen, so each kind is read whole, once, and each remark's tags are picked from it by the
ids of its row (PostgreSQL, where the rows carry them: counts.sql) or of the tag table.
"""

from __future__ import annotations

from collections import defaultdict

from ..models import Opinion
from . import counts
from .axes import TAG_AXES

_PREFIX = "card_tag_ids_"


def _tag_pairs(field: str, ids: list[int]) -> dict[int, set[int]]:
    """{remark id: its tag ids} of the many-to-many ``field`` for the remarks ``ids``, from
    the tag table (one query)."""
    relation = Opinion._meta.get_field(field)
    tag_column = f"{relation.m2m_reverse_field_name()}_id"
    tags: dict[int, set[int]] = defaultdict(set)
    pairs = relation.remote_field.through.objects.filter(opinion_id__in=ids)
    for opinion_id, tag_id in pairs.values_list("opinion_id", tag_column):
        tags[opinion_id].add(tag_id)
    return tags


def tag_ids(ids: list[int]) -> dict[str, dict[int, set[int]]]:
    """{kind: {remark id: its tag ids}} of the remarks ``ids``: one query on PostgreSQL
    (from their rows), one per kind elsewhere (from the tag tables)."""
    if counts.available():
        rows = (
            Opinion.objects.filter(pk__in=ids)
            .annotate(**counts.tag_id_columns(_PREFIX))
            .values_list("pk", *(f"{_PREFIX}{name}" for name in TAG_AXES))
        )
        held = {name: {} for name in TAG_AXES}
        for pk, *per_kind in rows:
            for name, tag_ids in zip(TAG_AXES, per_kind, strict=True):
                held[name][pk] = set(tag_ids)
        return held
    return {name: _tag_pairs(axis.field_name, ids) for name, axis in TAG_AXES.items()}


def attach_tags(opinions: list[Opinion], tags: dict[str, list] | None = None) -> list[Opinion]:
    """Give each of ``opinions`` its ``card_tags``: {kind: its tags of that kind, in the
    vocabulary's order}, as ``opinion.<field>.all()`` would list them. Three queries on
    PostgreSQL (the rows' ids, each vocabulary), none for no remarks; one with ``tags``,
    each kind's vocabulary (vocabularies.Vocabularies.tags)."""
    if not opinions:
        return opinions
    held = tag_ids([opinion.pk for opinion in opinions])
    for opinion in opinions:
        opinion.card_tags = {}
    for name, axis in TAG_AXES.items():
        vocabulary = tags[name] if tags is not None else list(axis.model.objects.all())
        for opinion in opinions:
            mine = held[name].get(opinion.pk, ())
            opinion.card_tags[name] = [tag for tag in vocabulary if tag.pk in mine]
    return opinions
