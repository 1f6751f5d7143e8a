"""「ご意見と対応」 as e-Gov publishes public-comment results: 番号, ご意見の概要, 考え方,
対応区分, 反映先, one row per remark, the remarks of one response sharing its cells.

Pure functions over a ``selectors.Ledger``: no request, no query.
"""

from __future__ import annotations

from typing import IO

from django.utils import timezone
from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from ..exporters import (
    _XLSX_ILLEGAL,
    BODY_FONT,
    FORMULA_TRIGGERS,
    HEADING_FONT,
    _declare_fonts,
    _page_number_footer,
    _style,
    wrapped_lines,
)
from .selectors import Ledger, LedgerRow


def headers() -> list[str]:
    return [_("番号"), _("ご意見の概要"), _("ご意見に対する考え方"), _("対応区分"), _("反映先")]


# Column widths: millimetres on A4 landscape (257 mm between the margins) and characters
# in the spreadsheet.
DOCX_WIDTHS_MM = [14, 88, 95, 24, 36]
XLSX_WIDTHS = [6, 60, 64, 14, 26]


def runs(rows: list[LedgerRow]) -> list[list[LedgerRow]]:
    """Consecutive rows answered by the same response, which share one cell."""
    groups: list[list[LedgerRow]] = []
    for row in rows:
        if groups and row.response_id is not None and groups[-1][0].response_id == row.response_id:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _title_lines(ledger: Ledger) -> tuple[str, str]:
    subtitle = ledger.committee
    today = timezone.localdate()
    dated = _("%(year)s年%(month)s月%(day)s日現在") % {
        "year": today.year,
        "month": today.month,
        "day": today.day,
    }
    return ledger.title, f"{subtitle}　{dated}" if subtitle else dated


# --- DOCX --------------------------------------------------------------------------------


def _repeat_as_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    properties.append(header)


def _cant_split(row) -> None:
    properties = row._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:cantSplit"))


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _write(cell, text: str, *, bold: bool = False, align=None) -> None:
    lines = text.split("\n") if text else [""]
    paragraph = cell.paragraphs[0]
    for index, line in enumerate(lines):
        if index:
            paragraph = cell.add_paragraph()
        run = paragraph.add_run(line)
        run.bold = bold
        if align is not None:
            paragraph.alignment = align


def ledger_docx(ledger: Ledger, target: IO[bytes]) -> None:
    """An A4 landscape Word file: the title block, then one table whose header row repeats
    on every page; a theme heading row before its remarks; page numbers in the footer."""
    word = Document()
    section = word.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin = section.bottom_margin = Mm(18)
    section.left_margin = section.right_margin = Mm(20)
    _page_number_footer(section)
    _style(word.styles["Normal"], BODY_FONT, Pt(9.5))
    _style(word.styles["Title"], HEADING_FONT, Pt(14), bold=True, space_after=Pt(4))
    _declare_fonts(word)
    title, subtitle = _title_lines(ledger)
    word.core_properties.title = title
    word.core_properties.language = "ja-JP"
    heading = word.add_paragraph(title, style="Title")
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    byline = word.add_paragraph(subtitle)
    byline.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    table = word.add_table(rows=1, cols=len(DOCX_WIDTHS_MM))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for cell, name in zip(table.rows[0].cells, headers(), strict=True):
        _write(cell, name, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        _shade(cell, "D9D9D9")
    _repeat_as_header(table.rows[0])

    for part in ledger.sections:
        row = table.add_row()
        _cant_split(row)
        merged = row.cells[0].merge(row.cells[-1])
        _write(merged, part.heading, bold=True)
        _shade(merged, "F2F2F2")
        for group in runs(part.rows):
            first = None
            for index, item in enumerate(group):
                row = table.add_row()
                cells = row.cells
                _write(cells[0], str(item.number), align=WD_ALIGN_PARAGRAPH.CENTER)
                _write(cells[1], item.remark)
                if index == 0:
                    first = cells
                    _write(cells[2], item.reasoning)
                    _write(cells[3], item.category, align=WD_ALIGN_PARAGRAPH.CENTER)
                    _write(cells[4], "\n".join(item.references or []))
            if len(group) > 1:
                last = table.rows[-1].cells
                for column in (2, 3, 4):
                    first[column].merge(last[column])
    # Both the grid (what LibreOffice reads) and every cell (what Word reads).
    for column, width in zip(table.columns, DOCX_WIDTHS_MM, strict=True):
        column.width = Mm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, DOCX_WIDTHS_MM, strict=True):
            cell.width = Mm(width)
    word.save(target)


# --- XLSX --------------------------------------------------------------------------------


def ledger_xlsx(ledger: Ledger, target: IO[bytes]) -> None:
    """A workbook printing on A4 landscape, fit to one page wide, the header row repeated
    on every page; text wrapped, rows high enough to show it, grouped cells merged."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("ご意見と対応")[:31]
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.horizontalCentered = True
    sheet.oddFooter.center.text = "&P / &N"
    for index, width in enumerate(XLSX_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    centred = Alignment(wrap_text=True, vertical="top", horizontal="center")
    columns = len(XLSX_WIDTHS)

    title, subtitle = _title_lines(ledger)
    sheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    sheet.cell(row=2, column=1, value=subtitle).alignment = Alignment(horizontal="right")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=columns)
    for column, name in enumerate(headers(), start=1):
        cell = sheet.cell(row=3, column=column, value=name)
        cell.font, cell.border, cell.alignment = Font(bold=True), border, centred
        cell.fill = PatternFill("solid", fgColor="D9D9D9")
    sheet.print_title_rows = "3:3"
    sheet.freeze_panes = "A4"

    def text(row, column, value, alignment=wrap):
        cell = sheet.cell(row=row, column=column)
        cell.value = value
        if isinstance(value, str):
            # Data is text, never a formula: typed as a string, and quote-prefixed when it
            # looks like one, so it stays text when someone edits the cell (as write_xlsx).
            cell.value = _XLSX_ILLEGAL.sub("", value)
            cell.data_type = "s"
            cell.quotePrefix = value.startswith(FORMULA_TRIGGERS)
        cell.alignment, cell.border = alignment, border
        return cell

    current = 4
    for part in ledger.sections:
        heading = text(current, 1, part.heading)
        heading.font = Font(bold=True)
        heading.fill = PatternFill("solid", fgColor="F2F2F2")
        sheet.merge_cells(start_row=current, start_column=1, end_row=current, end_column=columns)
        current += 1
        for group in runs(part.rows):
            start = current
            shared = group[0]
            shared_lines = max(
                wrapped_lines(shared.reasoning, XLSX_WIDTHS[2]),
                wrapped_lines("\n".join(shared.references or []), XLSX_WIDTHS[4]),
            )
            own_lines = 0
            for item in group:
                text(current, 1, item.number, centred)
                text(current, 2, item.remark)
                lines = wrapped_lines(item.remark, XLSX_WIDTHS[1])
                own_lines += lines
                sheet.row_dimensions[current].height = 15 * lines + 3
                current += 1
            text(start, 3, shared.reasoning)
            text(start, 4, shared.category, centred)
            text(start, 5, "\n".join(shared.references or []))
            if len(group) > 1:
                for column in (3, 4, 5):
                    for row in range(start + 1, current):
                        text(row, column, "")
                    sheet.merge_cells(
                        start_row=start, start_column=column, end_row=current - 1, end_column=column
                    )
            # The shared text needs its lines over the group's rows together.
            if shared_lines > own_lines:
                extra = (shared_lines - own_lines) * 15 / len(group)
                for row in range(start, current):
                    sheet.row_dimensions[row].height += extra
    workbook.save(target)
