"""Exports: the filtered list as CSV / XLSX, the 「主なご意見」 document as DOCX / text."""

import codecs
import csv
import io
import re
from datetime import date
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from opinions import exporters, roles
from opinions.importers import (
    EXPORT_HEADER_RULE,
    ParsedDocument,
    ParsedNode,
    ParsedOpinion,
    SummaryParseError,
    parse_summary,
    text_from_docx,
)
from opinions.imports import import_summary_document
from opinions.models import Opinion, SourceDocument, Theme
from opinions.selectors.exports import summary_document
from tests.factories import (
    CommitteeFactory,
    MeetingFactory,
    OpinionFactory,
    SubthemeFactory,
    UserFactory,
)
from tests.rendering import (
    artifact,
    embedded_fonts,
    fonts_of,
    needs_libreoffice,
    page_count,
    page_words,
    pdf_info,
    to_pdf,
    to_png,
)
from tests.test_browsing import more_venues, populate

CSV = reverse("opinions:opinion-export-csv")
XLSX = reverse("opinions:opinion-export-xlsx")
DOCX = reverse("opinions:summary-docx")
TEXT = reverse("opinions:summary-text")
LIST = reverse("opinions:opinion-list")


def member_of(group_name):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def staff(client, db):
    user = member_of(roles.SECRETARIAT)
    client.force_login(user)
    return user


def content(response) -> bytes:
    return b"".join(response.streaming_content)


def downloaded(response) -> bytes:
    assert response.status_code == 200
    return content(response) if response.streaming else response.content


def csv_table(response, encoding="utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(content(response).decode(encoding))))


# --- Pure functions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+81", "'+81"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("地方創生 = 大切", "地方創生 = 大切"),  # only a leading trigger counts
        ("", ""),
    ],
)
def test_neutralize_prefixes_formula_triggers_only_at_the_start(value, expected):
    assert exporters.neutralize(value) == expected


def test_cp932_replaces_what_shift_jis_lacks_and_never_fails():
    text = "髙橋①〜—•é𠮷😀"
    # 〜 is cp932's 0x8160, which decodes as ～ (U+FF5E): the same character on Windows.
    assert exporters.to_cp932(text).decode("cp932") == "髙橋①～―・e〓〓"


def test_csv_chunks_stream_every_few_rows_with_a_bom_first():
    table = [["ID", "本文"], *([n, f"意見{n}"] for n in range(5))]
    chunks = list(exporters.csv_chunks(table, rows_per_chunk=2))
    assert chunks[0] == codecs.BOM_UTF8
    assert len(chunks) == 1 + 3  # BOM, rows 1–2, 3–4, 5–6
    assert b"".join(chunks).decode("utf-8-sig").splitlines()[1] == "0,意見0"


def test_csv_chunks_refuse_an_unknown_encoding():
    with pytest.raises(ValueError, match="latin-1"):
        list(exporters.csv_chunks([["a"]], encoding="latin-1"))


def test_summary_title_uses_full_width_meeting_numbers():
    assert exporters.summary_title([2, 1, 2]) == "第１回、第２回における主なご意見"
    assert exporters.summary_title([12]) == "第１２回における主なご意見"
    assert exporters.summary_title([]) == "主なご意見"


def test_a_file_name_says_what_it_holds_and_has_an_ascii_twin():
    name = exporters.export_filename(
        "summary", ["人材育成", "女性"], suffix="docx", day=date(2026, 12, 2)
    )
    assert name == exporters.FileName(
        "主なご意見_人材育成_女性_2026-12-02.docx", "summary_2026-12-02.docx"
    )
    shift_jis = exporters.export_filename(
        "opinions", ["KPI"], suffix="csv", variant="Shift_JIS", day=date(2026, 12, 2)
    )
    assert shift_jis.name == "意見一覧_KPI_Shift_JIS_2026-12-02.csv"
    assert shift_jis.ascii == "opinions_KPI_Shift_JIS_2026-12-02.csv"  # the ASCII parts kept


def test_a_file_name_is_safe_on_every_system_and_stays_short():
    name = exporters.export_filename(
        "opinions",
        [
            "第１回",  # full-width digits as ASCII
            "第１回",  # said twice: once in the name
            'a/b:c*d?"e"<f>|g_h  i　j',  # what Windows refuses, blanks, the parts' separator
            "地域の担い手を育てる仕組みが必要だという意見が多かった",  # a long search
            "関係人口",
            "地方創生",
        ],
        suffix="xlsx",
        day=date(2026, 12, 2),
    ).name
    assert name == (
        "意見一覧_第1回_a-b-c-d-e-f-g-h-i-j_地域の担い手を育てる仕組みが必要だという意見が…"
        "_ほか_2026-12-02.xlsx"  # the conditions that did not fit, summed up
    )
    assert len(name.encode()) < 255  # what most file systems allow


def test_the_title_block_says_the_conditions_as_the_chips_do():
    block = exporters.TitleBlock(
        title="主なご意見",
        committee="有識者会議",
        conditions=(("テーマ", "人材育成"), ("関係者", "女性\n\x07")),
        count=4,
        url="http://testserver/opinions/?theme=jinzai-ikusei",
    )
    assert block.lines() == [
        "会議体：有識者会議",
        "条件：テーマ: 人材育成 ／ 関係者: 女性",  # one line, nothing XML cannot hold
        "件数：4 件",
        f"出力日：{timezone.localdate().year}年{timezone.localdate().month}月"
        f"{timezone.localdate().day}日",
        "URL：http://testserver/opinions/?theme=jinzai-ikusei",
    ]
    assert exporters.TitleBlock(title="意見一覧").conditions_text() == "なし（すべての意見）"


def test_the_importer_skips_the_title_block_after_the_title_and_no_other_rule():
    rule = EXPORT_HEADER_RULE
    text = "\n".join(["主なご意見", "資料２", rule, "条件：なし", rule, "【章】", "・意見"])
    assert parse_summary(text) == ParsedDocument(
        title="主なご意見",
        label="資料２",
        sections=[ParsedNode(level=1, name="章", opinions=[ParsedOpinion("意見")])],
    )
    with pytest.raises(SummaryParseError, match="見出しの直後"):  # a rule later on is text
        parse_summary("\n".join(["主なご意見", "【章】", rule, "・意見", rule]))


# --- Permissions -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [CSV, XLSX, DOCX, TEXT])
def test_anonymous_users_are_sent_to_the_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


@pytest.mark.parametrize("url", [CSV, XLSX, DOCX, TEXT])
def test_members_without_the_export_permission_get_403(client, db, url):
    client.force_login(member_of(roles.MEMBER))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("group", [roles.SECRETARIAT, roles.ADMINISTRATOR])
def test_secretariat_and_administrators_may_export(client, db, group):
    client.force_login(member_of(group))
    assert client.get(CSV).status_code == 200


def test_export_links_are_shown_only_with_the_permission_and_keep_the_filters(client, db):
    OpinionFactory()
    assert "書き出し" not in client.get(LIST).content.decode()
    client.force_login(member_of(roles.SECRETARIAT))
    html = client.get(LIST, {"q": "女性", "stakeholder": ["a", "b"], "page": "2"}).content.decode()
    assert f'href="{CSV}?q=%E5%A5%B3%E6%80%A7&amp;stakeholder=a&amp;stakeholder=b"' in html
    assert (
        f'href="{CSV}?q=%E5%A5%B3%E6%80%A7&amp;stakeholder=a&amp;stakeholder=b&amp;encoding=cp932"'
        in html
    )
    assert f'href="{XLSX}?q=' in html and f'href="{DOCX}?q=' in html and f'href="{TEXT}?q=' in html


# --- CSV and XLSX of the list --------------------------------------------------------------


def test_csv_has_a_bom_every_matching_row_and_the_lists_order(client, staff, seed):
    response = client.get(CSV, {"stakeholder": "women"})
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    raw = content(response)
    assert raw.startswith(codecs.BOM_UTF8)
    header, *rows = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    assert header == [
        "ID", "章", "テーマ", "小テーマ", "本文", "自治体規模", "関係者", "会議", "資料", "状態", "URL",
    ]  # fmt: skip
    listed = client.get(LIST, {"stakeholder": "women"}).context["paginator"].object_list
    assert [int(row[0]) for row in rows] == [opinion.pk for opinion in listed]
    first = Opinion.objects.get(pk=rows[0][0])
    assert rows[0][4] == first.body
    assert "女性" in rows[0][6].split("、")
    assert rows[0][7] == "第1回、第2回"  # the meetings its document covers
    assert rows[0][9] == "公開"
    assert rows[0][10] == f"http://testserver/opinions/{first.pk}/"


def test_csv_holds_all_rows_not_one_page(client, staff, seed):
    rows = list(csv.reader(io.StringIO(content(client.get(CSV)).decode("utf-8-sig"))))
    assert len(rows) == 1 + 68


def test_csv_in_shift_jis(client, staff):
    OpinionFactory(body="髙橋市長の意見〜𠮷野家")
    response = client.get(CSV, {"encoding": "cp932"})
    assert response["Content-Type"] == "text/csv; charset=Shift_JIS"
    raw = content(response)
    assert not raw.startswith(codecs.BOM_UTF8)
    # 〜 (U+301C) is Shift_JIS 0x8160, which Windows reads back as ～ (U+FF5E).
    assert "髙橋市長の意見～〓野家" in raw.decode("cp932")


def test_csv_with_an_unknown_encoding_is_a_400(client, staff):
    assert client.get(CSV, {"encoding": "ebcdic"}).status_code == 400


def test_without_view_unpublished_there_is_no_status_column_and_only_visible_rows(client, db):
    user = member_of(roles.MEMBER)
    user.user_permissions.add(Permission.objects.get(codename="export_opinion"))
    client.force_login(user)
    OpinionFactory()
    OpinionFactory(status=Opinion.Status.PENDING, body="確認待ち")
    header, *rows = csv_table(client.get(CSV))
    assert "状態" not in header
    assert len(rows) == 1  # only what this user's list shows


def test_staff_exports_include_pending_and_hidden_like_their_list(client, staff):
    OpinionFactory(status=Opinion.Status.PENDING)
    OpinionFactory(status=Opinion.Status.HIDDEN)
    header, *rows = csv_table(client.get(CSV))
    assert sorted(row[header.index("状態")] for row in rows) == ["確認待ち", "非公開"]


def test_formula_cells_are_neutralized_in_csv(client, staff):
    OpinionFactory(body='=HYPERLINK("http://evil.example","click")')
    OpinionFactory(body="@SUM(1+1)")
    bodies = {row[4] for row in csv_table(client.get(CSV))[1:]}
    assert bodies == {'\'=HYPERLINK("http://evil.example","click")', "'@SUM(1+1)"}


def test_xlsx_has_the_same_rows_as_text_never_formulas(client, staff, seed):
    OpinionFactory(body="=1+2", theme=Theme.objects.get(slug="sdgs"))
    response = client.get(XLSX, {"theme": "sdgs"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("ID", "章", "テーマ", "小テーマ", "本文")
    assert len(rows) == 1 + 4  # the 3 SDGs remarks and the new one
    formula = next(row for row in sheet.iter_rows(min_row=2) if row[4].value.startswith("="))
    assert formula[4].value == "=1+2" and formula[4].data_type == "s"
    assert formula[4].quotePrefix
    widths = [sheet.column_dimensions[column].width for column in "ABCDEFGHIJ"]
    assert max(widths) == widths[4]  # the body column is the widest
    # On one A4 landscape page across at about 78 %, not shrunk to 60 % (text at 6 pt).
    assert sum(widths) <= 180
    assert sheet.freeze_panes == "A2"  # the header stays in view
    sdgs = Theme.objects.get(slug="sdgs").name
    assert all(sdgs in row[1:4] for row in rows[1:])


def test_xlsx_prints_on_a4_landscape_one_page_wide_with_its_header_on_every_page(client, staff):
    OpinionFactory()
    sheet = load_workbook(io.BytesIO(b"".join(client.get(XLSX).streaming_content))).active
    assert (int(sheet.page_setup.paperSize), sheet.page_setup.orientation) == (9, "landscape")
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1
    assert sheet.print_title_rows == "$1:$1"


def test_utf8_and_shift_jis_csv_files_have_different_names(client, staff):
    OpinionFactory()
    utf8 = client.get(CSV)["Content-Disposition"]
    sjis = client.get(CSV, {"encoding": "cp932"})["Content-Disposition"]
    assert utf8 != sjis and "Shift_JIS" in sjis and "Shift_JIS" not in utf8


def test_xlsx_drops_control_characters_the_file_format_cannot_hold(client, staff):
    OpinionFactory(body="ベル\x07の入った意見")
    workbook = load_workbook(io.BytesIO(b"".join(client.get(XLSX).streaming_content)))
    assert workbook.active.cell(row=2, column=5).value == "ベルの入った意見"


def test_exports_ignore_invalid_filters_like_the_list(client, staff, seed):
    params = {"stakeholder": ["women", "nope"], "meeting": "abc"}
    rows = csv_table(client.get(CSV, params))[1:]
    assert len(rows) == client.get(LIST, params).context["paginator"].count == 4


# What the list form sends when nothing is chosen in a field: every field, empty.
EMPTY_FORM = {"q": "", "theme": "", "document": "", "meeting": "", "size": "", "sort": ""}


@pytest.mark.parametrize("url", [CSV, XLSX, DOCX, TEXT])
def test_empty_parameters_mean_not_given_for_every_export(client, staff, seed, url):
    everything = downloaded(client.get(url, {"stakeholder": "women"}))
    with_empty = downloaded(client.get(url, {**EMPTY_FORM, "stakeholder": "women"}))
    if url in (CSV, TEXT):
        assert with_empty == everything
    assert with_empty  # XLSX/DOCX differ in their timestamps only


def test_an_empty_encoding_is_utf8(client, staff):
    OpinionFactory()
    response = client.get(CSV, {"encoding": ""})
    assert response["Content-Type"] == "text/csv; charset=utf-8"


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        (CSV, {"encoding": "ebcdic", "q": "女性"}, "文字コードの指定が正しくありません。"),
        (TEXT, {"meeting": "abc", "q": "女性"}, "会議の指定「abc」が正しくありません。"),
        (DOCX, {"meeting": "999999", "q": "女性"}, "会議「999999」は見つかりません。"),
    ],
)
def test_an_export_error_is_a_japanese_page_with_a_way_back(client, staff, url, params, message):
    response = client.get(url, params)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/html; charset=utf-8"
    html = response.content.decode()
    assert "<h1>書き出せませんでした</h1>" in html and message in html
    assert f'href="{LIST}?q=%E5%A5%B3%E6%80%A7"' in html  # back to the same list


def test_the_list_takes_an_empty_tag_field_without_a_notice(client, db):
    OpinionFactory()
    # The list redirects to the address without the empty fields, and shows the remark.
    response = client.get(LIST, {**EMPTY_FORM, "stakeholder": ""}, follow=True)
    assert response.redirect_chain and response.context["paginator"].count == 1
    assert list(response.context["messages"]) == []


@pytest.mark.parametrize("url", [CSV, XLSX, DOCX, TEXT])
def test_export_query_count_is_the_same_at_10_and_200_remarks(
    client, staff, url, django_assert_max_num_queries
):
    _created, tags = populate(10)
    with django_assert_max_num_queries(15) as at_ten:
        downloaded(client.get(url))
    more_venues(tags)
    populate(190, start=10, tags=tags)
    with django_assert_max_num_queries(len(at_ten.captured_queries)):
        assert downloaded(client.get(url))  # the queries run while streaming


# --- What an export says about itself ------------------------------------------------------

COMMITTEE = "第2期「まち・ひと・しごと創生総合戦略」策定に関する有識者会議"


def filenames(response) -> tuple[str, str]:
    """(the UTF-8 name, the ASCII fallback) of a download."""
    header = response["Content-Disposition"]
    assert header.startswith("attachment; ")
    fallback = header.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii()
    encoded = header.split("filename*=UTF-8''", 1)[1]
    return encoded, fallback


@pytest.mark.parametrize(
    ("url", "extra", "name", "fallback"),
    [
        (DOCX, {}, "主なご意見_人材育成_女性_{day}.docx", "summary_{day}.docx"),
        (TEXT, {}, "主なご意見_人材育成_女性_{day}.txt", "summary_{day}.txt"),
        (CSV, {}, "意見一覧_人材育成_女性_{day}.csv", "opinions_{day}.csv"),
        (
            CSV,
            {"encoding": "cp932"},
            "意見一覧_人材育成_女性_Shift_JIS_{day}.csv",
            "opinions_Shift_JIS_{day}.csv",
        ),
        (XLSX, {}, "意見一覧_人材育成_女性_{day}.xlsx", "opinions_{day}.xlsx"),
    ],
)
def test_every_export_is_named_after_its_conditions(
    client, staff, seed, url, extra, name, fallback
):
    day = timezone.localdate().isoformat()
    response = client.get(url, {"theme": "jinzai-ikusei", "stakeholder": "women", **extra})
    assert filenames(response) == (quote(name.format(day=day)), fallback.format(day=day))


def test_a_document_is_named_by_its_slug_and_search_words_as_typed(client, staff, seed):
    document = SourceDocument.objects.get()
    day = timezone.localdate().isoformat()
    name, _fallback = filenames(client.get(TEXT, {"document": document.slug, "q": "女性 起業"}))
    assert name == quote(f"主なご意見_女性-起業_参考資料1-第1回第2回における主なご意見_{day}.txt")


def test_the_text_export_has_the_title_block_between_rules_and_still_imports(client, staff, seed):
    text = client.get(TEXT, {"stakeholder": "women", "size": "_none"}).content.decode()
    lines = text.splitlines()
    end = lines.index(EXPORT_HEADER_RULE, 2)
    assert lines[: end + 1] == [
        "主なご意見",
        EXPORT_HEADER_RULE,
        f"会議体：{COMMITTEE}",
        "条件：自治体規模: 規模を問わない ／ 関係者: 女性",
        "件数：3 件",
        f"出力日：{date_format(timezone.localdate(), 'DATE_FORMAT')}",
        "URL：http://testserver/opinions/?stakeholder=women&size=_none",
        EXPORT_HEADER_RULE,
    ]
    assert parse_summary(text).counts()["opinions"] == 3  # the block is not read as content


def test_the_title_block_counts_what_the_file_holds_and_names_several_meetings(client, staff):
    first = MeetingFactory(number=3)
    second = MeetingFactory(committee=first.committee, number=4)
    OpinionFactory(meeting=first, body="第3回の意見")
    OpinionFactory(meeting=second, body="第4回の意見")
    OpinionFactory(meeting=second, body="非公開の意見", status=Opinion.Status.HIDDEN)
    response = client.get(TEXT, {"meeting": [first.pk, second.pk]})
    lines = response.content.decode().splitlines()
    assert lines[2:5] == [
        f"会議体：{first.committee.name}",
        "条件：会議: 第3回、第4回",
        "件数：2 件",  # the hidden remark is not in the document
    ]
    name, _fallback = filenames(response)
    assert name.startswith(quote("主なご意見_第3回_第4回_"))


def test_without_conditions_the_title_block_says_so_and_names_no_committee_of_several(
    client, staff
):
    OpinionFactory()
    CommitteeFactory.create_batch(2)
    lines = client.get(TEXT).content.decode().splitlines()
    assert lines[2] == "条件：なし（すべての意見）"
    assert not any(line.startswith("会議体：") for line in lines)


def test_the_word_export_has_the_title_block_in_its_first_pages_header(client, staff, seed):
    document = SourceDocument.objects.get()
    response = client.get(DOCX, {"document": document.slug})
    word = Document(io.BytesIO(b"".join(response.streaming_content)))
    section = word.sections[0]
    assert section.different_first_page_header_footer
    first = [p.text for p in section.first_page_header.paragraphs if p.text]
    assert first == [
        f"会議体：{COMMITTEE}",
        "条件：資料: 参考資料１「第１回、第２回における主なご意見」",
        "件数：68 件",
        f"出力日：{date_format(timezone.localdate(), 'DATE_FORMAT')}",
        f"URL：http://testserver/opinions/?document={document.slug}",  # readable
    ]
    assert section.header.paragraphs[0].text == (
        f"{COMMITTEE}　参考資料１　第１回、第２回における主なご意見"
    )  # the pages after the first
    for footer in (section.footer, section.first_page_footer):
        assert "PAGE" in footer._element.xml and "NUMPAGES" in footer._element.xml  # n / N
    # The body is the document as it was: label, title, headings.
    assert [p.text for p in word.paragraphs[:2]] == [
        "参考資料１",
        "第１回、第２回における主なご意見",
    ]
    assert word.core_properties.subject == "資料: 参考資料１「第１回、第２回における主なご意見」"


def xlsx_workbook(response):
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def test_the_xlsx_keeps_the_table_first_and_adds_its_title_block(client, staff, seed):
    workbook = xlsx_workbook(client.get(XLSX, {"stakeholder": "women", "size": "_none"}))
    assert workbook.sheetnames == ["意見", "出力条件"]
    table = workbook.active
    assert table.title == "意見" and table.cell(row=1, column=1).value == "ID"
    about = [tuple(row) for row in workbook["出力条件"].iter_rows(values_only=True)]
    assert about == [
        ("意見一覧", None),
        ("会議体", COMMITTEE),
        ("条件", "自治体規模: 規模を問わない ／ 関係者: 女性"),
        ("件数", f"{table.max_row - 1} 件"),  # the rows written
        ("出力日", date_format(timezone.localdate(), "DATE_FORMAT")),
        ("URL", "http://testserver/opinions/?stakeholder=women&size=_none"),
    ]
    # Printed, every page says what it is, which conditions and when, and its number.
    assert table.oddHeader.left.text == f"{COMMITTEE} 意見一覧"
    assert table.oddHeader.right.text.startswith("3 件　出力日：")
    assert table.oddFooter.left.text == "条件：自治体規模: 規模を問わない ／ 関係者: 女性"
    assert table.oddFooter.center.text == "&P / &N"


def test_xlsx_rows_are_as_high_as_their_wrapped_text(client, staff):
    OpinionFactory(body="地域の担い手を育てる仕組みが必要だ。" * 10)  # 180 characters
    OpinionFactory(body="短い意見")
    sheet = xlsx_workbook(client.get(XLSX)).active
    heights = {
        sheet.cell(row=n, column=5).value[:4]: sheet.row_dimensions[n].height for n in (2, 3)
    }
    assert heights["地域の担"] >= 4 * exporters.XLSX_LINE_HEIGHT  # 360 half-widths in 56
    assert heights["短い意見"] is None  # one line: the default height


def test_crosstab_exports_are_named_after_their_axes_and_restriction(client, staff, seed):
    document = SourceDocument.objects.get()
    day = timezone.localdate().isoformat()
    response = client.get(reverse("opinions:crosstab-export-csv"), {"document": document.slug})
    assert filenames(response) == (
        quote(f"クロス集計_テーマ×関係者_参考資料1-第1回第2回における主なご意見_{day}.csv"),
        f"crosstab_{day}.csv",
    )
    workbook = xlsx_workbook(client.get(reverse("opinions:crosstab-export-xlsx")))
    about = dict(workbook["出力条件"].iter_rows(min_row=2, values_only=True))
    assert about["条件"] == "なし（すべての意見）" and about["会議体"] == COMMITTEE


# --- The 「主なご意見」 document ----------------------------------------------------------------


def test_text_of_a_whole_document_is_the_committees_form(client, staff, seed):
    document = SourceDocument.objects.get()
    response = client.get(TEXT, {"document": document.slug})
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    lines = response.content.decode().splitlines()
    assert lines[:2] == ["第１回、第２回における主なご意見", "参考資料１"]
    body = lines[lines.index(EXPORT_HEADER_RULE, 3) + 1 :]  # after the title block
    assert body[:2] == ["", "【第１期の地方創生の評価と今後の方向性（総論）】"]
    assert body[5] == "＜成果の要因＞"
    assert body[6].startswith("・第１期において、大きな成果が上がっているのは")
    assert sum(line.startswith("・") for line in lines) == 68


def test_round_trip_the_text_export_imports_into_an_empty_database_identically(
    client, staff, seed, seed_text
):
    exported = client.get(TEXT, {"document": SourceDocument.objects.get().slug}).content.decode()
    original = parse_summary(seed_text)
    assert parse_summary(exported) == original  # the same tree and texts, empty themes too

    def tree():
        return [
            (t.level, t.name, t.parent.name if t.parent else None)
            for t in Theme.objects.in_tree_order().select_related("parent")
        ], [
            (o.theme.name, o.position, o.body)
            for o in Opinion.objects.select_related("theme").order_by("position")
        ]

    before = tree()
    Opinion.objects.all().delete()
    for level in (3, 2, 1):
        Theme.objects.filter(level=level).delete()
    SourceDocument.objects.all().delete()
    assert not Theme.objects.exists()
    import_summary_document(parse_summary(exported), committee=CommitteeFactory())
    assert tree() == before
    counts = parse_summary(exported).counts()
    assert counts == {"sections": 2, "themes": 14, "subthemes": 17, "opinions": 68}


def test_the_seed_imported_from_its_source_matches_the_export(db, seed_text):
    """The importer and the exporter agree on the seed text itself, line structure aside."""
    parsed = parse_summary(seed_text)
    import_summary_document(parsed, committee=CommitteeFactory())
    document = SourceDocument.objects.get()
    exported = summary_document(
        document.opinions.all(), title=document.title, label=document.label, keep_unused_themes=True
    )
    assert exported == parsed


def test_filtered_summary_leaves_out_empty_nodes_and_hidden_remarks(client, staff, seed):
    Opinion.objects.filter(position=1).update(status=Opinion.Status.HIDDEN)
    text = client.get(TEXT, {"stakeholder": "women"}).content.decode()
    parsed = parse_summary(text)
    assert parsed.title == "主なご意見"
    assert parsed.counts()["opinions"] == 4
    assert all(node.opinion_count for node in parsed.nodes())
    whole = parse_summary(
        client.get(TEXT, {"document": SourceDocument.objects.get().slug}).content.decode()
    )
    assert whole.counts()["opinions"] == 67  # the hidden one is not in the document


def test_summary_of_several_meetings_is_titled_after_them(client, staff):
    first = MeetingFactory(number=3)
    second = MeetingFactory(committee=first.committee, number=4)
    subtheme = SubthemeFactory()
    OpinionFactory(meeting=first, theme=subtheme, body="第3回の意見")
    OpinionFactory(meeting=second, theme=subtheme, body="第4回の意見")
    OpinionFactory(theme=subtheme, body="会議のない意見")
    text = client.get(TEXT, {"meeting": [first.pk, second.pk]}).content.decode()
    parsed = parse_summary(text)
    assert parsed.title == "第３回、第４回における主なご意見"
    assert [o.body for _, o in parsed.opinions()] == ["第3回の意見", "第4回の意見"]
    assert client.get(TEXT, {"meeting": "abc"}).status_code == 400


def test_docx_has_the_document_form_japanese_fonts_and_a4(client, staff, seed):
    response = client.get(DOCX, {"document": SourceDocument.objects.get().slug})
    assert response["Content-Type"].endswith("wordprocessingml.document")
    word = Document(io.BytesIO(b"".join(response.streaming_content)))
    paragraphs = [(p.style.name, p.text) for p in word.paragraphs if p.text]
    assert paragraphs[0] == ("Normal", "参考資料１")
    assert paragraphs[1] == ("Title", "第１回、第２回における主なご意見")
    assert paragraphs[2] == ("Heading 1", "【第１期の地方創生の評価と今後の方向性（総論）】")
    assert paragraphs[3] == ("Heading 2", "○第１期の地方創生の成果")
    assert paragraphs[4] == ("Heading 3", "＜成果の要因＞")
    assert paragraphs[5][1].startswith("・第１期において")
    assert sum(text.startswith("・") for _, text in paragraphs) == 68
    section = word.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert word.styles["Normal"].element.rPr.rFonts.get(qn("w:eastAsia")) == "ＭＳ 明朝"
    assert word.styles["Heading 1"].element.rPr.rFonts.get(qn("w:eastAsia")) == "ＭＳ ゴシック"
    assert word.styles["Heading 1"].font.color.rgb == (0, 0, 0)
    # Japanese text is declared Japanese, so a reader picks its fonts for Japanese.
    defaults = word.styles.element.find(qn("w:docDefaults"))
    assert (
        defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}/{qn('w:lang')}").get(qn("w:eastAsia"))
        == "ja-JP"
    )


def test_summary_docx_reads_back_through_the_importer():
    parsed = ParsedDocument(
        title="第３回における主なご意見",
        label="資料２",
        sections=[
            ParsedNode(
                level=1,
                name="章",
                children=[
                    ParsedNode(level=2, name="テーマ", opinions=[ParsedOpinion("意見その一")]),
                    ParsedNode(level=2, name="空のテーマ"),
                ],
            )
        ],
    )
    handle = io.BytesIO()
    exporters.summary_docx(parsed, handle)
    assert parse_summary(text_from_docx(handle.getvalue())) == parsed


# --- Rendered by LibreOffice (tests/rendering.py) -------------------------------------------


@needs_libreoffice
def test_libreoffice_sets_the_word_body_in_mincho_and_the_headings_in_gothic(client, staff, seed):
    """The body in Noto Serif CJK JP (the Mincho fontconfig gives for ＭＳ 明朝), never in a
    Gothic or Sans font; the headings in Noto Sans CJK JP. The first page as PNG."""
    response = client.get(DOCX, {"document": SourceDocument.objects.get().slug})
    pdf = to_pdf(artifact("summary-docx.docx", b"".join(response.streaming_content)))
    assert "NotoSerifCJKjp" in embedded_fonts(pdf)  # pdffonts
    remark = "大きな成果が上がっているのは"  # the first remark, on the first page
    body_fonts = fonts_of(pdf, remark)
    assert body_fonts and all(font.startswith("NotoSerifCJKjp") for font in body_fonts), body_fonts
    heading_fonts = fonts_of(pdf, "第１期の地方創生の成果")
    assert all(font.startswith("NotoSansCJKjp") for font in heading_fonts), heading_fonts
    first = page_words(pdf, 1)
    assert f"会議体：{COMMITTEE}" in first and "件数：68件" in first  # the title block
    pages = page_count(pdf)
    assert f"1/{pages}" in first and f"2/{pages}" in page_words(pdf, 2)  # page numbers
    assert "参考資料１" in page_words(pdf, 2)  # the later pages' header
    to_png(pdf)


@needs_libreoffice
def test_libreoffice_prints_the_list_xlsx_with_its_title_block_and_whole_bodies(
    client, staff, seed
):
    response = client.get(XLSX, {"stakeholder": "women"})
    pdf = to_pdf(artifact("list-xlsx.xlsx", b"".join(response.streaming_content)))
    assert "841.89 x 595.3" in pdf_info(pdf)  # A4, landscape
    first = page_words(pdf, 1)
    assert f"{COMMITTEE}意見一覧" in first and "出力日：" in first  # the page header
    assert "条件：関係者:女性" in first  # the page footer
    assert f"1/{page_count(pdf)}" in first
    # A body shows whole, its rows as high as its lines: its last words are printed.
    bodies = [row[4] for row in csv_table(client.get(CSV, {"stakeholder": "women"}))[1:]]
    longest = max(bodies, key=len)
    assert len(longest) > 80 and re.sub(r"\s", "", longest[-15:]) in "".join(
        page_words(pdf, page) for page in range(1, page_count(pdf) + 1)
    )
    to_png(pdf)
