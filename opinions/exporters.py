"""Write remarks out: the filtered list as CSV or XLSX, a 「主なご意見」 document as DOCX.

Pure functions over rows that the caller has already selected (and checked the user may
see): no request and no query is made here beyond iterating what is passed in. Every
writer takes an iterable and never holds the whole result: CSV yields encoded chunks,
XLSX is written row by row to a file (openpyxl's write-only mode), so memory stays
constant whatever the number of remarks.

The plain-text document form is ``importers.render_summary``: what is exported reads
back through the same parser that imports it.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _
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

from .importers import ParsedDocument

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
    width: int = 18  # in a spreadsheet, in characters


def _joined(values: list[str]) -> str:
    return "、".join(values)


def export_columns(*, include_status: bool, base_url: str) -> list[Column]:
    """The columns of a list export, over ``selectors.ExportRecord`` rows. ``base_url``
    (scheme and host) makes the URL absolute."""
    columns = [
        Column(_("ID"), lambda record: record.pk, width=8),
        Column(_("章"), lambda record: record.trail[0]),
        Column(_("テーマ"), lambda record: record.trail[1]),
        Column(_("小テーマ"), lambda record: record.trail[2]),
        Column(_("本文"), lambda record: record.body, width=80),
        Column(_("自治体規模"), lambda record: _joined(record.sizes)),
        Column(_("関係者"), lambda record: _joined(record.stakeholders)),
        Column(_("会議"), lambda record: _joined(record.meetings)),
        Column(_("資料"), lambda record: record.document),
    ]
    if include_status:
        columns.append(Column(_("状態"), lambda record: record.status))
    base = base_url.rstrip("/")
    columns.append(Column(_("URL"), lambda record: base + record.path, width=40))
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


def write_xlsx(
    table: Iterable[list],
    target: IO[bytes],
    *,
    widths: Iterable[int] = (),
    sheet_title: str = "",
) -> None:
    """Write ``table`` (header first) as an XLSX workbook to the binary file ``target``,
    with the given column ``widths`` (in characters).

    openpyxl's write-only mode streams rows to disk, so memory stays constant. Every text
    cell is written as text, never as a formula; one that starts like a formula is also
    marked with Excel's quote prefix, so it stays text even when someone edits the cell.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(sheet_title or _("意見"))[:31])
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    rows_iter = iter(table)
    header = next(rows_iter, [])
    sheet.freeze_panes = "A2"
    # Printed on A4 landscape, as wide as one page, the header row on every page.
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = "1:1"

    def cell(value, *, bold=False):
        if isinstance(value, str):
            text = _XLSX_ILLEGAL.sub("", value)
            result = WriteOnlyCell(sheet, value=text)
            result.data_type = "s"  # a string that starts with = is not a formula
            result.quotePrefix = text.startswith(FORMULA_TRIGGERS)
            result.alignment = wrap
        else:
            result = WriteOnlyCell(sheet, value=value)
        if bold:
            result.font = Font(bold=True)
        return result

    sheet.append([cell(name, bold=True) for name in header])
    for row in rows_iter:
        sheet.append([cell(value) for value in row])
    workbook.save(target)


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


# Mincho for the text as the committee's documents print it; Gothic for headings. A
# reader without these fonts gets another Japanese font of the same family, because
# the font table says which script and family they are (see _declare_fonts).
BODY_FONT = "游明朝"
HEADING_FONT = "游ゴシック"
FALLBACK_FONTS = {BODY_FONT: ("ＭＳ 明朝", "roman"), HEADING_FONT: ("ＭＳ ゴシック", "modern")}
LATIN_FONT = "Century"


def summary_docx(document: ParsedDocument, target: IO[bytes]) -> None:
    """Write ``document`` in the committee's form as a printable A4 Word file.

    Title (centred), label (参考資料１, top right), 【section】 / ○theme / ＜subtheme＞ as
    Heading 1–3, each remark a ・ paragraph with a hanging indent, page numbers in the
    footer. The marks are part of the text, so the file reads back through
    ``importers.text_from_docx`` and ``parse_summary`` into the same tree.
    """
    word = Document()
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(25)
    section.left_margin = section.right_margin = Mm(22)
    _page_number_footer(section)

    _style(word.styles["Normal"], BODY_FONT, Pt(10.5))
    _style(word.styles["Title"], HEADING_FONT, Pt(14), bold=True, space_after=Pt(12))
    _style(word.styles["Heading 1"], HEADING_FONT, Pt(12), bold=True, space_before=Pt(12))
    _style(word.styles["Heading 2"], HEADING_FONT, Pt(11), bold=True, space_before=Pt(8))
    _style(word.styles["Heading 3"], HEADING_FONT, Pt(10.5), bold=False, space_before=Pt(4))
    _declare_fonts(word)
    word.core_properties.title = document.title
    word.core_properties.language = "ja-JP"

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


def _style(style, east_asian: str, size, *, bold=None, space_before=None, space_after=None):
    style.font.name = LATIN_FONT
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
    """Name the Japanese fonts in the font table with their Shift_JIS charset, family and
    an alternative, so Word or LibreOffice without 游明朝 picks a Japanese Mincho (or
    Gothic) rather than a Western font."""
    font_table = None
    for rel in word.part.rels.values():
        if rel.reltype == RELATIONSHIP_TYPE.FONT_TABLE:
            font_table = rel.target_part
    if font_table is None:
        return
    root = parse_xml(font_table.blob)
    for name, (alternative, family) in FALLBACK_FONTS.items():
        element = parse_xml(
            f'<w:font {nsdecls("w")} w:name="{name}">'
            f'<w:altName w:val="{alternative}"/><w:charset w:val="80"/>'
            f'<w:family w:val="{family}"/><w:pitch w:val="variable"/></w:font>'
        )
        for existing in root.findall(qn("w:font")):
            if existing.get(qn("w:name")) == name:
                root.remove(existing)
        root.append(element)
    font_table._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_number_footer(section) -> None:
    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    for xml in (
        f'<w:fldChar {nsdecls("w")} w:fldCharType="begin"/>',
        f'<w:instrText {nsdecls("w")} xml:space="preserve"> PAGE </w:instrText>',
        f'<w:fldChar {nsdecls("w")} w:fldCharType="end"/>',
    ):
        run._r.append(parse_xml(xml))
