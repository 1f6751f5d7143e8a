"""Write remarks out: the filtered list as CSV or XLSX, a 「主なご意見」 document as DOCX
or text, each with a title block and a file name that say what it holds.

Pure functions over rows that the caller has already selected (and checked the user may
see): no request and no query is made here beyond iterating what is passed in. Every
writer takes an iterable and never holds the whole result: CSV yields encoded chunks,
XLSX is written row by row to a file (openpyxl's write-only mode), so memory stays
constant whatever the number of remarks.

The plain-text document form is ``importers.render_summary``: what is exported reads
back through the same parser that imports it (its title block too is skipped there).
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import IO

from django.utils import timezone
from django.utils.encoding import uri_to_iri
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from lxml import etree
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from .importers import EXPORT_HEADER_RULE, ParsedDocument, render_summary

# --- What an export says about itself ----------------------------------------------------


@dataclass(frozen=True)
class TitleBlock:
    """What a hand-out says about itself, as the printed pages do: what it is (committee,
    title, 資料番号), which remarks (the conditions as the list's chips name them, and how
    many), when it was made and where from."""

    title: str
    committee: str = ""
    label: str = ""
    conditions: tuple[tuple[str, str], ...] = ()  # (facet, value), e.g. (関係者, 女性)
    count: int | None = None
    url: str = ""
    made_at: datetime = field(default_factory=timezone.now)

    def conditions_text(self) -> str:
        """関係者: 女性 ／ テーマ: 人材育成, as a printed list shows its chips."""
        if not self.conditions:
            return _("なし（すべての意見）")
        return pgettext("between conditions", " ／ ").join(
            _("%(facet)s: %(value)s") % {"facet": facet, "value": value}
            for facet, value in self.conditions
        )

    def count_text(self) -> str:
        if self.count is None:
            return ""
        return ngettext("%(count)s 件", "%(count)s 件", self.count) % {"count": self.count}

    def made_on(self) -> str:
        """The day it was made, in Japan (the portal's time zone)."""
        return date_format(timezone.localtime(self.made_at), "DATE_FORMAT")

    def facts(self) -> list[tuple[str, str]]:
        """(label, text) for the lines under the title: committee, conditions, count, day
        and URL, those it has."""
        facts = []
        if self.committee:
            facts.append((_("会議体"), self.committee))
        facts.append((_("条件"), self.conditions_text()))
        if self.count is not None:
            facts.append((_("件数"), self.count_text()))
        facts.append((pgettext("export", "出力日"), self.made_on()))
        if self.url:
            facts.append((_("URL"), uri_to_iri(self.url)))  # ?document=参考資料1, readable
        # One line each, without what XML cannot hold (search words come from the URL).
        return [(label, " ".join(_XLSX_ILLEGAL.sub("", text).split())) for label, text in facts]

    def lines(self) -> list[str]:
        """The facts as text lines: 条件：関係者: 女性."""
        return [fact_line(label, text) for label, text in self.facts()]


def fact_line(label: str, text: str) -> str:
    return _("%(label)s：%(text)s") % {"label": label, "text": text}


# The kinds of export, by the ASCII name their files fall back to.
EXPORT_KINDS = {
    "summary": gettext_lazy("主なご意見"),
    "opinions": gettext_lazy("意見一覧"),
    "crosstab": gettext_lazy("クロス集計"),
    "responses": gettext_lazy("ご意見と対応"),
}
# Characters at most: one condition, and all of them (a name stays well under the 255 bytes
# most file systems allow, three bytes a Japanese character).
FILENAME_PART_LENGTH = 24
FILENAME_CONDITIONS_LENGTH = 50
# What Windows or macOS refuse in a file name, control characters, blanks and the "_" that
# separates the parts: each run becomes one "-".
_NOT_IN_FILENAMES = re.compile(r'[\x00-\x1f\x7f\\/:*?"<>|_\s]+')


@dataclass(frozen=True)
class FileName:
    name: str  # 主なご意見_人材育成_女性_2026-12-02.docx
    ascii: str  # summary_2026-12-02.docx, for a client that does not read RFC 5987


def _filename_part(text: str) -> str:
    part = _NOT_IN_FILENAMES.sub("-", unicodedata.normalize("NFKC", text)).strip("-. ")
    if len(part) > FILENAME_PART_LENGTH:
        part = part[: FILENAME_PART_LENGTH - 1].rstrip("-. ") + "…"
    return part


def export_filename(
    kind: str, conditions: Iterable[str], *, suffix: str, variant: str = "", day: date | None = None
) -> FileName:
    """The name of an export file: what it is, the conditions it was made with (theme,
    tags, document, search words …, each shortened, the rest summed up as ほか), a
    ``variant`` (Shift_JIS) and the day in Japan, e.g. 主なご意見_人材育成_女性_2026-12-02.docx;
    and an ASCII name with the ASCII parts of it."""
    day = day or timezone.localdate()
    parts: list[str] = []
    length = 0
    for text in conditions:
        part = _filename_part(text)
        if not part or part in parts:
            continue
        if length + len(part) > FILENAME_CONDITIONS_LENGTH:
            parts.append(_("ほか"))
            break
        parts.append(part)
        length += len(part) + 1
    tail = [*([variant] if variant else []), day.isoformat()]
    name = "_".join([_filename_part(str(EXPORT_KINDS[kind])), *parts, *tail])
    fallback = "_".join([kind, *(part for part in parts if part.isascii()), *tail])
    return FileName(f"{name}.{suffix}", f"{fallback}.{suffix}")


# --- Rows --------------------------------------------------------------------------------

# A spreadsheet treats a cell starting with these as a formula (or, for tab and CR, as a
# cell break some importers then read as the start of another cell).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: str) -> str:
    """``value`` made inert for a spreadsheet: a leading apostrophe when it starts like a
    formula (OWASP's advice for CSV injection). Excel shows the text, it never runs it."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable  # record -> str | int
    # In a spreadsheet, in characters (a full-width one takes two). A list's columns add up
    # to 172 (180 with the status), which A4 landscape prints at about 78 % (text at 8 pt).
    width: int = 11


def _joined(values: list[str]) -> str:
    return "、".join(values)


def export_columns(*, include_status: bool, base_url: str) -> list[Column]:
    """The columns of a list export, over ``selectors.ExportRecord`` rows. ``base_url``
    (scheme and host) makes the URL absolute."""
    columns = [
        Column(_("ID"), lambda record: record.pk, width=6),
        Column(_("章"), lambda record: record.trail[0]),
        Column(_("テーマ"), lambda record: record.trail[1]),
        Column(_("小テーマ"), lambda record: record.trail[2]),
        Column(_("本文"), lambda record: record.body, width=56),
        Column(_("自治体規模"), lambda record: _joined(record.sizes)),
        Column(_("関係者"), lambda record: _joined(record.stakeholders)),
        Column(_("会議"), lambda record: _joined(record.meetings)),
        Column(_("資料"), lambda record: record.document, width=12),
    ]
    if include_status:
        columns.append(Column(_("状態"), lambda record: record.status, width=8))
    base = base_url.rstrip("/")
    columns.append(Column(_("URL"), lambda record: base + record.path, width=32))
    return columns


def rows(records: Iterable, columns: list[Column]) -> Iterator[list]:
    """The header, then one list of values per record."""
    yield [column.header for column in columns]
    for record in records:
        yield [column.value(record) for column in columns]


# --- CSV ---------------------------------------------------------------------------------

CSV_ENCODINGS = {"utf-8": "utf-8-sig", "cp932": "cp932"}
# Characters with a look-alike in Shift_JIS (cp932) that Python's codec does not map.
_CP932_LOOKALIKES = str.maketrans(
    {
        "\u2014": "\u2015",  # — EM DASH → ― HORIZONTAL BAR (Shift_JIS's dash)
        "\u2022": "・",  # • BULLET
        "\u00b7": "・",  # · MIDDLE DOT
        "\u2013": "－",  # – EN DASH
        "\u20ac": "EUR",
        "\u00a0": " ",
    }
)
# 〓 (geta): how Japanese typesetting marks a character it cannot print.
CP932_REPLACEMENT = "〓"


def _cp932_fallback(error: UnicodeEncodeError) -> tuple[str, int]:
    replacement = []
    for char in error.object[error.start : error.end]:
        candidate = char.translate(_CP932_LOOKALIKES)
        if candidate == char:
            # é → e, ｶﾞ-like compositions, ligatures: the compatibility form without accents.
            decomposed = unicodedata.normalize("NFKD", char)
            candidate = "".join(c for c in decomposed if not unicodedata.combining(c))
        try:
            candidate.encode("cp932")
        except UnicodeEncodeError:
            candidate = CP932_REPLACEMENT
        replacement.append(candidate or CP932_REPLACEMENT)
    return "".join(replacement), error.end


codecs.register_error("opinions.cp932", _cp932_fallback)


def to_cp932(text: str) -> bytes:
    """``text`` in Shift_JIS (cp932). A character cp932 lacks becomes a look-alike (— → ―,
    é → e) or, when there is none (𠮷, emoji), 〓; it never fails."""
    return text.encode("cp932", errors="opinions.cp932")


class _Line:
    """A file-like sink for csv.writer that hands back what was written."""

    def __init__(self):
        self.buffer = io.StringIO()

    def write(self, text: str) -> None:
        self.buffer.write(text)

    def take(self) -> str:
        value = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return value


def csv_chunks(
    table: Iterable[list], *, encoding: str = "utf-8", rows_per_chunk: int = 200
) -> Iterator[bytes]:
    """``table`` as CSV bytes, a chunk every ``rows_per_chunk`` rows (for streaming).

    ``encoding`` is ``utf-8`` (with a BOM, so Excel in Japan opens it as UTF-8) or
    ``cp932`` (Shift_JIS, for older tools; see ``to_cp932``). Text cells are neutralized
    against formula injection; line ends are CRLF as RFC 4180 and Excel expect.
    """
    if encoding not in CSV_ENCODINGS:
        raise ValueError(f"unknown CSV encoding {encoding!r}")
    sink = _Line()
    writer = csv.writer(sink, lineterminator="\r\n")

    def encode(text: str) -> bytes:
        return to_cp932(text) if encoding == "cp932" else text.encode("utf-8")

    if encoding == "utf-8":
        yield codecs.BOM_UTF8
    for count, row in enumerate(table, start=1):
        writer.writerow([neutralize(v) if isinstance(v, str) else v for v in row])
        if count % rows_per_chunk == 0:
            yield encode(sink.take())
    if rest := sink.take():
        yield encode(rest)


# --- XLSX --------------------------------------------------------------------------------

# Control characters the XML inside an XLSX file cannot hold (openpyxl refuses them).
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def wrapped_lines(text: str, width: int) -> int:
    """Lines ``text`` takes in a wrapped cell ``width`` characters wide (a full-width
    character counts two)."""
    total = 0
    for line in (text or "").split("\n"):
        chars = sum(2 if ord(c) > 0x2E7F else 1 for c in line)
        total += max(1, math.ceil(chars / max(width * 1.0, 1)))
    return total


# A spreadsheet row in points: Excel's and LibreOffice's default for 11 pt text, per line.
XLSX_LINE_HEIGHT = 15
# Excel refuses a page header or footer longer than this (all its sections together).
_XLSX_HEADER_LENGTH = 250


def _header_text(text: str, length: int) -> str:
    """``text`` for a page header or footer: at most ``length`` characters, its & (a code
    there) doubled."""
    text = _XLSX_ILLEGAL.sub("", text)
    if len(text) > length:
        text = text[: length - 1] + "…"
    return text.replace("&", "&&")


def write_xlsx(
    table: Iterable[list],
    target: IO[bytes],
    *,
    widths: Iterable[int] = (),
    sheet_title: str = "",
    title_block: TitleBlock | None = None,
) -> None:
    """Write ``table`` (header first) as an XLSX workbook to the binary file ``target``,
    with the given column ``widths`` (in characters); rows are as high as their wrapped
    text needs.

    With ``title_block``, the printed pages carry it in their header and footer (title and
    committee, day, conditions, n / N), and a second sheet 出力条件 lists it whole with the
    count of rows; the table stays the first sheet, its header row 1, for whoever reads the
    file by program.

    openpyxl's write-only mode streams rows to disk, so memory stays constant. Every text
    cell is written as text, never as a formula; one that starts like a formula is also
    marked with Excel's quote prefix, so it stays text even when someone edits the cell.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(sheet_title or _("意見"))[:31])
    about = workbook.create_sheet(title=_("出力条件")[:31]) if title_block else None
    wrap = Alignment(wrap_text=True, vertical="top")
    widths = list(widths)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    rows_iter = iter(table)
    header = next(rows_iter, [])
    sheet.freeze_panes = "A2"
    _print_setup(sheet, title_rows="1:1")

    def cell(target_sheet, value, *, bold=False):
        if isinstance(value, str):
            text = _XLSX_ILLEGAL.sub("", value)
            result = WriteOnlyCell(target_sheet, value=text)
            result.data_type = "s"  # a string that starts with = is not a formula
            result.quotePrefix = text.startswith(FORMULA_TRIGGERS)
            result.alignment = wrap
        else:
            result = WriteOnlyCell(target_sheet, value=value)
            result.alignment = wrap  # at the top of its row, as the text beside it
        if bold:
            result.font = Font(bold=True)
        return result

    def lines(row) -> int:
        # A row's height is set before the row is written (write-only mode writes it then).
        return max(
            (
                wrapped_lines(value, width)
                for value, width in zip(row, widths, strict=False)
                if isinstance(value, str)
            ),
            default=1,
        )

    sheet.append([cell(sheet, name, bold=True) for name in header])
    count = 0
    for number, row in enumerate(rows_iter, start=2):
        if (needed := lines(row)) > 1:
            sheet.row_dimensions[number].height = XLSX_LINE_HEIGHT * needed + 3
        sheet.append([cell(sheet, value) for value in row])
        count += 1
    if title_block is not None:
        _title_block_sheet(about, replace(title_block, count=count), cell)
        _page_header(sheet, replace(title_block, count=count))
    workbook.save(target)


def _print_setup(sheet, *, title_rows: str = "", landscape: bool = True) -> None:
    """Printed on A4, as wide as one page, the header rows on every page, numbered n / N."""
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = (
        Worksheet.ORIENTATION_LANDSCAPE if landscape else Worksheet.ORIENTATION_PORTRAIT
    )
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        sheet.print_title_rows = title_rows
    sheet.oddFooter.center.text = "&P / &N"


def _page_header(sheet, block: TitleBlock) -> None:
    """The title block in the printed pages' header and footer, as short as Excel wants."""
    what = " ".join(part for part in (block.committee, block.label, block.title) if part)
    made = fact_line(pgettext("export", "出力日"), block.made_on())
    sheet.oddHeader.left.text = _header_text(what, 90)
    sheet.oddHeader.right.text = _header_text(f"{block.count_text()}　{made}".strip(), 60)
    conditions = fact_line(_("条件"), block.conditions_text())
    sheet.oddFooter.left.text = _header_text(conditions, _XLSX_HEADER_LENGTH - 110)
    for item in (sheet.oddHeader.left, sheet.oddHeader.right, sheet.oddFooter.left):
        item.size = 8


def _title_block_sheet(sheet, block: TitleBlock, cell) -> None:
    """The 出力条件 sheet: the title, then each fact on a row of its own."""
    sheet.column_dimensions["A"].width = 12
    sheet.column_dimensions["B"].width = 90
    _print_setup(sheet, landscape=False)
    title = " ".join(part for part in (block.label, block.title) if part)
    sheet.append([cell(sheet, title, bold=True)])
    for number, (label, text) in enumerate(block.facts(), start=2):
        if (needed := wrapped_lines(text, 90)) > 1:
            sheet.row_dimensions[number].height = XLSX_LINE_HEIGHT * needed + 3
        sheet.append([cell(sheet, label, bold=True), cell(sheet, text)])


# --- The 「主なご意見」 document ------------------------------------------------------------

_FULL_WIDTH_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")


def summary_title(meeting_numbers: Iterable[int]) -> str:
    """The committee's title for the remarks of some meetings, with its full-width digits:
    (1, 2) → 第１回、第２回における主なご意見; none → 主なご意見."""
    meetings = "、".join(
        _("第%(number)s回") % {"number": str(number).translate(_FULL_WIDTH_DIGITS)}
        for number in sorted(set(meeting_numbers))
    )
    if not meetings:
        return _("主なご意見")
    return _("%(meetings)sにおける主なご意見") % {"meetings": meetings}


# Mincho for the text as the committee's documents print it, Gothic for headings: ＭＳ 明朝
# and ＭＳ ゴシック, which every Japanese Windows and Office has, under the names Word gives
# them in Japanese. Those names are also the ones fontconfig's own aliases (40-nonlatin.conf)
# class as serif and sans-serif, so LibreOffice on Linux, asked for them in Japanese text
# (the documents say so: _declare_fonts), sets the text in Noto Serif CJK JP and the
# headings in Noto Sans CJK JP; 游明朝, the English "MS Mincho" or BIZ UDPMincho are unknown
# to fontconfig and came out in Noto Sans CJK, a Gothic. Latin letters: Times New Roman and
# Arial, which LibreOffice replaces with their metric twins (Liberation Serif and Sans).
BODY_FONT = "ＭＳ 明朝"
HEADING_FONT = "ＭＳ ゴシック"
LATIN_FONTS = {BODY_FONT: "Times New Roman", HEADING_FONT: "Arial"}
# The font table's entry of each: its English name as an alternative, PANOSE, family and
# pitch, with which Word picks a font of the same kind where the named one is missing.
FONT_TABLE = {
    BODY_FONT: ("MS Mincho", "02020609040205080304", "roman", "fixed"),
    HEADING_FONT: ("MS Gothic", "020B0609070205080204", "modern", "fixed"),
}
DOCUMENT_LANGUAGE = "ja-JP"


def summary_docx(
    document: ParsedDocument, target: IO[bytes], *, title_block: TitleBlock | None = None
) -> None:
    """Write ``document`` in the committee's form as a printable A4 Word file.

    Title (centred), label (参考資料１, top right), 【section】 / ○theme / ＜subtheme＞ as
    Heading 1–3, each remark a ・ paragraph with a hanging indent, page numbers (n / N) in
    the footer. With ``title_block``, the first page's header carries it (committee,
    conditions, count, day, URL; later pages repeat the label and title), as a printed
    page carries its own. The header is not the document's text and the marks are part of
    the text, so the file reads back through ``importers.text_from_docx`` and
    ``parse_summary`` into the same tree.
    """
    word = Document()
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(25)
    section.left_margin = section.right_margin = Mm(22)
    section.header_distance = section.footer_distance = Mm(10)

    _style(word.styles["Normal"], BODY_FONT, Pt(10.5))
    _style(word.styles["Title"], HEADING_FONT, Pt(14), bold=True, space_after=Pt(12))
    _style(word.styles["Heading 1"], HEADING_FONT, Pt(12), bold=True, space_before=Pt(12))
    _style(word.styles["Heading 2"], HEADING_FONT, Pt(11), bold=True, space_before=Pt(8))
    _style(word.styles["Heading 3"], HEADING_FONT, Pt(10.5), bold=False, space_before=Pt(4))
    _style(word.styles["Header"], HEADING_FONT, Pt(8), space_after=Pt(0))
    _style(word.styles["Footer"], HEADING_FONT, Pt(9))
    _declare_fonts(word)
    word.core_properties.title = document.title
    word.core_properties.language = DOCUMENT_LANGUAGE
    if title_block is not None:
        _title_block_header(section, title_block)
        word.core_properties.subject = title_block.conditions_text()
        word.core_properties.comments = title_block.url
        word.core_properties.created = title_block.made_at
    _page_number_footer(section)

    if document.label:
        label = word.add_paragraph(document.label)
        label.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    title = word.add_paragraph(document.title, style="Title")
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    marks = {1: "【{}】", 2: "○{}", 3: "＜{}＞"}
    for node in document.nodes():
        heading = word.add_paragraph(marks[node.level].format(node.name), f"Heading {node.level}")
        heading.paragraph_format.keep_with_next = True
        for opinion in node.opinions:
            paragraph = word.add_paragraph(f"・{opinion.body}")
            # Wrapped lines align under the text, not under the bullet.
            paragraph.paragraph_format.left_indent = Pt(10.5)
            paragraph.paragraph_format.first_line_indent = Pt(-10.5)
            paragraph.paragraph_format.space_after = Pt(3)
    word.save(target)


def summary_text(document: ParsedDocument, title_block: TitleBlock | None = None) -> str:
    """``document`` in the committee's text form (``importers.render_summary``), with
    ``title_block``'s lines between two rules after the title and label, where
    ``parse_summary`` knows to skip them."""
    text = render_summary(document)
    if title_block is None:
        return text
    lines = text.split("\n")
    head = 2 if document.label else 1
    block = [EXPORT_HEADER_RULE, *title_block.lines(), EXPORT_HEADER_RULE]
    return "\n".join([*lines[:head], *block, *lines[head:]])


def _title_block_header(section, block: TitleBlock) -> None:
    """The first page's header: each fact on a line, its name in bold, a rule under them;
    the other pages' header: the label and title, on the right."""
    section.different_first_page_header_footer = True
    header = section.first_page_header
    for index, (label, text) in enumerate(block.facts()):
        paragraph = header.paragraphs[0] if index == 0 else header.add_paragraph(style="Header")
        paragraph.add_run(fact_line(label, "")).bold = True
        paragraph.add_run(text)
    _rule_below(paragraph)
    header.add_paragraph(style="Header")  # air between the rule and the page's text
    running = section.header.paragraphs[0]
    running.text = "　".join(part for part in (block.committee, block.label, block.title) if part)
    running.alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _rule_below(paragraph) -> None:
    properties = paragraph._p.get_or_add_pPr()
    properties.append(
        parse_xml(
            f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="8" w:space="2" '
            'w:color="000000"/></w:pBdr>'
        )
    )


def _style(
    style, east_asian: str, size, *, latin=None, bold=None, space_before=None, space_after=None
):
    style.font.name = latin or LATIN_FONTS.get(east_asian, LATIN_FONTS[BODY_FONT])
    style.font.size = size
    style.font.color.rgb = RGBColor(0, 0, 0)  # printable: no theme colours on headings
    if bold is not None:
        style.font.bold = bold
    style.font.italic = False
    # python-docx sets only the Latin fonts; Japanese text takes w:eastAsia, and the
    # theme font references would override it, so they are removed.
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    paragraph = style.paragraph_format
    if space_before is not None:
        paragraph.space_before = space_before
    if space_after is not None:
        paragraph.space_after = space_after
    # The title style of the default template draws a coloured rule under the text.
    ppr = style.element.pPr
    if ppr is not None and (border := ppr.find(qn("w:pBdr"))) is not None:
        ppr.remove(border)


def _declare_fonts(word) -> None:
    """Say that the text is Japanese and which fonts it is in, so that a reader without
    them picks a Japanese Mincho (or Gothic) rather than a Western font.

    The document's default language for East Asian text becomes Japanese (the template
    says en-US; LibreOffice then looks for the fonts for English and falls back to a
    Gothic), its default fonts the body's rather than theme references, and the font table
    names each Japanese font with its English name, PANOSE, Shift_JIS charset and family."""
    defaults = word.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    language = run_defaults.find(qn("w:lang"))
    if language is None:
        language = parse_xml(f"<w:lang {nsdecls('w')}/>")
        run_defaults.append(language)
    language.set(qn("w:eastAsia"), DOCUMENT_LANGUAGE)
    fonts = run_defaults.find(qn("w:rFonts"))
    if fonts is not None:
        for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attribute), None)
        for attribute in ("w:ascii", "w:hAnsi"):
            fonts.set(qn(attribute), LATIN_FONTS[BODY_FONT])
        fonts.set(qn("w:eastAsia"), BODY_FONT)

    font_table = None
    for rel in word.part.rels.values():
        if rel.reltype == RELATIONSHIP_TYPE.FONT_TABLE:
            font_table = rel.target_part
    if font_table is None:
        return
    root = parse_xml(font_table.blob)
    for name, (alternative, panose, family, pitch) in FONT_TABLE.items():
        element = parse_xml(
            f'<w:font {nsdecls("w")} w:name="{name}">'
            f'<w:altName w:val="{alternative}"/><w:panose1 w:val="{panose}"/>'
            f'<w:charset w:val="80"/><w:family w:val="{family}"/>'
            f'<w:pitch w:val="{pitch}"/></w:font>'
        )
        for existing in root.findall(qn("w:font")):
            if existing.get(qn("w:name")) == name:
                root.remove(existing)
        root.append(element)
    font_table._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_number_footer(section) -> None:
    """n / N at the foot of every page (of the first too, when it has a header of its own)."""
    footers = [section.footer]
    if section.different_first_page_header_footer:
        footers.append(section.first_page_footer)
    for footer in footers:
        paragraph = footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _field(paragraph, "PAGE")
        paragraph.add_run(" / ")
        _field(paragraph, "NUMPAGES")


def _field(paragraph, instruction: str) -> None:
    run = paragraph.add_run()
    for xml in (
        f'<w:fldChar {nsdecls("w")} w:fldCharType="begin"/>',
        f'<w:instrText {nsdecls("w")} xml:space="preserve"> {instruction} </w:instrText>',
        f'<w:fldChar {nsdecls("w")} w:fldCharType="end"/>',
    ):
        run._r.append(parse_xml(xml))
