"""Tag suggestions for a remark: keyword rules and a population-phrase recognizer.

Pure functions, no database: callers pass the rules and the size bands in. Both match
on NFKC-normalized, case-folded text, so ５万 and 5万, ＫＰＩ and kpi are the same.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import regex
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# Curators' regular expressions run on members' text, so each search is cut off after this
# many seconds (the ``regex`` package's timeout; ``re`` has none): a pattern such as
# (a|aa)+$ would otherwise backtrack for minutes and pin a worker thread.
RULE_TIME_LIMIT = 0.05
# Texts a new pattern must get through within the limit before it is saved: runs of each
# character it names, ending in one that breaks the match (where backtracking explodes).
PROBE_LENGTH = 2000


def normalize(text: str) -> str:
    """Width- and case-fold: full-width letters and digits become ASCII, letters lower case.

    NFKC, then Unicode lower case — not ``casefold()``, so that PostgreSQL computes the same
    (``opinions_search_text()`` in opinions/sql/postgresql/search.sql keeps the remarks'
    ``search_text``; a query is normalized here)."""
    return unicodedata.normalize("NFKC", text).lower()


@lru_cache(maxsize=1024)
def compile_rule(pattern: str, *, is_regex: bool) -> regex.Pattern[str]:
    """A rule's pattern as a regular expression over normalized text.

    Raises ``ValueError`` with a message for the curator (in the active language) for an
    invalid regular expression.
    """
    if not pattern.strip():
        raise ValueError(_("パターンが空です。"))
    if not is_regex:
        return regex.compile(regex.escape(normalize(pattern)))
    try:
        # Normalize the pattern the same way as the text: ５ in a rule matches 5 in a remark.
        return regex.compile(normalize(pattern))
    except regex.error as error:
        raise ValueError(
            _("正規表現として正しくありません（%(error)s）。") % {"error": error}
        ) from error


def validate_rule(pattern: str, *, is_regex: bool) -> None:
    """Refuse (``ValueError`` with a message for the curator) a pattern that is invalid or
    too slow: one that cannot search the probe texts within :data:`RULE_TIME_LIMIT`."""
    compiled = compile_rule(pattern, is_regex=is_regex)
    if not is_regex:
        return
    characters = sorted({c for c in normalize(pattern) if c.isalnum() or c.isspace()} | {"a", "あ"})
    probes = [c * PROBE_LENGTH + "\x00" for c in characters]
    probes.append("".join(characters) * (PROBE_LENGTH // len(characters)) + "\x00")
    for probe in probes:
        try:
            compiled.search(probe, timeout=RULE_TIME_LIMIT)
        except TimeoutError:
            raise ValueError(
                _(
                    "この正規表現は照合に時間がかかりすぎるため使えません（入れ子の繰り返しなどを見直してください）。"
                )
            ) from None


def search_rule(compiled: regex.Pattern[str], text: str) -> regex.Match[str] | None:
    """``compiled.search(text)``, or None when it takes longer than the time limit."""
    try:
        return compiled.search(text, timeout=RULE_TIME_LIMIT)
    except TimeoutError:
        logger.warning("tag rule %r gave up after %ss", compiled.pattern[:100], RULE_TIME_LIMIT)
        return None


# --- Population phrases ---------------------------------------------------------------

_KANJI_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG_UNITS = {"万": 10_000, "億": 100_000_000}
# Digits may be set apart by a space (「人口 10 万人」), so a space before a digit or unit is allowed.
_NUMBER = r"[0-9〇零一二三四五六七八九十百千](?:[0-9,.〇零一二三四五六七八九十百千万億]|\s(?=[0-9万千億]))*"

# 「人口５万人以下」「３万人以下の自治体」「人口 10 万人前後」「20万人以上」「数千人規模の町」
_POPULATION = re.compile(
    rf"(?P<number>数(?:千|万|十万)|{_NUMBER})\s*(?:人|名)"
    r"\s*(?P<qualifier>以下|未満|以上|超|前後|程度|規模|くらい|ぐらい|クラス)?"
)
# Categories defined in law by population (地方自治法: 中核市 20万人以上). Not 指定都市 (50万人
# 以上 in law): read as 500,000 it fell in the 中核市 band while the rules put 政令指定都市 in
# 地方の大都市, two size bands for one city; the rules alone place it.
_CATEGORY_POPULATION = (
    ("中枢中核都市", 200_000),
    ("中核市", 200_000),
)
# 数千人 / 数万人 read as the middle of their range.
_VAGUE = {"数千": 5_000, "数万": 50_000, "数十万": 500_000}


def parse_japanese_number(text: str) -> int | None:
    """Read 5, 5.5万, 10万, 1,000, 五万, 三千, 二十万, 百万 and the like; None if it can't."""
    text = "".join(normalize(text).replace(",", "").split())
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        pass
    total, section, digits = 0, 0, ""
    for char in text:
        if char.isdigit() or char == ".":
            digits += char
        elif char in _KANJI_DIGITS:
            digits += str(_KANJI_DIGITS[char])
        elif char in _SMALL_UNITS:
            section += (float(digits) if digits else 1) * _SMALL_UNITS[char]
            digits = ""
        elif char in _BIG_UNITS:
            section += float(digits) if digits else 0
            total += (section or 1) * _BIG_UNITS[char]
            section, digits = 0, ""
        else:
            return None
    try:
        return int(total + section + (float(digits) if digits else 0))
    except ValueError:
        return None


@dataclass(frozen=True)
class PopulationMention:
    phrase: str
    population: int  # the figure the phrase points at
    qualifier: str  # 以下, 前後, … or "" (or the category name)


def recognize_population(text: str) -> list[PopulationMention]:
    """Population phrases in ``text``: 「人口５万人以下」→ 50,000 以下, 「中核市」→ 200,000."""
    normalized = normalize(text)
    mentions = []
    for match in _POPULATION.finditer(normalized):
        raw = match["number"]
        population = _VAGUE.get(raw) or parse_japanese_number(raw)
        if population is None or population < 1_000:  # 一人, 百人… are not municipalities
            continue
        qualifier = match["qualifier"] or ""
        if qualifier == "未満":
            population -= 1
        mentions.append(PopulationMention(match.group(0), population, qualifier))
    taken = normalized
    for name, population in _CATEGORY_POPULATION:
        if name in taken:
            mentions.append(PopulationMention(name, population, name))
            taken = taken.replace(name, "")  # 中枢中核都市 is not also a 中核市
    return mentions


@dataclass(frozen=True)
class Band:
    """A size category's population band (either end may be open)."""

    key: object
    low: int | None
    high: int | None

    def contains(self, population: int) -> bool:
        return (self.low is None or population >= self.low) and (
            self.high is None or population <= self.high
        )


def bands_for_population(text: str, bands: Iterable[Band]) -> dict[object, str]:
    """Which bands the population phrases of ``text`` point into, with the phrase as reason.

    A band without any bound (東京圏) is never matched by a number.
    """
    bands = [band for band in bands if band.low is not None or band.high is not None]
    found: dict[object, str] = {}
    for mention in recognize_population(text):
        for band in bands:
            if band.contains(mention.population):
                found.setdefault(band.key, _("人口表現「%(phrase)s」") % {"phrase": mention.phrase})
    return found


# --- Keyword rules ----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    key: object  # the tag the rule suggests
    pattern: str
    is_regex: bool = False


def suggest(text: str, rules: Sequence[Rule], bands: Sequence[Band] = ()) -> dict[object, str]:
    """Tags suggested for ``text`` with the first reason found for each."""
    normalized = normalize(text)
    found: dict[object, str] = {}
    for rule in rules:
        if rule.key in found:
            continue
        match = search_rule(compile_rule(rule.pattern, is_regex=rule.is_regex), normalized)
        if match:
            found[rule.key] = _("「%(keyword)s」") % {"keyword": match.group(0)}
    for key, reason in bands_for_population(text, bands).items():
        found.setdefault(key, reason)
    return found


@dataclass
class Score:
    """How well the rules reproduce the curated tags for one tag."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float | None:
        suggested = self.true_positives + self.false_positives
        return self.true_positives / suggested if suggested else None

    @property
    def recall(self) -> float | None:
        curated = self.true_positives + self.false_negatives
        return self.true_positives / curated if curated else None

    def add(self, *, suggested: bool, curated: bool) -> None:
        if suggested and curated:
            self.true_positives += 1
        elif suggested:
            self.false_positives += 1
        elif curated:
            self.false_negatives += 1
