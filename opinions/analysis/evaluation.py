"""How well each representation finds related remarks: for each published remark, is its
nearest neighbour (P@1) and are its three nearest (P@3) in the same subtheme / ○theme?

The comparison behind the choice in ``vectors`` (README, 「関連する意見の精度」); run it on
any database with ``manage.py analyse --evaluate``.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from . import tokenise, vectors

LSA_DIMENSIONS = 16


def _bigram_similarity(texts):
    grams = [{t[i : i + 2] for i in range(len(t) - 1)} for t in texts]
    return np.array([[len(a & b) / len(a | b) if a | b else 0 for b in grams] for a in grams])


def _tfidf(docs: list[list[str]]) -> np.ndarray:
    vocabulary: dict[str, int] = {}
    for doc in docs:
        for term in doc:
            vocabulary.setdefault(term, len(vocabulary))
    matrix = np.zeros((len(docs), max(len(vocabulary), 1)))
    for i, doc in enumerate(docs):
        for term, count in Counter(doc).items():
            matrix[i, vocabulary[term]] = 1 + math.log(count)
    frequency = (matrix > 0).sum(axis=0)
    matrix *= np.log((1 + len(docs)) / (1 + frequency)) + 1
    return vectors.normalise(matrix)


def _lsa(matrix: np.ndarray, k: int) -> np.ndarray:
    u, s, _vt = np.linalg.svd(matrix, full_matrices=False)
    k = min(k, len(s))
    return vectors.normalise(u[:, :k] * s[:k])


def precision_at(similarity: np.ndarray, labels: list, k: int) -> float:
    """Mean share of each row's ``k`` most similar others that share its label."""
    similarity = similarity.astype(float).copy()
    np.fill_diagonal(similarity, -np.inf)
    hits = 0.0
    for i in range(len(labels)):
        order = sorted(range(len(labels)), key=lambda j: (-similarity[i, j], j))[:k]
        hits += sum(labels[j] == labels[i] for j in order) / k
    return hits / len(labels) if labels else 0.0


def evaluate() -> list[tuple[str, dict]]:
    """[(method, {"subtheme": (P@1, P@3), "theme": (P@1, P@3)})] over published remarks."""
    from opinions.models import Opinion, Theme

    parent = dict(Theme.objects.values_list("pk", "parent_id"))
    level = dict(Theme.objects.values_list("pk", "level"))
    rows = list(
        Opinion.objects.published()
        .filter(analysis__method=vectors.METHOD)
        .order_by("pk")
        .values_list("pk", "body", "theme_id", "analysis__vector")
    )
    if len(rows) < 4:
        return []
    subthemes = [theme for _, _, theme, _ in rows]
    themes = [t if level[t] <= 2 else parent[t] for t in subthemes]
    texts = [tokenise.normalize_text(body) for _, body, _, _ in rows]
    morphemes = [tokenise.terms(body) for _, body, _, _ in rows]
    tfidf = _tfidf(morphemes)
    embedded = vectors.stack([blob for *_, blob in rows])
    methods = [
        ("bigram overlap (today)", _bigram_similarity(texts)),
        ("TF-IDF over morphemes", tfidf @ tfidf.T),
        (f"TF-IDF + LSA ({LSA_DIMENSIONS} dims)", (lsa := _lsa(tfidf, LSA_DIMENSIONS)) @ lsa.T),
        (vectors.METHOD, embedded @ embedded.T),
    ]
    return [
        (
            name,
            {
                "subtheme": (precision_at(s, subthemes, 1), precision_at(s, subthemes, 3)),
                "theme": (precision_at(s, themes, 1), precision_at(s, themes, 3)),
            },
        )
        for name, s in methods
    ]
