"""関連する意見 by meaning, each with a one-line reason, and near-duplicates of a text."""

from __future__ import annotations

from difflib import SequenceMatcher

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from opinions.tagging import normalize

from . import vectors
from .examples import _tags_of
from .models import RemarkAnalysis

REASON_TERMS = 3


def related_by_meaning(opinion, visible: QuerySet, *, limit: int = 5) -> list | None:
    """Up to ``limit`` remarks nearest ``opinion`` by meaning, among what ``visible``
    holds, from the neighbours stored with its analysis (four queries whatever the corpus
    size). Each carries ``related_reason``: the rarest content terms they share (stored
    with the neighbours) and the tags they share.
    None when the remark has not been analysed yet (the caller falls back)."""
    row = (
        RemarkAnalysis.objects.filter(opinion_id=opinion.pk, method=vectors.METHOD)
        .only("terms", "related")
        .first()
    )
    if row is None:
        return None
    shared_of = {entry[0]: entry[2] if len(entry) > 2 else [] for entry in row.related}
    ranked = [entry[0] for entry in row.related if entry[0] != opinion.pk]
    loaded = visible.filter(pk__in=ranked).select_related("theme").in_bulk()
    chosen = [pk for pk in ranked if pk in loaded][:limit]
    tags = _tags_of([opinion.pk, *chosen])
    names = _tag_names(tags)
    result = []
    for pk in chosen:
        other = loaded[pk]
        shared = shared_of[pk]
        shared_tags = sorted(tags[opinion.pk] & tags[pk], key=lambda k: (k[0].__name__, k[1]))
        parts = []
        if shared:
            parts.append(_("共通の語：%(terms)s") % {"terms": "、".join(shared[:REASON_TERMS])})
        if shared_tags:
            parts.append(
                _("共通のタグ：%(tags)s") % {"tags": "、".join(names[k] for k in shared_tags)}
            )
        other.related_reason = " / ".join(parts) or _("内容が近い意見")
        result.append(other)
    return result


def _tag_names(tags: dict) -> dict:
    keys = set().union(*tags.values()) if tags else set()
    names = {}
    for model in {kind for kind, _pk in keys}:
        ids = [pk for kind, pk in keys if kind is model]
        names.update(
            {
                (model, pk): name
                for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name")
            }
        )
    return names


def near_duplicates(text: str, *, visible_to, threshold: float = 0.8, limit: int = 3) -> list:
    """Remarks whose wording is nearly that of ``text``, among those ``visible_to`` (a
    user) may open, most similar first, each with ``similarity`` (0–1).

    Independent of the database and its locale: the embedding of ``text`` narrows the
    candidates to the 50 nearest by meaning (within the nearest cells), then difflib's
    ratio over the width- and case-folded text decides. For the submission form and the
    import preview; remarks not analysed yet are not found.
    """
    from opinions.models import Opinion

    normalized = normalize(text)
    if not normalized.strip():
        return []
    openable = Opinion.objects.openable_by(visible_to).exclude(status=Opinion.Status.WITHDRAWN)
    vector = vectors.embed([text])[0]
    nearest = vectors.nearest(
        vector, openable, limit=50, centroids=vectors.centroids_of(vectors.current_index())
    )
    candidates = openable.filter(pk__in=[pk for pk, _ in nearest]).select_related("theme")
    found = []
    for opinion in candidates:
        ratio = SequenceMatcher(None, normalized, opinion.search_text, autojunk=False).ratio()
        if ratio >= threshold:
            opinion.similarity = round(ratio, 3)
            found.append(opinion)
    return sorted(found, key=lambda o: (-o.similarity, o.pk))[:limit]


def near_duplicates_of_each(texts: list[str], *, visible_to, threshold: float = 0.8) -> list:
    """:func:`near_duplicates` of each of ``texts`` (an import preview's remarks), the texts
    embedded in one batch first (about 0.03 s a text instead of 0.1 s)."""
    vectors.embed(texts)  # fills the cache the calls below read
    return [near_duplicates(text, visible_to=visible_to, threshold=threshold) for text in texts]
