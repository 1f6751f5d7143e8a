"""Parse a committee summary document (「主なご意見」) into a tree of headings and remarks.

The committee's own layout, as the text of its PDF reads:

    第１回、第２回における主なご意見          ← title (first line)
    【第１期の地方創生の評価と今後の方向性（総論）】  ← level 1
    ○第１期の地方創生の成果                   ← level 2
    ＜成果の要因＞                             ← level 3
    ・第１期において、大きな成果が上がって…      ← a remark (bullet)
    いるのは…                                 ← a line the PDF wrapped mid-sentence
    参考資料１                                 ← page header, dropped (the label is kept)

Other committees mark their levels differently (■ › ● › ・, １． › （１） › ○, 【】 › ○
remarks, remarks without bullets …). ``infer_profile`` reads which marks make which level
from the document itself; the ``LayoutProfile`` it returns can be shown and changed
before ``parse_summary`` applies it.

This module is pure: no Django, no database. ``lines_from_upload`` gets the lines out of
a .txt, .docx or .pdf file (refusing files over the caps before parsing them);
``parse_summary`` returns a ``ParsedDocument`` or raises ``SummaryParseError`` naming the
offending line.
"""

from __future__ import annotations

import io
import os
import re
import statistics
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

# Characters a PDF extraction leaves around lines: ASCII blanks, the ideographic
# space (U+3000) and the no-break space.
_BLANKS = " \t\u3000\u00a0"

# Caps checked before a file is parsed, so an upload cannot take the worker's time or
# memory: a real summary document is a few hundred paragraphs on a few dozen pages.
MAX_LINES = 100_000
MAX_REMARKS = 10_000
MAX_DOCX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_DOCX_PARAGRAPHS = 20_000
MAX_PDF_PAGES = 300
MAX_PDF_CHARACTERS = 2_000_000
MAX_PDF_INFLATED = 200 * 1024 * 1024


class SummaryParseError(ValueError):
    """The document does not have the expected shape; ``line`` is 1-based."""

    def __init__(self, line: int, message: str, text: str = ""):
        self.line = line
        self.message = message
        self.text = text
        shown = f"「{text[:40]}」" if text else ""
        super().__init__(f"{line}行目{shown}: {message}")


class DocumentReadError(ValueError):
    """The file could not be read at all (not a parse problem of its text)."""


# --- The parse result ---------------------------------------------------------------------


@dataclass
class ParsedOpinion:
    body: str
    speaker: str = ""
    line: int = field(default=0, compare=False)  # where it starts; not part of equality
    page: int | None = field(default=None, compare=False)  # page of a PDF it starts on


@dataclass
class ParsedNode:
    """A heading: ``level`` is 1, 2 or 3 (a document has at most three heading levels)."""

    level: int
    name: str
    line: int = field(default=0, compare=False)
    children: list[ParsedNode] = field(default_factory=list)
    opinions: list[ParsedOpinion] = field(default_factory=list)

    def walk(self) -> Iterator[ParsedNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def opinion_count(self) -> int:
        """Opinions in this node and everything below it."""
        return sum(len(node.opinions) for node in self.walk())


@dataclass
class ParseWarning:
    """A join or a remark that parsed but may be wrong; ``line`` is 1-based."""

    line: int
    message: str


@dataclass
class ParsedDocument:
    title: str
    label: str = ""
    sections: list[ParsedNode] = field(default_factory=list)
    profile: LayoutProfile | None = field(default=None, compare=False)
    warnings: list[ParseWarning] = field(default_factory=list, compare=False)

    def nodes(self) -> Iterator[ParsedNode]:
        for section in self.sections:
            yield from section.walk()

    def walk_tree(self) -> Iterator[tuple[ParsedNode, ParsedNode | None, tuple[str, ...]]]:
        """Every node in document order with its parent and its path of names."""

        def walk(node, parent, path):
            path = (*path, node.name)
            yield node, parent, path
            for child in node.children:
                yield from walk(child, node, path)

        for section in self.sections:
            yield from walk(section, None, ())

    def opinions(self) -> Iterator[tuple[ParsedNode, ParsedOpinion]]:
        """Every opinion with its node, in document order."""
        for node in self.nodes():
            for opinion in node.opinions:
                yield node, opinion

    def counts(self) -> dict[str, int]:
        levels = [node.level for node in self.nodes()]
        return {
            "sections": levels.count(1),
            "themes": levels.count(2),
            "subthemes": levels.count(3),
            "opinions": sum(1 for _ in self.opinions()),
        }

    def render_tree(self) -> str:
        """The tree as indented text with opinion counts (for ``--dry-run``)."""
        lines = [f"{self.title}（{self.label}）" if self.label else self.title]
        for node in self.nodes():
            mark = LEVEL_MARKS[node.level].format(node.name)
            lines.append(f"{'  ' * node.level}{mark}  {node.opinion_count}件")
        return "\n".join(lines)


LEVEL_MARKS = {1: "【{}】", 2: "○{}", 3: "＜{}＞"}


def render_summary(document: ParsedDocument) -> str:
    """Write a document in the committee's own text form (one line per item); a speaker
    follows the remark in brackets, where ``parse_summary`` finds it again."""
    lines = [document.title]
    if document.label:
        lines.append(document.label)
    for node in document.nodes():
        lines.append("")
        lines.append(LEVEL_MARKS[node.level].format(node.name))
        lines.extend(
            f"・{opinion.body}（{opinion.speaker}）" if opinion.speaker else f"・{opinion.body}"
            for opinion in node.opinions
        )
    return "\n".join(lines) + "\n"


# --- Source lines -------------------------------------------------------------------------


@dataclass
class SourceLine:
    """One line of text (a paragraph of a .docx), with what the file said about it."""

    text: str
    number: int
    page: int | None = None
    style_level: int | None = None  # a Word heading style (見出し 1 …)
    is_list: bool = False  # a Word list paragraph (its bullet or number is not in the text)
    speaker: str | None = None  # a row of a 委員 | 意見 table: the 委員 cell


def lines_from_text(text: str) -> list[SourceLine]:
    """The lines of a text; a form feed (PDF page break) starts a new page."""
    text = text.removeprefix("\ufeff")
    paged = "\x0c" in text  # a text without pages gives its remarks no page
    lines: list[SourceLine] = []
    for page, page_text in enumerate(text.split("\x0c"), start=1):
        for raw in page_text.splitlines():
            if len(lines) >= MAX_LINES:
                raise DocumentReadError(f"行が多すぎます（{MAX_LINES:,} 行まで）。")
            lines.append(SourceLine(text=raw, number=len(lines) + 1, page=page if paged else None))
    return lines


# --- Marks: what a line starts with --------------------------------------------------------

# A kind is the canonical name of a mark; a profile lists kinds. Bracket kinds enclose the
# heading; prefix kinds precede a heading or a remark.
BRACKET_KINDS = {
    "【】": ("【", "】"),
    "＜＞": ("＜〈<", "＞〉>"),
    "《》": ("《≪", "》≫"),
    "［］": ("［[", "］]"),
}
PREFIX_KINDS = {
    "○": "○〇◯",  # U+25CB, U+3007 (kanji zero, common in government PDFs), U+25EF
    "●": "●",
    "◎": "◎",
    "■": "■",
    "□": "□",
    "◆": "◆",
    "◇": "◇",
    "・": "・･•‧∙",  # full-width, half-width katakana and typographic middle dots
    "－": "－―‐−–—",
}
_NUMBER = "0-9０-９"
NUMBERED_KINDS = {
    "第1章": re.compile(rf"^第[{_NUMBER}一二三四五六七八九十]+[章節部]\s*"),
    "1.": re.compile(rf"^[{_NUMBER}]{{1,2}}[.．](?![{_NUMBER}])\s*"),
    "1)": re.compile(rf"^[{_NUMBER}]{{1,2}}[)）]\s*"),
    "(1)": re.compile(rf"^[（(][{_NUMBER}]{{1,2}}[）)]\s*"),
    "①": re.compile(r"^[\u2460-\u2473\u3251-\u325f]\s*"),
    "Ⅰ.": re.compile(r"^(?:[\u2160-\u216b]+|[IVX]{1,4})[.．、]?\s+|^[\u2160-\u216b]+[.．、]\s*"),
    "ア.": re.compile(r"^[アイウエオカキクケコサシスセソタチツテト][.．]\s*"),
    "(ア)": re.compile(r"^[（(][アイウエオカキクケコサシスセソタチツテト][）)]\s*"),
}
# Kinds that come only from a Word file's structure, never from the text.
STYLE_KINDS = ("見出し1", "見出し2", "見出し3")
LIST_KIND = "箇条書き"
TABLE_KIND = "表"
PARAGRAPHS = "段落"  # the bullet setting of a layout whose remarks have no mark
ALL_KINDS = (
    *BRACKET_KINDS,
    *PREFIX_KINDS,
    *NUMBERED_KINDS,
    *STYLE_KINDS,
    LIST_KIND,
)
# Marks that start a remark whenever they appear; the others are decided by the document.
STRONG_BULLETS = ("・", "－", LIST_KIND)

_SENTENCE_END = "。．！？!?"
_CLOSERS = "」』）)】＞〉>》≫］]"


def classify(text: str) -> tuple[str | None, str]:
    """The kind of mark ``text`` starts with and the text after it (kind None: no mark)."""
    for kind, (openings, _closings) in BRACKET_KINDS.items():
        if text[:1] and text[0] in openings:
            return kind, text
    for kind, marks in PREFIX_KINDS.items():
        if text[:1] and text[0] in marks:
            return kind, text[1:].strip(_BLANKS)
    for kind, pattern in NUMBERED_KINDS.items():
        if match := pattern.match(text):
            return kind, text[match.end() :].strip(_BLANKS)
    return None, text


def canonical_kind(name: str) -> str | None:
    """A kind as an admin may type it (１．, （１）, <>, 〇, 見出し 1 …) or None."""
    name = name.strip(_BLANKS)
    if name in ALL_KINDS or name == TABLE_KIND:
        return name
    folded = unicodedata.normalize("NFKC", name).replace(" ", "")
    for kind in ALL_KINDS:
        if unicodedata.normalize("NFKC", kind).replace(" ", "") == folded:
            return kind
    for kind, (openings, closings) in BRACKET_KINDS.items():
        if len(name) == 2 and name[0] in openings and name[1] in closings:
            return kind
    for kind, marks in PREFIX_KINDS.items():
        if len(name) == 1 and name in marks:
            return kind
    if folded[:1] and (kind_text := classify(folded + "x")[0]):
        return kind_text
    return None


# --- Speakers -----------------------------------------------------------------------------

_TITLES = (
    "副委員長|委員長|副座長|座長|副会長|部会長|会長|専門委員|臨時委員|委員|構成員|参考人"
    "|オブザーバー|副大臣|大臣|政務官|議長|主査|有識者"
)
_NAME = r"[^\s\u3000：:（）()「」、。・]{1,20}?"
_SPEAKER = rf"{_NAME}(?:{_TITLES})(?:[（(][^（）()]{{1,20}}[）)])?"
_LEADING_SPEAKER = re.compile(rf"^(?P<speaker>{_SPEAKER})[\s\u3000]*[：:][\s\u3000]*(?P<rest>.*)$")
_BRACKETED_LEADING_SPEAKER = re.compile(
    rf"^[（(](?P<speaker>{_SPEAKER})[）)][\s\u3000]*(?P<rest>.*)$"
)
_TRAILING_SPEAKER = re.compile(rf"^(?P<rest>.*?)[\s\u3000]*[（(](?P<speaker>{_SPEAKER})[）)]$")


def split_speaker(text: str) -> tuple[str, str]:
    """A leading 「山田委員：」/「（山田委員）」 or a trailing 「（山田委員）」 taken off the
    remark: (speaker, remark). ("", text) when there is none."""
    for pattern in (_LEADING_SPEAKER, _BRACKETED_LEADING_SPEAKER, _TRAILING_SPEAKER):
        if match := pattern.match(text):
            return match["speaker"], match["rest"].strip(_BLANKS)
    return "", text


# --- Page furniture -----------------------------------------------------------------------

# A page number alone on its line, in any common form: 3, ３, - 3 -, －３－, 3 / 15, p.3,
# ３ページ (compared after NFKC, which folds the full-width forms).
_PAGE_NUMBER = re.compile(
    r"^(?:[-‐―—–~〜ー]\s*)?(?:p\.?\s*)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?"
    r"(?:\s*ページ)?(?:\s*[-‐―—–~〜ー])?$",
    re.IGNORECASE,
)
_SPACED = r"[\s\u3000]*"
# 参考資料１, 参考 資料 2, 参 考 資 料 １, 資料３-1 … printed at the top of every page.
_LABEL = (
    rf"(?:参{_SPACED}考{_SPACED})?資{_SPACED}料{_SPACED}[0-9０-９一二三四五六七八九十]+"
    rf"(?:{_SPACED}[-－‐]{_SPACED}[0-9０-９]+)?"
)
_PAGE_HEADER = re.compile(rf"^{_LABEL}$")
# The same label sharing a line with the title or a remark, set apart by blanks.
_LEADING_LABEL = re.compile(rf"^(?P<label>{_LABEL})[\s\u3000]+(?P<rest>.+)$")
_TRAILING_LABEL = re.compile(rf"^(?P<rest>.+?)(?:[\s\u3000]+|(?<=[。）)]))(?P<label>{_LABEL})$")


def _squash(text: str) -> str:
    """``text`` width-folded, without any blank: what letter-spacing cannot change."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text))


def _label(text: str) -> str:
    return re.sub(r"[\s\u3000]", "", text)


def is_page_number(text: str) -> bool:
    return bool(_PAGE_NUMBER.match(unicodedata.normalize("NFKC", text).strip()))


def _running_lines(lines: Sequence[SourceLine]) -> set[str]:
    """Lines printed at the top or foot of most pages (a running title or footer), when the
    source has pages: their text with digits blanked, as ``_running_key`` gives it."""
    pages: dict[int, list[str]] = {}
    for line in lines:
        if line.page is not None and line.text.strip(_BLANKS):
            pages.setdefault(line.page, []).append(_running_key(line.text))
    if len(pages) < 3:
        return set()
    seen = Counter()
    for texts in pages.values():
        seen.update(set(texts[:2] + texts[-2:]))
    return {key for key, count in seen.items() if count >= max(3, len(pages) * 0.6)}


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", _squash(text))


# --- The layout profile -------------------------------------------------------------------


@dataclass(frozen=True)
class LayoutProfile:
    """Which marks make which level: ``headings`` from level 1 down (one to three kinds),
    ``bullets`` the kinds that start a remark (none: each paragraph is a remark), and
    ``plain`` kinds read as ordinary text (①… inside wrapped remarks)."""

    headings: tuple[str, ...]
    bullets: tuple[str, ...] = ("・",)
    plain: tuple[str, ...] = ()

    def describe(self) -> str:
        """「【】 › ○ › ＜＞ › ・」: the levels as marks, remarks last."""
        return " › ".join((*self.headings, "・".join(self.bullets) or PARAGRAPHS))

    @property
    def headings_text(self) -> str:
        return " ".join(self.headings)

    @property
    def bullets_text(self) -> str:
        return " ".join(self.bullets) or PARAGRAPHS

    @classmethod
    def from_text(cls, headings: str, bullets: str) -> LayoutProfile:
        """A profile as an admin types it: heading marks level by level and bullet marks,
        separated by blanks or commas (「【】 ○ ＜＞」, 「・」, 「段落」 for none).
        Raises ``ValueError`` with a message naming the mark it does not know."""
        heading_kinds = _kinds(headings)
        if not heading_kinds:
            raise ValueError("見出しの記号を一つ以上入れてください。")
        if len(heading_kinds) > 3:
            raise ValueError("見出しは3段までです。")
        names = [name for name in re.split(r"[\s,、，]+", bullets.strip()) if name]
        bullet_kinds = () if names in ([], [PARAGRAPHS]) else _kinds(bullets)
        overlap = set(heading_kinds) & set(bullet_kinds)
        if overlap:
            raise ValueError(f"「{'・'.join(sorted(overlap))}」が見出しと意見の両方にあります。")
        return cls(headings=tuple(heading_kinds), bullets=tuple(bullet_kinds))


def _kinds(text: str) -> list[str]:
    kinds = []
    for name in (name for name in re.split(r"[\s,、，›>]+", text.strip()) if name):
        kind = canonical_kind(name)
        if kind is None:
            raise ValueError(f"「{name}」は見出しや意見の記号として使えません。")
        if kind not in kinds:
            kinds.append(kind)
    return kinds


@dataclass
class _Line:
    """A content line after furniture is dropped: its mark, its text after the mark."""

    source: SourceLine
    text: str
    kind: str | None
    rest: str


# The portal's text export sets its title block (committee, conditions, count, date, URL)
# between two such rules right after the title and label: a note about the file, not content.
EXPORT_HEADER_RULE = "─" * 32
_EXPORT_HEADER_LINES = 12


def _without_export_header(lines: Sequence[SourceLine]) -> list[SourceLine]:
    """``lines`` without the export's title block: a rule right after the title (and its
    label), and everything up to the next rule within a few lines. A rule anywhere else,
    or one without its pair, is left to the parser."""
    filled = [index for index, line in enumerate(lines) if line.text.strip(_BLANKS)]
    for opening in filled[1:3]:
        text = lines[opening].text.strip(_BLANKS)
        if text == EXPORT_HEADER_RULE:
            for closing in filled:
                near = opening < closing <= opening + _EXPORT_HEADER_LINES + 1
                if near and lines[closing].text.strip(_BLANKS) == EXPORT_HEADER_RULE:
                    return [*lines[:opening], *lines[closing + 1 :]]
        if not _PAGE_HEADER.match(text):
            break  # only the label comes between the title and the block
    return list(lines)


def _content_lines(lines: Sequence[SourceLine]) -> tuple[str, str, int, list[_Line]]:
    """(title, label, title's line number, the lines after the title) without page
    furniture: page numbers, 参考資料 labels (kept as the label), the repeated title and
    lines running at the top or foot of most pages, and the text export's title block."""
    lines = _without_export_header(lines)
    running = _running_lines(lines)
    title, label, title_line = "", "", 0
    content: list[_Line] = []
    for source in lines:
        text = source.text.strip(_BLANKS)
        if not text:
            continue
        if is_page_number(text):
            continue
        if _PAGE_HEADER.match(text):
            label = label or _label(text)
            continue
        if source.style_level is None and source.speaker is None:
            for pattern in (_LEADING_LABEL, _TRAILING_LABEL):
                if match := pattern.match(text):
                    label = label or _label(match["label"])
                    text = match["rest"].strip(_BLANKS)
        if not title:
            if text.startswith(("【", *PREFIX_KINDS["・"])):
                raise SummaryParseError(source.number, "1行目に資料の題名がありません。", text)
            title, title_line = _SPACE_IN_JAPANESE.sub("", text), source.number
            continue
        if _squash(text) == _squash(title):
            continue  # the title repeated on a later page, letter-spaced or not
        if running and _running_key(text) in running and not classify(text)[0]:
            continue
        if source.speaker is not None:
            content.append(_Line(source, text, TABLE_KIND, text))
            continue
        kind, rest = classify(text)
        if source.style_level is not None:
            kind, rest = STYLE_KINDS[min(source.style_level, 3) - 1], rest if kind else text
        elif source.is_list and kind is None:
            kind = LIST_KIND
        content.append(_Line(source, text, kind, rest))
    if not title:
        raise SummaryParseError(1, "ファイルが空です。")
    return title, label, title_line, content


def _ends_sentence(text: str) -> bool:
    return bool(text) and text[-1] in _SENTENCE_END


def _looks_like_remark(line: _Line, following: _Line | None, width: int) -> bool:
    rest = line.rest
    if split_speaker(rest)[0]:
        return True
    # A full line that runs on into the next: a heading is short and stands alone.
    wrapped = (
        following is not None
        and following.kind is None
        and not _ends_sentence(rest)
        and len(line.text) >= max(width * 0.75, 20)
    )
    return _ends_sentence(rest) or wrapped or len(rest) > 60


def infer_profile(lines: Sequence[SourceLine]) -> LayoutProfile:
    """The layout of a document read from the document: which marks start headings (and
    at which level) and which start remarks.

    A mark whose lines read as remarks (they end a sentence, are wrapped onto the next
    line, are long, or begin with a speaker) starts remarks; the other marks are headings,
    levels in the order they first appear (Word heading styles by their level). A mark that
    mostly begins a line continuing an unfinished sentence (①… inside a wrapped remark) is
    plain text.
    """
    content = _content_lines(lines)[3]
    return _infer(content)


def _infer(content: Sequence[_Line]) -> LayoutProfile:
    lengths = sorted(len(line.text) for line in content)
    width = lengths[int(len(lengths) * 0.9)] if lengths else 0
    first: dict[str, int] = {}
    total, remarkish, midsentence = Counter(), Counter(), Counter()
    previous: _Line | None = None
    for index, line in enumerate(content):
        following = content[index + 1] if index + 1 < len(content) else None
        if line.kind is not None and line.kind != TABLE_KIND:
            first.setdefault(line.kind, index)
            total[line.kind] += 1
            remarkish[line.kind] += _looks_like_remark(line, following, width)
            if (
                previous is not None
                and (previous.kind is None or previous.kind in STRONG_BULLETS)
                and previous.text[-1] not in _SENTENCE_END + _CLOSERS
            ):
                midsentence[line.kind] += 1
        previous = line
    # Only numbers are read inside sentences (…、①地域資源の… wrapped before the ①).
    plain = tuple(
        kind for kind in total if kind in NUMBERED_KINDS and midsentence[kind] * 2 > total[kind]
    )
    kinds = [kind for kind in total if kind not in plain]
    bullets = [
        kind
        for kind in kinds
        if kind not in STYLE_KINDS
        and kind not in BRACKET_KINDS
        and (kind in STRONG_BULLETS or remarkish[kind] * 5 >= total[kind] * 3)
    ]
    headings = sorted(
        (kind for kind in kinds if kind not in bullets),
        key=lambda kind: (
            STYLE_KINDS.index(kind) if kind in STYLE_KINDS else len(STYLE_KINDS),
            first[kind],
        ),
    )
    if not headings and len(bullets) > 1:
        # Two remark-like marks and no heading: the outer one heads the inner one's remarks.
        bullets.sort(key=first.get)
        headings = [bullets.pop(0)]
    return LayoutProfile(
        headings=tuple(headings), bullets=tuple(sorted(bullets, key=first.get)), plain=plain
    )


# --- Parsing ------------------------------------------------------------------------------


def _bracket_name(line: _Line, kind: str) -> str:
    _openings, closings = BRACKET_KINDS[kind]
    text = line.text
    if text[-1] not in closings:
        raise SummaryParseError(
            line.source.number, f"見出し（{kind}）が「{closings[0]}」で閉じていません。", text
        )
    return text[1:-1].strip(_BLANKS)


def parse_summary(
    source: str | Sequence[SourceLine], profile: LayoutProfile | None = None
) -> ParsedDocument:
    """Parse a summary document into up to three levels of headings and their remarks.

    ``source`` is the text (CRLF, CR, a BOM, blank lines and leading or trailing ideographic
    spaces are all fine) or the lines ``lines_from_upload`` read. Without ``profile`` the
    layout is inferred (``infer_profile``). Headings without remarks are kept. Raises
    ``SummaryParseError`` with the line number for anything it cannot place, and for a
    document that yields no remark.
    """
    lines = lines_from_text(source) if isinstance(source, str) else list(source)
    title, label, _title_line, content = _content_lines(lines)
    profile = profile or _infer(content)
    if not profile.headings:
        raise SummaryParseError(
            content[0].source.number if content else 1,
            "見出しが一つもありません。主なご意見の資料ではないようです。",
        )
    if len(profile.headings) > 3:
        fourth = next(line for line in content if line.kind == profile.headings[3])
        raise SummaryParseError(
            fourth.source.number,
            f"見出しの段が多すぎます（{profile.describe()}）。見出しは3段までです。"
            "記号の読み方を変えてください。",
            fourth.text,
        )
    document = ParsedDocument(title=title, label=label, profile=profile)
    _Parser(document, profile).run(content)
    return document


class _Parser:
    def __init__(self, document: ParsedDocument, profile: LayoutProfile):
        self.document = document
        self.profile = profile
        self.levels = {kind: level for level, kind in enumerate(profile.headings, start=1)}
        self.path: list[ParsedNode] = []  # the open heading of each level
        self.opinion: ParsedOpinion | None = None
        self.speaker = ""  # from a line that is only an attribution, for the remarks after it
        self.trailing_speakers: bool | None = None
        self.seen: dict[tuple[int, int, str], int] = {}
        self.remarks = 0

    def run(self, content: Sequence[_Line]) -> None:
        for line in content:
            kind = None if line.kind in self.profile.plain else line.kind
            if kind in self.levels:
                self.heading(line, kind)
            elif kind == TABLE_KIND:
                self.remark(line, line.rest, speaker=line.source.speaker or "")
            elif kind in self.profile.bullets:
                self.remark(line, line.rest)
            else:
                self.text(line)
        self.finish_opinion()
        if not self.remarks:
            raise SummaryParseError(
                content[-1].source.number if content else 1,
                "意見が一つも読み取れません。見出しと意見の記号を確かめてください。",
            )
        self.long_remarks(self.document)
        self.document.warnings.sort(key=lambda warning: warning.line)

    def heading(self, line: _Line, kind: str) -> None:
        self.finish_opinion()
        level = self.levels[kind]
        name = _bracket_name(line, kind) if kind in BRACKET_KINDS else line.rest
        if not name:
            raise SummaryParseError(line.source.number, f"見出し（{kind}）が空です。", line.text)
        if level > 1 and len(self.path) < level - 1:
            above = self.profile.headings[level - 2]
            raise SummaryParseError(
                line.source.number,
                f"見出し（{kind}）の前に一つ上の見出し（{above}）がありません。",
                line.text,
            )
        parent = self.path[level - 2] if level > 1 else None
        key = (level, id(parent), unicodedata.normalize("NFKC", name))
        if key in self.seen:
            raise SummaryParseError(
                line.source.number,
                f"同じ見出しが{self.seen[key]}行目にもあります。見出しは重複できません。",
                name,
            )
        self.seen[key] = line.source.number
        node = ParsedNode(level=level, name=name, line=line.source.number)
        (parent.children if parent else self.document.sections).append(node)
        del self.path[level - 1 :]
        self.path.append(node)
        self.opinion, self.speaker = None, ""

    def remark(self, line: _Line, body: str, *, speaker: str = "") -> None:
        self.finish_opinion()
        if not self.path:
            first = self.profile.headings[0]
            raise SummaryParseError(
                line.source.number, f"意見の前に見出し（{first}）がありません。", line.text
            )
        if not body.strip(_BLANKS):
            raise SummaryParseError(line.source.number, "意見の本文が空です。", line.text)
        self.remarks += 1
        if self.remarks > MAX_REMARKS:
            raise SummaryParseError(
                line.source.number, f"意見が多すぎます（{MAX_REMARKS:,} 件まで）。"
            )
        self.opinion = ParsedOpinion(
            body=body.strip(_BLANKS),
            speaker=speaker or self.speaker,
            line=line.source.number,
            page=line.source.page,
        )
        self.path[-1].opinions.append(self.opinion)

    def text(self, line: _Line) -> None:
        speaker, rest = split_speaker(line.text)
        if speaker and not rest:
            # An attribution on its own line heads the remarks below it, or ends the remark
            # above it (wrapped onto a line of its own): whichever the document's first one
            # does, all do.
            if self.trailing_speakers is None:
                self.trailing_speakers = self.opinion is not None
            if self.trailing_speakers and self.opinion is not None and not self.opinion.speaker:
                self.opinion.speaker = speaker
                return
            self.finish_opinion()
            self.speaker = speaker
            return
        if self.opinion is not None and (self.profile.bullets or not self.ends(self.opinion)):
            if _ends_sentence(self.opinion.body) and self.profile.bullets:
                self.warn(
                    line,
                    "「。」で終わった意見の次の行を、その意見の続きとして読みました。"
                    "別の意見なら行頭に記号を付けてください。",
                )
            elif line.kind is not None:
                self.warn(line, f"「{line.text[0]}」で始まる行を前の意見の続きとして読みました。")
            self.opinion.body = join_wrapped(self.opinion.body, line.text)
            return
        if not self.profile.bullets and self.path:
            self.remark(line, line.text)
            return
        if not self.path:
            raise SummaryParseError(
                line.source.number,
                f"題名の後、最初の見出し（{self.profile.headings[0]}）の前に解釈できない行があります。",
                line.text,
            )
        bullets = "」「".join(self.profile.bullets)
        raise SummaryParseError(
            line.source.number,
            f"見出しの直後に「{bullets}」で始まらない行があります。意見は「{bullets}」で始めてください。",
            line.text,
        )

    def ends(self, opinion: ParsedOpinion) -> bool:
        return _ends_sentence(opinion.body) or opinion.body[-1] in "」』"

    def warn(self, line: _Line, message: str) -> None:
        self.document.warnings.append(ParseWarning(line.source.number, message))

    def finish_opinion(self) -> None:
        opinion = self.opinion
        if opinion is None:
            return
        self.opinion = None
        if not opinion.speaker:
            speaker, body = split_speaker(opinion.body)
            if speaker and body:
                opinion.speaker, opinion.body = speaker, body
        if _MARK_INSIDE.search(opinion.body):
            self.document.warnings.append(
                ParseWarning(
                    opinion.line,
                    "意見の途中に箇条書きの記号があります。二つの意見がつながっていないか確かめてください。",
                )
            )

    @staticmethod
    def long_remarks(document: ParsedDocument) -> None:
        lengths = [len(opinion.body) for _node, opinion in document.opinions()]
        if len(lengths) < 5:
            return
        limit = max(400, 4 * statistics.median(lengths))
        for _node, opinion in document.opinions():
            if len(opinion.body) > limit:
                document.warnings.append(
                    ParseWarning(
                        opinion.line,
                        f"ほかの意見よりずっと長い意見です（{len(opinion.body)} 字）。"
                        "いくつかの意見がつながっていないか確かめてください。",
                    )
                )


# A sentence end followed by a bullet or remark mark: two remarks run together.
_MARK_INSIDE = re.compile(r"[。．][\s\u3000]*[・･•○〇◯●◎■◆]")


def join_wrapped(head: str, tail: str) -> str:
    """Join a line the PDF wrapped mid-sentence onto the text before it.

    Japanese has no spaces between words, so the pieces are joined directly, also inside
    a run of digits (7 / 0％) or of Latin letters (Socie / ty); only a Latin word meeting a
    number at the break (Society / 5.0) gets its space back.
    """
    if (
        head
        and tail
        and _is_ascii_alnum(head[-1])
        and _is_ascii_alnum(tail[0])
        and head[-1].isdigit() != tail[0].isdigit()
    ):
        return f"{head} {tail}"
    return head + tail


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


# --- Text out of uploaded files -----------------------------------------------------------

UPLOAD_SUFFIXES = (".txt", ".docx", ".pdf")


def decode_text(data: bytes) -> str:
    """The text of a file: UTF-8 (with or without a BOM), UTF-16 with a BOM (Notepad's
    「Unicode」), else Shift_JIS (cp932)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as error:
            line = data[: error.start].decode("utf-16", errors="replace").count("\n") + 1
            raise SummaryParseError(
                line, "文字コードを読み取れません。UTF-8 または Shift_JIS で保存してください。"
            ) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError as cp932_error:
            # The line of whichever decoder got further: a Shift_JIS file fails UTF-8 at
            # its first kanji but cp932 only where it is really broken.
            start = max(utf8_error.start, cp932_error.start)
            line = data[:start].count(b"\n") + 1
            raise SummaryParseError(
                line, "文字コードを読み取れません。UTF-8 または Shift_JIS で保存してください。"
            ) from None


# A blank that justified or letter-spaced PDF text leaves between two characters of
# Japanese script is never meaningful: Japanese puts no spaces between words.
# Kana, kanji, full-width forms, and the symbols set in full width in Japanese text
# (「」、。…※→①○■㈱ …).
_JAPANESE = (
    r"\u2010-\u2027\u2030-\u205e\u2190-\u21ff\u2460-\u24ff\u25a0-\u25ff"
    r"\u3000-\u30ff\u3190-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f"
    r"\uff00-\uffef"
)
_SPACE_IN_JAPANESE = re.compile(rf"(?<=[{_JAPANESE}])[ \u00a0]+(?=[{_JAPANESE}])")
# Kangxi radicals (U+2F00–U+2FDF) and CJK radical supplements (U+2E80–U+2EFF): many
# Japanese PDFs map common kanji (日, 月, 人 …) to these look-alike code points.
_RADICALS = re.compile(r"[\u2e80-\u2eff\u2f00-\u2fdf]")


def normalize_extracted_text(text: str) -> str:
    """Undo what PDF text extraction does to Japanese before ``parse_summary`` reads it.

    - Kangxi and supplementary radicals become the ordinary kanji they look like
      (⽇ → 日), and decomposed kana are composed (か + ゙ → が) — NFC, which leaves
      full-width letters and digits as the document has them.
    - Blanks between two Japanese characters (justified lines, letter-spaced headings)
      are removed; a blank between Latin words (Society 5.0) is kept.
    - Form feeds between pages become line breaks.
    """
    text = text.replace("\x0c", "\n").replace("\x00", "")
    text = _RADICALS.sub(lambda match: unicodedata.normalize("NFKC", match.group()), text)
    text = unicodedata.normalize("NFC", text)
    return "\n".join(_SPACE_IN_JAPANESE.sub("", line) for line in text.splitlines())


def _check_docx_size(data: bytes) -> None:
    """Refuse a .docx that would inflate past the caps, before any XML is parsed."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise DocumentReadError("Word ファイル（.docx）として読み取れません。") from error
    # zipfile stops a member at its declared size (and fails its CRC past it), so the
    # declared sizes bound what python-docx can inflate.
    if sum(member.file_size for member in members) > MAX_DOCX_UNCOMPRESSED:
        raise DocumentReadError(
            "Word ファイルの中身が大きすぎます"
            f"（展開して {MAX_DOCX_UNCOMPRESSED // (1024 * 1024)} MB まで）。"
        )
    try:
        with archive.open("word/document.xml") as body:
            paragraphs, tail = 0, b""
            while chunk := body.read(1024 * 1024):
                window = tail + chunk
                paragraphs += window.count(b"<w:p>") + window.count(b"<w:p ")
                # A tag cut at the chunk boundary is counted once, in the next window.
                tail = window[-5:]
                paragraphs -= tail.count(b"<w:p>") + tail.count(b"<w:p ")
                if paragraphs > MAX_DOCX_PARAGRAPHS:
                    raise DocumentReadError(
                        f"Word ファイルの段落が多すぎます（{MAX_DOCX_PARAGRAPHS:,} 段落まで）。"
                    )
    except KeyError as error:
        raise DocumentReadError("Word ファイル（.docx）として読み取れません。") from error
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise DocumentReadError("Word ファイル（.docx）として読み取れません。") from error


_HEADING_STYLE = re.compile(r"^(?:heading|見出し)\s*([1-9])$", re.IGNORECASE)
_SPEAKER_HEADER = ("委員", "発言者", "氏名", "名前", "発言", "委員名")
_REMARK_HEADER = ("意見", "主な意見", "ご意見", "発言内容", "内容", "発言の要旨", "要旨")


def lines_from_docx(data: bytes) -> list[SourceLine]:
    """The paragraphs of a Word file in order, one line each, with their heading style
    (見出し 1–3 / Heading 1–3), whether they are list paragraphs (Word's own bullets and
    numbering, whose marks are not in the text) — and the rows of a 委員 | 意見 table as
    remarks with their speaker. Other tables give their cells as paragraphs."""
    _check_docx_size(data)
    from docx import Document
    from docx.table import Table

    try:
        document = Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception as error:
        # A damaged file surfaces as whatever python-docx, zipfile or lxml meets first
        # (BadZipFile, KeyError, XMLSyntaxError …): all mean the same to the uploader.
        raise DocumentReadError("Word ファイル（.docx）として読み取れません。") from error
    lines: list[SourceLine] = []

    def add(text: str, **extra) -> None:
        for part in text.splitlines() or [""]:
            lines.append(SourceLine(text=part, number=len(lines) + 1, **extra))

    for block in blocks:
        if isinstance(block, Table):
            _add_table(block, add)
            continue
        style = block.style.name if block.style is not None else ""
        heading = _HEADING_STYLE.match(style.strip())
        if heading and 1 <= int(heading[1]) <= 3:
            add(block.text, style_level=int(heading[1]))
        else:
            numbered = block._p.pPr is not None and block._p.pPr.numPr is not None
            add(block.text, is_list=numbered or style.lower().startswith("list"))
    return lines


def _add_table(table, add) -> None:
    rows = [[cell.text.strip(_BLANKS) for cell in row.cells] for row in table.rows]
    if not rows:
        return
    header = [unicodedata.normalize("NFKC", cell) for cell in rows[0]]
    speaker_column = next(
        (i for i, cell in enumerate(header) if cell in _SPEAKER_HEADER or cell.endswith("委員")),
        None,
    )
    remark_column = next((i for i, cell in enumerate(header) if cell in _REMARK_HEADER), None)
    if speaker_column is None or remark_column is None or speaker_column == remark_column:
        for row in rows:
            for cell in dict.fromkeys(row):  # merged cells repeat
                add(cell)
        return
    speaker = ""
    for row in rows[1:]:
        if len(row) <= max(speaker_column, remark_column):
            continue
        # A speaker's cell merged down over several rows repeats its text; an empty one
        # continues the speaker above.
        speaker = row[speaker_column] or speaker
        if row[remark_column]:
            add(" ".join(row[remark_column].split("\n")), speaker=speaker)


def text_from_docx(data: bytes) -> str:
    """The paragraphs of a Word file, one per line."""
    return "\n".join(line.text for line in lines_from_docx(data))


def lines_from_pdf(data: bytes) -> list[SourceLine]:
    """The text of a PDF page after page, through ``normalize_extracted_text``, each line
    with its page number."""
    pages = _pdf_pages(data)
    lines: list[SourceLine] = []
    for page_number, page in enumerate(pages, start=1):
        for text in normalize_extracted_text(page).splitlines():
            lines.append(SourceLine(text=text, number=len(lines) + 1, page=page_number))
    if not any(line.text.strip() for line in lines):
        raise DocumentReadError(
            "PDF から文字を取り出せません（画像だけの PDF かもしれません）。"
            "テキストを含む PDF か、Word・テキスト形式のファイルを使ってください。"
        )
    return lines


def _pdf_pages(data: bytes) -> list[str]:
    """Each page's text, its lines rebuilt from the characters' positions.

    pypdfium2 (PDFium) rather than pypdf or pdfminer.six: on LibreOffice's PDFs of the
    portal's own exports, pypdf moves glyphs set in a fallback font (①②③④) to the start
    of their line and pdfminer.six drops them, PDFium's own text order puts them at the
    end; only the characters' boxes, sorted into lines, put them back in place. PDFium
    gives those boxes from C (the seed's PDF in about 40 ms, pypdf 600 ms, pdfminer.six
    800 ms), and the spaces it invents between words are skipped.
    """
    import pypdfium2 as pdfium

    _check_pdf_streams(data)
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if "password" in str(error).lower():
            raise DocumentReadError(
                "パスワードで保護された PDF は読み取れません。保護を外してください。"
            ) from error
        raise DocumentReadError("PDF ファイルとして読み取れません。") from error
    try:
        if len(pdf) > MAX_PDF_PAGES:
            raise DocumentReadError(f"PDF のページが多すぎます（{MAX_PDF_PAGES} ページまで）。")
        pages, characters = [], 0
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    characters += textpage.count_chars()
                    if characters > MAX_PDF_CHARACTERS:
                        raise DocumentReadError(
                            f"PDF の文字が多すぎます（{MAX_PDF_CHARACTERS:,} 字まで）。"
                        )
                    pages.append("\n".join(_page_lines(textpage)))
                finally:
                    textpage.close()
            finally:
                page.close()
    except DocumentReadError:
        raise
    except Exception as error:
        # A damaged page surfaces as PdfiumError or whatever else: the same to the uploader.
        raise DocumentReadError("PDF ファイルとして読み取れません。") from error
    finally:
        pdf.close()
    return pages


_STREAM = re.compile(rb"stream\r?\n")


def _check_pdf_streams(data: bytes) -> None:
    """Refuse a PDF whose compressed (Flate) streams would inflate past the cap, before
    PDFium decodes any: a small file can hold gigabytes of zeros."""
    inflated = 0
    for match in _STREAM.finditer(data):
        inflater = zlib.decompressobj()
        chunk = data[match.end() : match.end() + MAX_DOCX_UNCOMPRESSED]
        try:
            # Bounded output per call; a stream that is not Flate fails at once.
            out = inflater.decompress(chunk, MAX_PDF_INFLATED - inflated + 1)
            inflated += len(out)
            while inflater.unconsumed_tail and inflated <= MAX_PDF_INFLATED:
                out = inflater.decompress(inflater.unconsumed_tail, MAX_PDF_INFLATED - inflated + 1)
                if not out:
                    break
                inflated += len(out)
        except zlib.error:
            continue
        if inflated > MAX_PDF_INFLATED:
            raise DocumentReadError(
                f"PDF の中身が大きすぎます（展開して {MAX_PDF_INFLATED // (1024 * 1024)} MB まで）。"
            )


def _page_lines(textpage) -> list[str]:
    """The page's characters grouped into lines (overlapping vertical extents), top to
    bottom, each line left to right."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    lines: list[list] = []  # [bottom, top, [(x, char), …]]
    previous = None  # (line, right edge, char) of the last glyph placed
    gap = False  # PDFium inferred a space since that glyph
    for index in range(textpage.count_chars()):
        char = chr(pdfium_c.FPDFText_GetUnicode(textpage.raw, index))
        if pdfium_c.FPDFText_IsGenerated(textpage.raw, index) == 1:
            # A space or line break PDFium inferred from a gap, not in the document. One
            # is kept: before a Latin word or number in Japanese text, where LibreOffice
            # leaves the space of 「の KPI」 as a gap at the change of font.
            gap = char == " "
            continue
        if char in "\r\n\ufffe\x00":
            continue
        pdfium_c.FPDFText_GetCharBox(textpage.raw, index, left, right, bottom, top)
        low, high = bottom.value, top.value
        if high - low <= 0.01 or char.isspace():
            # A blank has no box: it follows the glyph before it.
            if previous is not None:
                previous[0][2].append((previous[1] + 0.001, char))
            gap = False
            continue
        # The line this glyph overlaps most; lines come mostly in order, so only the last
        # few are looked at. Small glyphs (、。っ) sit low in the line's box but inside it.
        best, overlap = None, 0.0
        for line in lines[-8:]:
            shared = min(high, line[1]) - max(low, line[0])
            if shared > overlap:
                best, overlap = line, shared
        if best is None or overlap < 0.3 * min(high - low, best[1] - best[0]):
            best = [low, high, []]
            lines.append(best)
        elif high - low > best[1] - best[0]:
            best[0], best[1] = min(low, best[0]), max(high, best[1])
        if (
            gap
            and previous is not None
            and previous[0] is best
            and not previous[2].isascii()
            and _is_ascii_alnum(char)
        ):
            best[2].append((previous[1] + 0.001, " "))
        best[2].append((left.value, char))
        previous, gap = (best, right.value, char), False
    lines.sort(key=lambda line: -line[1])
    return ["".join(char for _x, char in sorted(line[2], key=lambda c: c[0])) for line in lines]


def text_from_pdf(data: bytes) -> str:
    """The text of a PDF, page after page, through ``normalize_extracted_text``; a form
    feed between pages, so each remark parsed from it keeps its page."""
    pages: dict[int, list[str]] = {}
    for line in lines_from_pdf(data):
        pages.setdefault(line.page, []).append(line.text)
    return "\x0c".join("\n".join(texts) for _page, texts in sorted(pages.items()))


def lines_from_upload(filename: str, data: bytes) -> list[SourceLine]:
    """The lines of an uploaded summary document, by its suffix: .txt (UTF-8, UTF-16 or
    Shift_JIS), .docx or .pdf. Raises ``DocumentReadError`` or ``SummaryParseError``."""
    suffix = os.path.splitext(filename.lower())[1]
    if suffix == ".txt":
        return lines_from_text(decode_text(data))
    if suffix == ".docx":
        return lines_from_docx(data)
    if suffix == ".pdf":
        return lines_from_pdf(data)
    raise DocumentReadError(
        f"「{suffix or filename}」の形式は読み込めません。.txt、.docx、.pdf のいずれかにしてください。"
    )


def text_from_upload(filename: str, data: bytes) -> str:
    """``lines_from_upload`` as one text."""
    return "\n".join(line.text for line in lines_from_upload(filename, data))


def lines_to_json(lines: Iterable[SourceLine]) -> list[list]:
    """Lines in a compact JSON form (kept between the preview and the import)."""
    return [
        [line.text, line.number, line.page, line.style_level, line.is_list, line.speaker]
        for line in lines
    ]


def lines_from_json(rows: Iterable[list]) -> list[SourceLine]:
    return [
        SourceLine(
            text=text,
            number=number,
            page=page,
            style_level=style_level,
            is_list=is_list,
            speaker=speaker,
        )
        for text, number, page, style_level, is_list, speaker in rows
    ]
