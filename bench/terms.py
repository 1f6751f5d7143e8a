"""Search terms drawn from the data itself, by band, with a fixed seed.

The vocabulary is read from a repeatable sample of the published remarks' ``search_text``
(the normalized body the search matches): every run of kanji gives its 2-, 3- and
4-character substrings, runs of katakana and of Latin letters/digits are taken whole, and
the share of sampled remarks containing each candidate is its frequency. The bands:

=============  ====================================================================
``2-frequent`` two kanji, in at least 5 % of the remarks (地方, 地域, 必要 …)
``2-rare``     two kanji, in fewer than 5 % (most of the vocabulary)
``3-4``        three or four kanji (地方創生, 方創生 — any substring, as a reader types)
``katakana``   a katakana word (コミュニティ, インフラ)
``latin``      Latin letters and digits (kpi, 5g, sdgs)
``two-word``   two kanji words of 2–4 characters found in the same remark (若者 女性)
=============  ====================================================================

Each band draws up to ``per_band`` terms uniformly from its candidates (``random.Random(seed)``),
so the same data and seed give the same terms. The synthetic remarks reuse the seed's
sentences, so the vocabulary — and the bands' frequencies — are the same at every size.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import asdict, dataclass

BANDS = {
    "2-frequent": "2字・頻出（5 % 以上の意見に）",
    "2-rare": "2字・5 % 未満",
    "3-4": "3〜4字",
    "katakana": "カタカナ語",
    "latin": "英数字",
    "two-word": "2語",
}
FREQUENT_SHARE = 0.05
_KANJI_RUN = re.compile(r"[\u4e00-\u9fff々〆ヶ]{2,}")
_KATAKANA_RUN = re.compile(r"[\u30a1-\u30fa\u30fc]{2,}")
_LATIN_RUN = re.compile(r"[a-z0-9]{2,}")


@dataclass(frozen=True)
class Term:
    text: str  # as typed into the search box (two words separated by a space)
    band: str
    share: float  # of the sampled remarks containing it (all words, for two-word)


def sample_texts(limit: int = 5000, seed: int = 1) -> list[str]:
    """Up to ``limit`` published remarks' search_text, the same ones for the same data and seed."""
    from django.db import connection

    from opinions.models import Opinion

    published = Opinion.objects.published()
    total = published.count()
    if connection.vendor != "postgresql" or total <= limit:
        return list(published.order_by("pk").values_list("search_text", flat=True)[:limit])
    percent = min(100.0, 100.0 * limit * 1.2 / total)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT search_text FROM opinions_opinion"
            " TABLESAMPLE BERNOULLI (%s) REPEATABLE (%s)"
            " WHERE status = 'published' ORDER BY id LIMIT %s",
            [percent, seed, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def _candidates(text: str) -> tuple[set[str], list[str]]:
    """Every candidate term in ``text``, and its kanji words (for two-word queries)."""
    found, words = set(), []
    for match in _KANJI_RUN.finditer(text):
        run = match.group()
        words.append(run)
        for length in (2, 3, 4):
            found.update(run[i : i + length] for i in range(len(run) - length + 1))
    found.update(match.group() for match in _KATAKANA_RUN.finditer(text))
    found.update(match.group() for match in _LATIN_RUN.finditer(text))
    return found, words


def _band(term: str, share: float) -> str:
    if _LATIN_RUN.fullmatch(term):
        return "latin"
    if _KATAKANA_RUN.fullmatch(term):
        return "katakana"
    if len(term) == 2:
        return "2-frequent" if share >= FREQUENT_SHARE else "2-rare"
    return "3-4"


def vocabulary(texts: list[str]) -> tuple[dict[str, float], list[list[str]]]:
    """Each candidate's share of ``texts``, and each text's kanji words."""
    frequency: Counter[str] = Counter()
    words_per_text = []
    for text in texts:
        found, words = _candidates(text)
        frequency.update(found)
        words_per_text.append(words)
    count = max(1, len(texts))
    return {term: n / count for term, n in frequency.items()}, words_per_text


def _two_word(rng: random.Random, words: list[str]) -> tuple[str, str] | None:
    """Two different 2–4-kanji substrings of two different words of one remark."""
    if len(words) < 2:
        return None
    first, second = rng.sample(words, 2)
    picked = []
    for word in (first, second):
        length = rng.randint(2, min(4, len(word)))
        start = rng.randint(0, len(word) - length)
        picked.append(word[start : start + length])
    return (picked[0], picked[1]) if picked[0] != picked[1] else None


def draw(texts: list[str], *, per_band: int = 50, seed: int = 1) -> list[Term]:
    """Up to ``per_band`` terms per band (fewer where the vocabulary has fewer)."""
    rng = random.Random(seed)
    shares, words_per_text = vocabulary(texts)
    by_band: dict[str, list[str]] = {band: [] for band in BANDS}
    for term in sorted(shares):
        by_band[_band(term, shares[term])].append(term)
    terms = []
    for band, candidates in by_band.items():
        if band == "two-word":
            continue
        chosen = rng.sample(candidates, min(per_band, len(candidates)))
        terms += [Term(text, band, round(shares[text], 4)) for text in chosen]
    pairs, with_words = set(), [words for words in words_per_text if len(words) >= 2]
    for _attempt in range(per_band * 20):
        if len(pairs) == per_band or not with_words:
            break
        pair = _two_word(rng, rng.choice(with_words))
        if pair and pair not in pairs and (pair[1], pair[0]) not in pairs:
            pairs.add(pair)
            both = sum(1 for text in texts if pair[0] in text and pair[1] in text)
            terms.append(Term(" ".join(pair), "two-word", round(both / max(1, len(texts)), 4)))
    return terms


def pool(texts: list[str], terms: list[Term], *, size: int, seed: int = 2) -> list[str]:
    """Up to ``size`` different queries for the load test (one per request): the drawn
    terms, the rest of the vocabulary and more two-word queries, shuffled."""
    rng = random.Random(seed)
    shares, words_per_text = vocabulary(texts)
    queries = list(dict.fromkeys([term.text for term in terms] + sorted(shares)))
    seen = set(queries)
    with_words = [words for words in words_per_text if len(words) >= 2]
    for _attempt in range(size * 10):
        if len(queries) >= size or not with_words:
            break
        pair = _two_word(rng, rng.choice(with_words))
        if pair and " ".join(pair) not in seen:
            seen.add(" ".join(pair))
            queries.append(" ".join(pair))
    rng.shuffle(queries)
    return queries[:size]


def as_dicts(terms: list[Term]) -> list[dict]:
    return [asdict(term) for term in terms]
