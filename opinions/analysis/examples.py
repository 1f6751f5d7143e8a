"""Tag suggestions learned from the curated tags: the tags of the nearest curated remarks.

A few-shot nearest-neighbour vote: the ``K`` published remarks nearest a text (by their
stored embeddings) each vote for their tags, weighted by similarity; a tag is suggested
when it has at least ``SHARE`` of the weight. A remark without a size tag is a vote for
「規模を問わない」, so a tag needs a real majority. K and SHARE are fixed here, not fitted:
the leave-one-out scores of ``suggest_tags`` are then an honest estimate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.utils.translation import gettext as _

from . import vectors
from .models import RemarkAnalysis

K = 5
SHARE = 0.5


@dataclass
class Examples:
    """The curated remarks: their ids, embeddings (one row each) and tag keys."""

    ids: list[int]
    matrix: np.ndarray
    tags: list[set]
    labels: dict[int, str]  # id → 「#12」 or 「id 12」

    @property
    def keys(self) -> set:
        return set().union(*self.tags) if self.tags else set()


def _tags_of(ids: Iterable[int]) -> dict[int, set]:
    from opinions.models import MunicipalitySize, Opinion, Stakeholder

    ids = list(ids)
    tags: dict[int, set] = defaultdict(set)
    for model in (MunicipalitySize, Stakeholder):
        relation = Opinion._meta.get_field(model.opinion_field)
        column = f"{relation.m2m_reverse_field_name()}_id"
        pairs = relation.remote_field.through.objects.filter(opinion_id__in=ids)
        for opinion_id, tag_id in pairs.values_list("opinion_id", column):
            tags[opinion_id].add((model, tag_id))
    return tags


def _label(pk: int, position: int | None) -> str:
    return f"#{position}" if position else f"id {pk}"


def load_examples() -> Examples:
    """Every published remark with a stored embedding, as curated examples."""
    rows = list(
        RemarkAnalysis.objects.filter(method=vectors.METHOD, opinion__status="published")
        .order_by("opinion_id")
        .values_list("opinion_id", "vector", "opinion__position")
    )
    ids = [pk for pk, _, _ in rows]
    tags = _tags_of(ids)
    return Examples(
        ids=ids,
        matrix=vectors.stack([blob for _, blob, _ in rows]),
        tags=[tags[pk] for pk in ids],
        labels={pk: _label(pk, position) for pk, _, position in rows},
    )


def vote(neighbours: list[tuple[int, float]], tags: dict[int, set], labels: dict[int, str]):
    """{tag key: reason} from (id, similarity) neighbours and their tags."""
    neighbours = neighbours[:K]
    total = sum(max(score, 0) for _, score in neighbours)
    if not total:
        return {}
    weight: dict = defaultdict(float)
    voters: dict = defaultdict(list)
    for pk, score in neighbours:
        for key in tags.get(pk, ()):
            weight[key] += max(score, 0)
            voters[key].append(labels.get(pk, f"id {pk}"))
    return {
        key: _("類似の意見 %(remarks)s") % {"remarks": "、".join(voters[key])}
        for key in sorted(weight, key=lambda k: (k[0].__name__, k[1]))
        if weight[key] / total >= SHARE
    }


def suggest_for_text(text: str) -> dict:
    """{tag key: reason} for ``text``: the tags most of its nearest curated remarks carry."""
    from opinions.models import Opinion

    vector = vectors.embed([text])[0]
    neighbours = vectors.nearest(
        vector,
        vectors.published(),
        limit=K,
        centroids=vectors.centroids_of(vectors.current_index()),
    )
    ids = [pk for pk, _ in neighbours]
    labels = {
        pk: _label(pk, position)
        for pk, position in Opinion.objects.filter(pk__in=ids).values_list("pk", "position")
    }
    return vote(neighbours, _tags_of(ids), labels)


def leave_one_out(examples: Examples) -> list[dict]:
    """For each curated remark, what its K nearest *other* curated remarks suggest."""
    if not examples.ids:
        return []
    scores = examples.matrix @ examples.matrix.T
    np.fill_diagonal(scores, -np.inf)
    tags = dict(zip(examples.ids, examples.tags, strict=True))
    suggested = []
    for i in range(len(examples.ids)):
        order = sorted(
            (j for j in range(len(examples.ids)) if j != i),
            key=lambda j: (-scores[i, j], examples.ids[j]),
        )[:K]
        neighbours = [(examples.ids[j], float(scores[i, j])) for j in order]
        suggested.append(vote(neighbours, tags, examples.labels))
    return suggested
