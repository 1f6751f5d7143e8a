"""Japanese morphemes and the content terms that keywords are made of.

SudachiPy with sudachidict-core: the dictionary (system.dic) ships inside the wheel, so
nothing is downloaded at install or run time. Each morpheme is taken in its *normalized*
form, which folds spelling variants (表記ゆれ): 引越し / 引越 → 引っ越し, 子ども / こども → 子供,
取組 → 取り組み, コミュニティ → コミュニティー.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable

from sudachipy import Dictionary, SplitMode

ANALYSER = "sudachipy-0.7/core/C"

_local = threading.local()

# Parts of speech that carry content; within them, subclasses that do not.
# Nouns carry a remark's topic; verbs and adjectives (進める, 多い) rarely make a keyword.
_CONTENT = {"名詞", "形状詞"}
_NOT_CONTENT = {"数詞", "非自立可能", "助数詞可能"}
# Frequent words that say nothing about a remark's topic (normalized forms).
_STOP = """
為る 有る 居る 成る 言う 思う 考える 見る 行う 出来る 致す 頂く 下さる 貰う 呉れる 行く 来る
事 物 所 方 為 中 上 下 前 後 今 時 点 面 等 的 様 感じ 場合 部分 意味 必要 重要 大事 大切
出る 持つ 付く 付ける 掛ける 掛かる 分かる 違う 良い 無い 多い 強い 在る 我々 皆さん 自分
ところ こと もの おく よう つく よる 旨い 訳 筈 積もり 辺り 側 際 以上 以下 程度
"""
STOP_TERMS = frozenset(_STOP.split())


def _tokenizer():
    # A Sudachi tokenizer is not thread-safe: one per thread (gunicorn runs threads).
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        tokenizer = Dictionary(dict="core").tokenizer(mode=SplitMode.C)
        _local.tokenizer = tokenizer
    return tokenizer


def morphemes(text: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """(surface, normalized form, part of speech) of each morpheme of ``text`` (NFKC first)."""
    text = unicodedata.normalize("NFKC", text)
    return [
        (m.surface(), m.normalized_form(), m.part_of_speech()) for m in _tokenizer().tokenize(text)
    ]


def _is_content(normalized: str, pos: tuple[str, ...]) -> bool:
    if pos[0] not in _CONTENT or pos[1] in _NOT_CONTENT or normalized in STOP_TERMS:
        return False
    # One kana or Latin letter is noise; one kanji (県, 国, 町) is a word.
    return len(normalized) > 1 or "\u4e00" <= normalized <= "\u9fff"


def terms(text: str) -> list[str]:
    """The content terms of ``text`` in order, with repeats: the normalized form of each
    noun (and 形状詞), plus each run of nouns joined (関係 + 人口 → 関係人口, デジタル + 化,
    一 + 極 + 集中 → 一極集中)."""
    found: list[str] = []
    run: list[str] = []

    def close_run():
        if len(run) > 1:
            found.append("".join(run))
        run.clear()

    for surface, normalized, pos in morphemes(text):
        kanji_number = pos[1] == "数詞" and surface in "一二三四五六七八九十"
        if (pos[0] == "名詞" and pos[1] != "代名詞" and (pos[1] != "数詞" or kanji_number)) or (
            pos[0] == "接尾辞" and run
        ):
            run.append(surface)
        else:
            close_run()
        if _is_content(normalized, pos):
            found.append(normalized)
    close_run()
    return found


def distinct(items: Iterable[str]) -> list[str]:
    """``items`` without repeats, first occurrence order kept."""
    return list(dict.fromkeys(items))


def normalize_text(text: str) -> str:
    """Width- and case-folded text, as search and the bigram overlap compare it."""
    return unicodedata.normalize("NFKC", text).casefold()


def spelling_variants(texts: Iterable[str]) -> list[tuple[str, list[str]]]:
    """Nouns written more than one way across ``texts`` (仕事 / しごと, メリハリ / めりはり):
    [(normalized form, [spellings seen, commonest first])]. Only nouns and 形状詞, whose
    spellings differ by 表記ゆれ alone (a verb's forms also differ by inflection)."""
    seen: dict[str, dict[str, int]] = {}
    for text in texts:
        for surface, normalized, pos in morphemes(text):
            if pos[0] not in ("名詞", "形状詞") or pos[1] in ("数詞", "代名詞"):
                continue
            if len(normalized) < 2 or normalized in STOP_TERMS:
                continue
            spellings = seen.setdefault(normalized, {})
            folded = surface.casefold()
            spellings[folded] = spellings.get(folded, 0) + 1
    return [
        (normalized, sorted(spellings, key=lambda s: (-spellings[s], s)))
        for normalized, spellings in sorted(seen.items())
        if len(spellings) > 1
    ]
