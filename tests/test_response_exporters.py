"""「ご意見と対応」: the DOCX and XLSX layout, and both rendered by LibreOffice to PNG.

The render writes artifacts/exports/ledger-docx.png and ledger-xlsx.png (``make
render-exports`` copies them to docs/screenshots/); it is skipped without Debian's
libreoffice (``soffice``). See tests/rendering.py.
"""

from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from openpyxl import load_workbook

from opinions.responses import exporters
from opinions.responses.selectors import Ledger, LedgerRow, LedgerSection
from tests.rendering import (
    ARTIFACTS,
    needs_libreoffice,
    page_count,
    page_text,
    pdf_info,
    to_pdf,
    to_png,
)

REASONING = (
    "ご意見を踏まえ、第２期「まち・ひと・しごと創生総合戦略」において、地域の担い手の確保と"
    "関係人口の創出・拡大を新たな柱として位置付けました。引き続き、地方公共団体の取組を支援します。"
)


def sample_ledger() -> Ledger:
    return Ledger(
        "ご意見と対応",
        "まち・ひと・しごと創生会議",
        [
            LedgerSection(
                "【第１期の評価】 ○第１期の成果",
                [
                    LedgerRow(1, "地方への人の流れをつくるには、関係人口の考え方が重要だ。" * 3, 7,
                              REASONING, "反映済み", ["第２期総合戦略 第３章 2(1) p.12"]),
                    LedgerRow(2, "都市部の若者が週末に農村で働ける仕組みが必要だ。", 7),
                    LedgerRow(3, "KPI の設定方法を見直すべきだ。", 9, "今後の検討の参考とします。",
                              "今後の検討課題", []),
                ],
            ),
            LedgerSection(
                "【第２期に向けて】 ○地域の担い手",
                [LedgerRow(4, "=SUM(A1) 地域の担い手を育てる仕組みを。", None)],
            ),
        ],
    )  # fmt: skip


def docx_bytes() -> bytes:
    target = BytesIO()
    exporters.ledger_docx(sample_ledger(), target)
    return target.getvalue()


def xlsx_bytes() -> bytes:
    target = BytesIO()
    exporters.ledger_xlsx(sample_ledger(), target)
    return target.getvalue()


def test_the_docx_is_an_a4_landscape_table_with_a_repeated_header_row():
    document = Document(BytesIO(docx_bytes()))
    section = document.sections[0]
    assert section.orientation == WD_ORIENT.LANDSCAPE
    assert round(section.page_width.mm) == 297 and round(section.page_height.mm) == 210
    table = document.tables[0]
    assert [cell.text for cell in table.rows[0].cells] == exporters.headers()
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None


def test_the_docx_has_the_title_block_and_page_numbers():
    document = Document(BytesIO(docx_bytes()))
    assert document.paragraphs[0].text == "ご意見と対応"
    assert "まち・ひと・しごと創生会議" in document.paragraphs[1].text
    footer = document.sections[0].footer.paragraphs[0]._p.xml
    assert "PAGE" in footer


def test_grouped_remarks_share_one_reasoning_cell_in_the_docx():
    table = Document(BytesIO(docx_bytes())).tables[0]
    # Row 0 header, 1 the section heading, 2 and 3 the grouped remarks.
    first, second = table.rows[2].cells, table.rows[3].cells
    assert first[2]._tc is second[2]._tc  # one merged cell
    assert first[2].text == REASONING and first[3].text == "反映済み"
    assert table.rows[4].cells[2].text == "今後の検討の参考とします。"


def test_the_xlsx_prints_landscape_fit_to_width_with_the_header_repeated():
    sheet = load_workbook(BytesIO(xlsx_bytes())).active
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows == "$3:$3"
    assert [sheet.cell(row=3, column=c).value for c in range(1, 6)] == exporters.headers()


def test_the_xlsx_wraps_text_in_rows_high_enough_and_merges_grouped_cells():
    sheet = load_workbook(BytesIO(xlsx_bytes())).active
    remark = sheet.cell(row=5, column=2)
    assert remark.alignment.wrap_text
    assert sheet.row_dimensions[5].height > 30  # the long remark takes several lines
    assert "C5:C6" in {str(merged) for merged in sheet.merged_cells.ranges}
    assert sheet.cell(row=5, column=3).value == REASONING


def test_the_xlsx_keeps_a_formula_looking_remark_as_text():
    sheet = load_workbook(BytesIO(xlsx_bytes())).active
    cell = next(c for row in sheet.iter_rows() for c in row if "SUM" in str(c.value or ""))
    assert cell.data_type == "s" and cell.quotePrefix and cell.value.startswith("=SUM")


def long_ledger() -> Ledger:
    rows = [LedgerRow(n, f"{n}番目のご意見。" + "地域の担い手を育てる仕組みが必要だ。" * 4, None)
            for n in range(1, 61)]  # fmt: skip
    return Ledger("ご意見と対応", "", [LedgerSection("【第１期の評価】", rows)])


def write(ledger: Ledger, name: str, suffix: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.{suffix}"
    with path.open("wb") as target:
        (exporters.ledger_docx if suffix == "docx" else exporters.ledger_xlsx)(ledger, target)
    return path


@needs_libreoffice
@pytest.mark.parametrize("suffix", ["docx", "xlsx"])
def test_libreoffice_renders_the_export_on_a4_landscape_to_png(suffix):
    pdf = to_pdf(write(sample_ledger(), f"ledger-{suffix}", suffix))
    assert "841.89 x 595.3" in pdf_info(pdf)  # A4, landscape
    assert REASONING[:10] in page_text(pdf, 1).replace("\n", "")
    to_png(pdf)


@needs_libreoffice
@pytest.mark.parametrize("suffix", ["docx", "xlsx"])
def test_the_header_row_is_repeated_on_every_page(suffix):
    pdf = to_pdf(write(long_ledger(), f"ledger-long-{suffix}", suffix))
    pages = page_count(pdf)
    assert pages >= 2
    for page in range(2, pages + 1):
        assert "ご意見の概要" in page_text(pdf, page), page
