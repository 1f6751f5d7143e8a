"""Japanese full-text search over remarks. The one module that knows how search works.

- Both sides are normalized the same way (NFKC width folding + case folding), so ５Ｇ and
  5G, ＫＰＩ and kpi, 第１期 and 第1期 match. ``Opinion.search_text`` holds the
  normalized body.
- A query is terms separated by spaces (ASCII or ideographic); "…" or 「…」 make a
  phrase. All terms must occur (AND); a term matching a synonym group matches any
  term of the group (OR within the group).
- On PostgreSQL, every term of two characters or more is first narrowed through a GIN
  index over the bigrams of ``search_text`` (``opinions_bigrams()``, migration 0004;
  ``COLLATE "C"`` since 0009, as byte order builds the index twice as fast):
  a text containing the term contains all of its bigrams. The exact substring check then
  runs on the few rows left. One-character terms, and SQLite, use the substring check
  alone.
- Relevance is the number of occurrences of the terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from django.contrib.postgres.fields import ArrayField
from django.db import connection, models
from django.db.models import Func, IntegerField, Q, Value
from django.db.models.functions import Cast, Collate, Length, Replace, StrIndex
from django.db.models.lookups import GreaterThan
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from ..tagging import normalize

MAX_QUERY_LENGTH = 200
MAX_TERMS = 10
# A phrase in ASCII or Japanese quotes, or a run of non-space characters.
_TOKEN = re.compile(r'"([^"]+)"|“([^”]+)”|「([^」]+)」|(\S+)')


@dataclass
class Term:
    """One thing that must occur: any of ``alternatives`` (normalized)."""

    text: str  # as typed (normalized)
    alternatives: tuple[str, ...]
    is_phrase: bool = False

    @property
    def expanded(self) -> bool:
        return len(self.alternatives) > 1


@dataclass
class Query:
    raw: str
    terms: list[Term] = field(default_factory=list)
    truncated: bool = False

    def __bool__(self) -> bool:
        return bool(self.terms)

    @property
    def expansions(self) -> list[Term]:
        return [term for term in self.terms if term.expanded]

    @property
    def all_alternatives(self) -> list[str]:
        return [alt for term in self.terms for alt in term.alternatives]


def parse_query(raw: str, synonym_groups: Iterable[Sequence[str]] = ()) -> Query:
    """Split a query into normalized terms and phrases, and expand synonyms.

    Over-long input is cut to ``MAX_QUERY_LENGTH`` characters and ``MAX_TERMS`` terms
    (``truncated`` says so).
    """
    raw = raw or ""
    query = Query(raw=raw, truncated=len(raw) > MAX_QUERY_LENGTH)
    text = normalize(raw[:MAX_QUERY_LENGTH])
    synonyms: dict[str, tuple[str, ...]] = {}
    for group in synonym_groups:
        members = tuple(dict.fromkeys(normalize(word).strip() for word in group if word.strip()))
        for member in members:
            # The term itself first, then the rest of its group.
            synonyms.setdefault(member, (member, *[m for m in members if m != member]))
    seen = set()
    for match in _TOKEN.finditer(text):
        phrase = match.group(1) or match.group(2) or match.group(3)
        word = (phrase or match.group(4)).strip()
        if not word or word in seen:
            continue
        if len(query.terms) == MAX_TERMS:
            query.truncated = True
            break
        seen.add(word)
        query.terms.append(
            Term(text=word, alternatives=synonyms.get(word, (word,)), is_phrase=bool(phrase))
        )
    return query


def bigrams(text: str) -> list[str]:
    """The distinct two-character substrings, as ``opinions_bigrams()`` computes them in SQL."""
    return sorted({text[i : i + 2] for i in range(len(text) - 1)})


class Bigrams(Func):
    function = "opinions_bigrams"
    output_field = ArrayField(models.TextField())


def _in_text(alternative: str) -> Q:
    """``alternative`` occurs in the search text, tested on each row as ``strpos() > 0``:
    the test of ``LIKE '%…%'``, which the planner estimates from a handful of texts and, for
    several terms, multiplies — two frequent terms (見直 実施, 13,476 matches at a million
    remarks) look like a dozen rows, so it sorts a scan of the whole table (367 ms) rather
    than walk the list's order (5 ms). A function's test it takes for a third of the rows,
    and the remarks are tested this way only where the search is known to be frequent
    (estimates.py) or the rows are few."""
    return Q(GreaterThan(StrIndex("search_text", Value(alternative)), 0))


def _term_condition(term: Term, use_index: bool) -> Q:
    """Any alternative of ``term`` occurs. On PostgreSQL, also "any alternative's bigrams
    are all there" — implied by the substring, so the result is the same — which the GIN
    index answers: the planner ORs one index scan per alternative, and the rows it finds
    are then checked with LIKE alone. (Each alternative's bigrams ANDed to its own LIKE
    made the planner re-check them per row through opinions_bigrams(): 70 µs a row.)
    Without the index, each remark's text is tested (:func:`_in_text`)."""

    def any_alternative(condition) -> Q:
        found = Q()
        for alternative in term.alternatives:
            found |= condition(alternative)
        return found

    if not use_index:
        return any_alternative(_in_text)
    exact = any_alternative(lambda alternative: Q(search_text__contains=alternative))
    if any(len(alternative) < 2 for alternative in term.alternatives):
        return exact  # a one-character alternative has no bigram: no index to narrow with
    indexed = any_alternative(lambda alternative: Q(search_bigrams__contains=bigrams(alternative)))
    return indexed & exact


def filter_queryset(
    queryset: models.QuerySet, query: Query, *, use_index: bool = True
) -> models.QuerySet:
    """Remarks containing every term of ``query`` (any alternative of each).

    ``use_index=False`` leaves out the bigram condition: for a sample of the table
    (estimates.py), which no index narrows and where computing each row's bigrams would
    cost more than reading its text."""
    if not query:
        return queryset
    use_index = use_index and connection.vendor == "postgresql"
    if use_index:
        # COLLATE "C" as in the index (migration 0009), or the planner can't use it.
        queryset = queryset.alias(search_bigrams=Collate(Bigrams("search_text"), "C"))
    for term in query.terms:
        queryset = queryset.filter(_term_condition(term, use_index))
    return queryset


def with_relevance(queryset: models.QuerySet, query: Query) -> models.QuerySet:
    """Annotate ``relevance``: how many times the query's terms occur in the remark."""
    occurrences = Value(0, output_field=IntegerField())
    for alternative in query.all_alternatives:
        removed = Length("search_text") - Length(
            Replace("search_text", Value(alternative), Value(""))
        )
        occurrences = occurrences + Cast(removed, IntegerField()) / len(alternative)
    return queryset.annotate(relevance=occurrences)


# --- Highlighting -------------------------------------------------------------------------


# One character normalized: a page's 50 snippets fold a few thousand characters of a few
# hundred kinds.
_folded = lru_cache(maxsize=4096)(normalize)


def _normalized_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """``text`` normalized character by character, with each normalized character's
    index in the original (NFKC may turn one character into several, e.g. ㍻ → 平成)."""
    pieces = [_folded(char) for char in text]
    normalized = "".join(pieces)
    if len(normalized) == len(text):  # one for one, as nearly always
        return normalized, range(len(text))
    return normalized, [index for index, piece in enumerate(pieces) for _ in piece]


def match_spans(text: str, query: Query) -> list[tuple[int, int]]:
    """Merged (start, end) spans of ``text`` where any alternative of any term occurs."""
    normalized, offsets = _normalized_with_offsets(text)
    spans = []
    for alternative in query.all_alternatives:
        for match in re.finditer(re.escape(alternative), normalized):
            start = offsets[match.start()]
            end = offsets[match.end() - 1] + 1
            spans.append((start, end))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text: str, query: Query, *, width: int | None = None) -> SafeString:
    """``text`` escaped, with matches wrapped in <mark>; cut to about ``width`` characters
    around the first match when ``width`` is given."""
    spans = match_spans(text, query) if query else []
    start, end = 0, len(text)
    if width is not None and len(text) > width:
        first = spans[0][0] if spans else 0
        start = max(0, min(first - width // 4, len(text) - width))
        end = start + width
    parts = ["…" if start > 0 else ""]
    cursor = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        parts.append(escape(text[cursor:span_start]))
        parts.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    parts.append(escape(text[cursor:end]))
    parts.append("…" if end < len(text) else "")
    return mark_safe("".join(parts))  # every piece of text above is escaped
