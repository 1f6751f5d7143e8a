"""Parse a committee summary document (「第ｎ回における主なご意見」) into a tree.

The text form is what a PDF of such a document gives when its text is extracted:

    第１回、第２回における主なご意見          ← title (first line)
    【第１期の地方創生の評価と今後の方向性（総論）】  ← section
    ○第１期の地方創生の成果                   ← theme (○ or 〇)
    ＜成果の要因＞                             ← subtheme
    ・第１期において、大きな成果が上がって…      ← opinion (bullet)
    いるのは…                                 ← a line the PDF wrapped mid-sentence
    参考資料１                                 ← page header, dropped

This module is pure: no Django, no database. ``text_from_upload`` gets the text out of
a .txt, .docx or .pdf file first. ``parse_summary`` either returns a
``ParsedDocument`` or raises ``SummaryParseError`` naming the offending line.
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from docx import Document
from pypdf import PdfReader

# Characters a PDF extraction leaves around lines: ASCII blanks, the ideographic
# space (U+3000) and the no-break space.
_BLANKS = " \t\u3000\u00a0"

SECTION_OPEN, SECTION_CLOSE = "【", "】"
THEME_MARKS = ("○", "〇", "◯")  # U+25CB, U+3007 (kanji zero, common in government PDFs), U+25EF
SUBTHEME_BRACKETS = (("＜", "＞"), ("<", ">"), ("〈", "〉"))
BULLET_MARKS = ("・", "･")  # full-width and half-width katakana middle dot

# 参考資料１, 参考資料 2, 資料３-1 … printed at the top of every page.
_PAGE_HEADER = re.compile(r"^(参考)?資料\s*[0-9０-９一二三四五六七八九十]+([-－‐][0-9０-９]+)?$")
# A lone page number: 3, ３, - 3 -, －３－.
_PAGE_NUMBER = re.compile(r"^[-－‐―]\s*[0-9０-９]{1,3}\s*[-－‐―]$")


class SummaryParseError(ValueError):
    """The document does not have the expected shape; ``line`` is 1-based."""

    def __init__(self, line: int, message: str, text: str = ""):
        self.line = line
        self.message = message
        self.text = text
        shown = f"「{text[:40]}」" if text else ""
        super().__init__(f"{line}行目{shown}: {message}")


@dataclass
class ParsedOpinion:
    body: str
    line: int = field(default=0, compare=False)  # where it starts; not part of equality
    # The page it starts on, where the source has pages (form feeds between them, as
    # text_from_pdf gives); None otherwise. Not part of equality, as line is not.
    page: int | None = field(default=None, compare=False)


@dataclass
class ParsedNode:
    """A section, theme or subtheme: ``level`` is 1, 2 or 3."""

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
class ParsedDocument:
    title: str
    label: str = ""
    sections: list[ParsedNode] = field(default_factory=list)

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
            mark = {1: "【{}】", 2: "○{}", 3: "＜{}＞"}[node.level].format(node.name)
            lines.append(f"{'  ' * node.level}{mark}  {node.opinion_count}件")
        return "\n".join(lines)


def join_wrapped(head: str, tail: str) -> str:
    """Join a line the PDF wrapped mid-sentence onto the text before it.

    Japanese has no spaces between words, so the pieces are joined directly; only
    two ASCII alphanumerics meeting at the break (an English phrase that was
    wrapped) get a space back.
    """
    if head and tail and _is_ascii_alnum(head[-1]) and _is_ascii_alnum(tail[0]):
        return f"{head} {tail}"
    return head + tail


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _heading_name(text: str, line: int, opening: str, closing: str, what: str) -> str:
    if not text.endswith(closing):
        raise SummaryParseError(line, f"{what}の見出しが「{closing}」で閉じていません。", text)
    name = text[len(opening) : -len(closing)].strip(_BLANKS)
    if not name:
        raise SummaryParseError(line, f"{what}の見出しが空です。", text)
    return name


def _subtheme_brackets(text: str) -> tuple[str, str] | None:
    for opening, closing in SUBTHEME_BRACKETS:
        if text.startswith(opening):
            return opening, closing
    return None


def parse_summary(text: str) -> ParsedDocument:
    """Parse the text of a summary document into sections › themes › subthemes › opinions.

    Tolerates CRLF and CR line ends, a BOM, blank lines, leading and trailing
    (ideographic) spaces, page headers such as 参考資料１, lone page numbers and a
    repeated title line. Themes without opinions are kept. Raises
    ``SummaryParseError`` with the line number for anything it cannot place.
    """
    text = text.removeprefix("\ufeff")
    document: ParsedDocument | None = None
    section = theme = node = None  # node: where the next bullet goes
    opinion: ParsedOpinion | None = None  # the bullet wrapped lines continue
    early_label = ""  # a page header before the title
    seen: dict[tuple[int, int, str], int] = {}  # (level, parent id, name) -> line

    def open_node(level: int, name: str, lineno: int, parent: ParsedNode | None) -> ParsedNode:
        key = (level, id(parent), unicodedata.normalize("NFKC", name))
        if key in seen:
            raise SummaryParseError(
                lineno, f"同じ見出しが{seen[key]}行目にもあります。見出しは重複できません。", name
            )
        seen[key] = lineno
        created = ParsedNode(level=level, name=name, line=lineno)
        (parent.children if parent else document.sections).append(created)
        return created

    page = 1 if "\x0c" in text else None
    for lineno, (raw, ended) in enumerate(
        zip(text.splitlines(), text.splitlines(keepends=True), strict=True), start=1
    ):
        on_page = page
        if page is not None and ended.endswith("\x0c"):
            page += 1
        line = raw.strip(_BLANKS)
        if not line:
            continue
        if _PAGE_HEADER.match(line):
            # Printed above the title on the first page (as Word documents put it), or at
            # the top of later pages.
            if document is None:
                early_label = early_label or line
            elif not document.label:
                document.label = line
            continue
        if _PAGE_NUMBER.match(line):
            continue
        if document is None:
            if line.startswith((SECTION_OPEN, *THEME_MARKS, *BULLET_MARKS)):
                raise SummaryParseError(lineno, "1行目に資料の題名がありません。", line)
            document = ParsedDocument(title=line, label=early_label)
            continue
        if line == document.title:  # the title repeated on a later page
            continue

        if line.startswith(SECTION_OPEN):
            name = _heading_name(line, lineno, SECTION_OPEN, SECTION_CLOSE, "章（【】）")
            section = node = open_node(1, name, lineno, None)
            theme = opinion = None
        elif line.startswith(THEME_MARKS):
            if section is None:
                raise SummaryParseError(
                    lineno, "テーマ（○）の前に章（【】）の見出しがありません。", line
                )
            name = line[1:].strip(_BLANKS)
            if not name:
                raise SummaryParseError(lineno, "テーマ（○）の見出しが空です。", line)
            theme = node = open_node(2, name, lineno, section)
            opinion = None
        elif brackets := _subtheme_brackets(line):
            if theme is None:
                raise SummaryParseError(
                    lineno, "小テーマ（＜＞）の前にテーマ（○）の見出しがありません。", line
                )
            name = _heading_name(line, lineno, *brackets, "小テーマ（＜＞）")
            node = open_node(3, name, lineno, theme)
            opinion = None
        elif line.startswith(BULLET_MARKS):
            if theme is None:
                raise SummaryParseError(
                    lineno, "意見（・）の前にテーマ（○）の見出しがありません。", line
                )
            body = line[1:].strip(_BLANKS)
            if not body:
                raise SummaryParseError(lineno, "意見（・）の本文が空です。", line)
            opinion = ParsedOpinion(body=body, line=lineno, page=on_page)
            node.opinions.append(opinion)
        elif opinion is not None:
            opinion.body = join_wrapped(opinion.body, line)
        elif section is None:
            raise SummaryParseError(
                lineno, "題名の後、最初の章（【】）の前に解釈できない行があります。", line
            )
        else:
            raise SummaryParseError(
                lineno,
                "見出しの直後に「・」で始まらない行があります。意見は「・」で始めてください。",
                line,
            )

    if document is None:
        raise SummaryParseError(1, "ファイルが空です。")
    if not document.sections:
        raise SummaryParseError(
            1, "章（【】）の見出しが一つもありません。主なご意見の資料ではないようです。"
        )
    return document


def render_summary(document: ParsedDocument) -> str:
    """Write a document back in the text form ``parse_summary`` reads (one line per item)."""
    lines = [document.title]
    if document.label:
        lines.append(document.label)
    marks = {1: "【{}】", 2: "○{}", 3: "＜{}＞"}
    for node in document.nodes():
        lines.append("")
        lines.append(marks[node.level].format(node.name))
        lines.extend(f"・{opinion.body}" for opinion in node.opinions)
    return "\n".join(lines) + "\n"


def decode_text(data: bytes) -> str:
    """The text of a file: UTF-8 (with or without a BOM), else Shift_JIS (cp932)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("cp932")
        except UnicodeDecodeError:
            line = data[: utf8_error.start].count(b"\n") + 1
            raise SummaryParseError(
                line, "文字コードを読み取れません。UTF-8 または Shift_JIS で保存してください。"
            ) from None


# --- Text out of uploaded files -----------------------------------------------------------

UPLOAD_SUFFIXES = (".txt", ".docx", ".pdf")


class DocumentReadError(ValueError):
    """The file could not be read at all (not a parse problem of its text)."""


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


def text_from_docx(data: bytes) -> str:
    """The paragraphs of a Word file, one per line (tables and text boxes are ignored)."""
    try:
        document = Document(io.BytesIO(data))
    except Exception as error:
        # A damaged file surfaces as whatever python-docx, zipfile or lxml meets first
        # (BadZipFile, KeyError, XMLSyntaxError …): all mean the same to the uploader.
        raise DocumentReadError("Word ファイル（.docx）として読み取れません。") from error
    return "\n".join(paragraph.text for paragraph in document.paragraphs)


MAX_PDF_PAGES = 300


def text_from_pdf(data: bytes) -> str:
    """The text of a PDF, page after page, through ``normalize_extracted_text``."""
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise DocumentReadError(
                "パスワードで保護された PDF は読み取れません。保護を外してください。"
            )
        if len(reader.pages) > MAX_PDF_PAGES:
            raise DocumentReadError(f"PDF のページが多すぎます（{MAX_PDF_PAGES} ページまで）。")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentReadError:
        raise
    except Exception as error:
        # pypdf reports a damaged file through PdfReadError but also through whatever its
        # parser meets (ValueError, KeyError, TypeError …): all mean the same here.
        raise DocumentReadError("PDF ファイルとして読み取れません。") from error
    # Pages stay apart (a form feed between them), so each remark keeps its page.
    text = "\x0c".join(normalize_extracted_text(page) for page in pages)
    if not text.replace("\x0c", "").strip():
        raise DocumentReadError(
            "PDF から文字を取り出せません（画像だけの PDF かもしれません）。"
            "テキストを含む PDF か、Word・テキスト形式のファイルを使ってください。"
        )
    return text


def text_from_upload(filename: str, data: bytes) -> str:
    """The text of an uploaded summary document, by its suffix: .txt (UTF-8 or
    Shift_JIS), .docx or .pdf. Raises ``DocumentReadError`` or ``SummaryParseError``."""
    suffix = os.path.splitext(filename.lower())[1]
    if suffix == ".txt":
        return decode_text(data)
    if suffix == ".docx":
        return text_from_docx(data)
    if suffix == ".pdf":
        return text_from_pdf(data)
    raise DocumentReadError(
        f"「{suffix or filename}」の形式は読み込めません。.txt、.docx、.pdf のいずれかにしてください。"
    )
