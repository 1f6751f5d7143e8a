"""Theme digests: what a theme's published remarks are about, extractively.

For each theme node (with everything below it): its characteristic keywords against the
whole committee (class-based TF-IDF over content morphemes, the classes being the
○themes), its most central remarks (nearest the mean of their embeddings), groups of
similar remarks (spherical k-means with a fixed seed, each labelled by its own c-TF-IDF
keywords against the rest of the theme and by its most central remark), and 「重なる意見」
(remarks so close that they make the same point). No sentence is generated: every output
is a term counted in the remarks or a remark quoted as it stands.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils.translation import gettext as _

from . import vectors
from .models import RemarkAnalysis, RemarkGroup, ThemeDigest

VERSION = "1"  # of the digest recipe below; stored with every digest
KEYWORDS = 8
CENTRAL = 3
SEED = 0
# Two remarks make the same point: cosine of their embeddings ≥ this and, so that two
# merely on-topic remarks are not taken for one, half their content terms shared.
OVERLAP_COSINE = 0.93
OVERLAP_TERMS = 0.5
MAX_PAIRS = 5000
MAX_OVERLAPS = 10  # groups stored per theme, the largest
OVERLAP_QUOTED = 5  # remarks stored per group


def class_tfidf(classes: dict[object, Counter], *, limit: int = KEYWORDS) -> dict[object, list]:
    """c-TF-IDF (Grootendorst 2022): a term's weight in a class is its frequency there
    times log(1 + A / f), A the average number of terms per class and f the term's
    frequency over all classes. Ties by term, so the ranking is deterministic."""
    overall: Counter = Counter()
    for counts in classes.values():
        overall.update(counts)
    average = sum(overall.values()) / max(len(classes), 1)
    ranked = {}
    for key, counts in classes.items():
        total = sum(counts.values()) or 1
        weights = [
            (term, count / total * math.log(1 + average / overall[term]))
            for term, count in counts.items()
            if count > 1 or len(counts) < 20  # one mention in a large class is noise
        ]
        weights.sort(key=lambda tw: (-tw[1], tw[0]))
        ranked[key] = [[term, round(weight, 4)] for term, weight in weights[:limit]]
    return ranked


@dataclass
class _Remark:
    pk: int
    version: int
    theme_id: int
    vector: np.ndarray
    terms: list[str]


def _load() -> list[_Remark]:
    rows = (
        RemarkAnalysis.objects.filter(method=vectors.METHOD, opinion__status="published")
        .order_by("opinion_id")
        .values_list("opinion_id", "opinion__version", "opinion__theme_id", "vector", "terms")
    )
    return [
        _Remark(pk, v, theme, vectors.from_bytes(blob), terms) for pk, v, theme, blob, terms in rows
    ]


def _fingerprint(remarks: list[_Remark]) -> str:
    text = ",".join(f"{r.pk}:{r.version}" for r in remarks)
    return hashlib.sha256(f"{vectors.METHOD}/{VERSION}/{text}".encode()).hexdigest()


def _ranked_by_centrality(remarks: list[_Remark]) -> list[_Remark]:
    matrix = np.vstack([r.vector for r in remarks])
    centre = vectors.normalise(matrix.mean(axis=0, keepdims=True))[0]
    scores = matrix @ centre
    return [
        remarks[i] for i in sorted(range(len(remarks)), key=lambda i: (-scores[i], remarks[i].pk))
    ]


def _overlaps(remarks: list[_Remark]) -> list[list[int]]:
    """Groups of remarks making the same point (connected pairs), largest first.

    Pairs are found block by block with matrix products, and at most ``MAX_PAIRS`` of
    them are kept (the closest found first in document order), so a theme of 100,000
    remarks costs seconds, not a pass over five billion pairs in Python.
    """
    if len(remarks) < 2:
        return []
    matrix = np.vstack([r.vector for r in remarks])
    parent = list(range(len(remarks)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    sets = [set(r.terms) for r in remarks]
    pairs = 0
    for start in range(0, len(remarks), 1000):
        block = matrix[start : start + 1000] @ matrix.T
        rows, cols = np.nonzero(block >= OVERLAP_COSINE)
        for row, j in zip(rows.tolist(), cols.tolist(), strict=True):
            i = start + row
            if j <= i:
                continue
            shared = len(sets[i] & sets[j]) / max(min(len(sets[i]), len(sets[j])), 1)
            if shared >= OVERLAP_TERMS:
                parent[root(j)] = root(i)
                pairs += 1
            if pairs >= MAX_PAIRS:
                break
        if pairs >= MAX_PAIRS:
            break
    groups: dict[int, list[int]] = {}
    for i, r in enumerate(remarks):
        groups.setdefault(root(i), []).append(r.pk)
    found = [sorted(g) for g in groups.values() if len(g) > 1]
    # The page quotes a few of each: the largest groups, their first remarks in order.
    found = sorted(found, key=lambda g: (-len(g), g[0]))[:MAX_OVERLAPS]
    return [g[:OVERLAP_QUOTED] for g in found]


def _clusters(remarks: list[_Remark]) -> list[tuple[list[_Remark], list[str]]]:
    """(members most central first, keywords) of each group; none below 6 remarks."""
    if len(remarks) < 6:
        return []
    k = max(2, min(8, round(math.sqrt(len(remarks) / 2))))
    matrix = np.vstack([r.vector for r in remarks])
    centroids = vectors.kmeans(matrix, k, seed=SEED)
    labels = np.argmax(matrix @ centroids.T, axis=1)
    members = {j: [remarks[i] for i in np.flatnonzero(labels == j)] for j in range(len(centroids))}
    members = {j: m for j, m in members.items() if m}
    keywords = class_tfidf(
        {j: Counter(t for r in m for t in r.terms) for j, m in members.items()}, limit=5
    )
    groups = []
    for j, m in members.items():
        scores = np.vstack([r.vector for r in m]) @ centroids[j]
        ordered = [m[i] for i in sorted(range(len(m)), key=lambda i: (-scores[i], m[i].pk))]
        groups.append((ordered, [term for term, _ in keywords[j]]))
    return sorted(groups, key=lambda g: (-len(g[0]), g[0][0].pk))


def compute_digests(*, force: bool = False) -> tuple[int, int]:
    """Compute the digest of every theme node from its published remarks. A node whose
    remarks (and their versions) are unchanged since its digest keeps it, with staff's
    renames and merges, unless ``force``. Returns (computed, kept)."""
    from opinions.models import Theme

    themes = list(Theme.objects.all())
    parent = {t.pk: t.parent_id for t in themes}
    remarks = _load()

    def ancestors(theme_id):
        while theme_id is not None:
            yield theme_id
            theme_id = parent.get(theme_id)

    below: dict[int, list[_Remark]] = {t.pk: [] for t in themes}
    for r in remarks:
        for node in ancestors(r.theme_id):
            below[node].append(r)
    # The classes of c-TF-IDF: the ○themes (level 2), against the whole committee.
    by_theme = {
        t.pk: Counter(x for r in below[t.pk] for x in r.terms) for t in themes if t.level == 2
    }
    existing = {d.theme_id: d for d in ThemeDigest.objects.all()}
    computed = kept = 0
    for theme in themes:
        mine = below[theme.pk]
        fingerprint = _fingerprint(mine)
        old = existing.get(theme.pk)
        if (
            old
            and not force
            and old.fingerprint == fingerprint
            and old.version == VERSION
            and old.method == vectors.METHOD
        ):
            kept += 1
            continue
        classes = dict(by_theme)
        classes[("node", theme.pk)] = Counter(x for r in mine for x in r.terms)
        if theme.level == 2:
            classes.pop(theme.pk)
        keywords = class_tfidf(classes)[("node", theme.pk)] if mine else []
        ranked = _ranked_by_centrality(mine) if mine else []
        with transaction.atomic():
            digest, _created = ThemeDigest.objects.update_or_create(
                theme=theme,
                defaults={
                    "method": vectors.METHOD,
                    "version": VERSION,
                    "fingerprint": fingerprint,
                    "remarks": len(mine),
                    "keywords": keywords,
                    "central": [r.pk for r in ranked[:CENTRAL]],
                    "overlaps": _overlaps(mine),
                },
            )
            digest.groups.all().delete()
            RemarkGroup.objects.bulk_create(
                RemarkGroup(
                    digest=digest,
                    position=position,
                    keywords=words,
                    central_id=members[0].pk,
                    members=[r.pk for r in members],
                    size=len(members),
                )
                for position, (members, words) in enumerate(_clusters(mine), start=1)
            )
        computed += 1
    return computed, kept


@dataclass
class Group:
    label: str
    keywords: list[str]
    central: object  # Opinion
    others: int  # visible members besides the central one
    pk: int


@dataclass
class Digest:
    keywords: list[str]
    central: list  # Opinions
    groups: list[Group]
    overlaps: list[list]  # lists of Opinions
    method: str
    version: str
    computed_at: object


def theme_digest(theme, visible) -> Digest | None:
    """The stored digest of ``theme`` as the page shows it, in three queries: the digest,
    its groups, and the quoted remarks (only those ``visible`` still holds, so a remark
    unpublished since is never quoted)."""
    digest = ThemeDigest.objects.filter(theme=theme).first()
    if digest is None or not digest.remarks:
        return None
    groups = list(digest.groups.defer("members"))
    wanted = {*digest.central, *(pk for g in digest.overlaps for pk in g)}
    wanted |= {g.central_id for g in groups if g.central_id}
    shown = visible.filter(pk__in=wanted).only(
        "pk", "body", "position", "source_document_id", "meeting_id"
    )
    loaded = shown.in_bulk()
    return Digest(
        keywords=[term for term, _ in digest.keywords],
        central=[loaded[pk] for pk in digest.central if pk in loaded],
        groups=[
            Group(g.display_label, g.keywords, loaded[g.central_id], g.size - 1, g.pk)
            for g in groups
            if g.central_id in loaded
        ],
        overlaps=[
            found
            for g in digest.overlaps
            if len(found := [loaded[pk] for pk in g if pk in loaded]) > 1
        ],
        method=digest.method,
        version=digest.version,
        computed_at=digest.computed_at,
    )


def merge_groups(groups: list[RemarkGroup]) -> RemarkGroup:
    """Fold ``groups`` (of one theme) into the first by position: its members become the
    union, most central first as they were; the others are removed. Raises ValueError
    (with a message for staff) for fewer than two groups or groups of different themes."""
    if len(groups) < 2:
        raise ValueError(_("統合するには2つ以上のまとまりを選んでください。"))
    if len({g.digest_id for g in groups}) > 1:
        raise ValueError(_("同じテーマのまとまりだけを統合できます。"))
    groups = sorted(groups, key=lambda g: g.position)
    kept, merged = groups[0], groups[1:]
    with transaction.atomic():
        kept.members = list(dict.fromkeys(pk for g in groups for pk in g.members))
        kept.keywords = list(dict.fromkeys(t for g in groups for t in g.keywords))[:5]
        kept.size = len(kept.members)
        kept.central = kept.central or next((g.central for g in groups if g.central_id), None)
        kept.save(update_fields=["members", "keywords", "size", "central"])
        RemarkGroup.objects.filter(pk__in=[g.pk for g in merged]).delete()
    return kept
