"""関連する意見 by meaning, each with a one-line reason, and near-duplicates of a text."""

from __future__ import annotations

from copy import copy
from difflib import SequenceMatcher

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Collate
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


# --- Near-duplicates: the one definition ------------------------------------------------

MEANING_CANDIDATES = 50  # nearest by meaning whose wording is compared
WORDING_CANDIDATES = 500  # remarks sharing the text's bigrams whose wording is compared


def near_duplicates(text: str, *, visible_to, threshold: float = 0.8, limit: int = 3) -> list:
    """Remarks whose wording is nearly that of ``text``, among those ``visible_to`` (a
    user) may open but withdrawn ones, most similar first, each with ``similarity``
    (0–1). See :func:`near_duplicates_among`."""
    return near_duplicates_among([text], _openable(visible_to), threshold=threshold, limit=limit)[0]


def near_duplicates_of_each(
    texts: list[str], *, visible_to, threshold: float = 0.8, limit: int = 3
) -> list[list]:
    """:func:`near_duplicates` of each of ``texts``, in one batch (see
    :func:`near_duplicates_among`)."""
    return near_duplicates_among(texts, _openable(visible_to), threshold=threshold, limit=limit)


def _openable(user) -> QuerySet:
    from opinions.models import Opinion

    return Opinion.objects.openable_by(user).exclude(status=Opinion.Status.WITHDRAWN)


def near_duplicates_among(
    texts: list[str],
    candidates: QuerySet,
    *,
    threshold: float = 0.8,
    limit: int = 3,
    by_meaning: bool = True,
) -> list[list]:
    """For each of ``texts``, the remarks of ``candidates`` (an Opinion queryset: what the
    caller may show) whose wording is nearly the same: difflib's ratio over the width- and
    case-folded texts ≥ ``threshold``, most similar first (ties by id), at most ``limit``,
    each with ``similarity`` (0–1). The portal's one definition of a near-duplicate: the
    submission warning (``selectors.near_duplicates``) and the import preview
    (``imports.plan_import``) both call this.

    Which remarks are compared at all:

    - by meaning, the ``MEANING_CANDIDATES`` nearest by embedding (within the nearest
      cells), so a duplicate is found across documents, meetings and committees whatever
      the database and its locale (pg_trgm's ``similarity()`` is 0 for Japanese under
      ``LC_CTYPE=C``);
    - by wording, so that a remark not analysed yet (just saved, or loaded by COPY) is
      found too: on PostgreSQL, up to ``WORDING_CANDIDATES`` remarks holding every bigram
      of one of three small groups picked across the text (a near-duplicate shares almost
      all of them) through the search's bigram index; on SQLite, or for a text too short
      to narrow, the newest ``WORDING_CANDIDATES``.

    The texts are embedded in one batch, each cell is read once for all of them, and the
    candidates are loaded in one query. ``by_meaning=False`` compares by wording only (an
    embedding costs about 0.2 s a text: a caller with thousands of texts bounds its time so).
    """
    folded = [normalize(text) for text in texts]
    asked = [i for i, text in enumerate(folded) if text.strip()]
    compared: list[set[int]] = [set() for _ in texts]
    if by_meaning and asked and RemarkAnalysis.objects.filter(method=vectors.METHOD).exists():
        nearest = vectors.nearest_each(
            vectors.embed([texts[i] for i in asked]),
            candidates,
            limit=MEANING_CANDIDATES,
            centroids=vectors.centroids_of(vectors.current_index()),
        )
        for i, pairs in zip(asked, nearest, strict=True):
            compared[i].update(pk for pk, _score in pairs)
    newest = None
    for i in asked:
        narrowed = _sharing_bigrams(folded[i], candidates)
        if narrowed is None:  # nothing to narrow by: the newest remarks, read once
            if newest is None:
                newest = list(
                    candidates.order_by("-pk").values_list("pk", flat=True)[:WORDING_CANDIDATES]
                )
            narrowed = newest
        compared[i].update(narrowed)
    loaded = candidates.filter(pk__in=set().union(*compared)).select_related("theme").in_bulk()
    result = []
    for i, text in enumerate(folded):
        found = []
        for pk in compared[i]:
            if pk not in loaded:
                continue
            ratio = _ratio_at_least(text, loaded[pk].search_text, threshold)
            if ratio is not None:
                opinion = copy(loaded[pk])  # the same remark may be near two of the texts
                opinion.similarity = round(ratio, 3)
                found.append(opinion)
        result.append(sorted(found, key=lambda o: (-o.similarity, o.pk))[:limit])
    return result


def _ratio_at_least(text: str, other: str, threshold: float) -> float | None:
    """difflib's ratio of the two texts when it reaches ``threshold``, else None; its two
    cheap upper bounds first, which rule out most of the candidates."""
    matcher = SequenceMatcher(None, text, other, autojunk=False)
    if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
        return None
    ratio = matcher.ratio()
    return ratio if ratio >= threshold else None


def _sharing_bigrams(folded: str, candidates: QuerySet) -> list[int] | None:
    """Up to ``WORDING_CANDIDATES`` ids of ``candidates`` that hold every bigram of at
    least one of three groups of four picked across ``folded`` (PostgreSQL's bigram index);
    None where that cannot narrow (SQLite, or fewer than 12 distinct bigrams)."""
    from opinions.browsing.search import Bigrams

    grams = list(dict.fromkeys(folded[i : i + 2] for i in range(len(folded) - 1)))
    if connection.vendor != "postgresql" or len(grams) < 12:
        return None
    narrowed = Q()
    for offset in range(3):
        spread = grams[offset::3]
        narrowed |= Q(bigrams__contains=spread[:: max(1, len(spread) // 4)][:4])
    return list(
        candidates.alias(bigrams=Collate(Bigrams("search_text"), "C"))
        .filter(narrowed)
        .order_by("-pk")
        .values_list("pk", flat=True)[:WORDING_CANDIDATES]
    )
