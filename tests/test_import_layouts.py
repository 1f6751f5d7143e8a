"""The importer reads documents laid out as other committees lay them out.

The documents are generated here from the seed's tree — with other heading and bullet
marks, two to four levels, speakers, wrapped lines and page furniture, chosen at random
from a seeded generator — so the parser is checked against layouts, not against one file.
"""

import io
import random
import zipfile
from pathlib import Path

import pytest
from docx import Document

from opinions.importers import (
    MAX_DOCX_PARAGRAPHS,
    DocumentReadError,
    LayoutProfile,
    ParsedDocument,
    SummaryParseError,
    decode_text,
    infer_profile,
    join_wrapped,
    lines_from_docx,
    lines_from_pdf,
    lines_from_text,
    lines_from_upload,
    parse_summary,
    split_speaker,
)

SEED = Path(__file__).resolve().parent.parent / "fixtures" / "source" / "000_7e59f9f179f907ca.txt"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "import"
SPEAKERS = ["山田委員", "佐藤委員長", "鈴木座長", "高橋構成員"]
NUMBERED = {
    "１．": lambda n: f"{_fw(n)}．",
    "1.": lambda n: f"{n}. ",
    "（１）": lambda n: f"（{_fw(n)}）",
    "(1)": lambda n: f"({n}) ",
    "①": lambda n: chr(0x2460 + n - 1),
    "Ⅰ．": lambda n: f"{chr(0x2160 + n - 1)}．",
    "ア．": lambda n: f"{'アイウエオカキクケコサシスセソタチツテト'[n - 1]}．",
}
BRACKETED = ["【{}】", "＜{}＞", "〈{}〉", "《{}》", "≪{}≫", "<{}>"]
PREFIXED = ["○{}", "〇{}", "■{}", "□{}", "◆{}", "◇{}", "◎{}"]
BULLETS = ["・", "･", "•", "－", "●"]


def _fw(number: int) -> str:
    return str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


@pytest.fixture(scope="module")
def seed() -> ParsedDocument:
    return parse_summary(SEED.read_text(encoding="utf-8"))


def flatten(document: ParsedDocument, levels: int) -> list[tuple[int, str, list[str]]]:
    """The tree as (level, name, remarks) with at most ``levels`` heading levels: remarks
    of deeper headings go to their ancestor at the last level kept."""
    rows = []
    for node in document.nodes():
        bodies = [opinion.body for opinion in node.opinions]
        if node.level <= levels:
            rows.append([node.level, node.name, bodies])
        else:
            # In document order the last kept row is the nearest kept ancestor.
            rows[-1][2].extend(bodies)
    return [tuple(row) for row in rows]


def render(
    rows,
    *,
    title: str,
    marks: list,
    bullet: str,
    rng: random.Random,
    width: int | None = None,
    speakers: bool = False,
    furniture: bool = False,
) -> tuple[str, list[tuple[str, str]]]:
    """A document in a layout, and the (speaker, remark) pairs it holds, in order."""
    lines = ["参考　資料１", title]
    expected = []
    counters = [0, 0, 0]
    for level, name, bodies in rows:
        counters[level - 1] += 1
        counters[level:] = [0] * (3 - level)
        mark = marks[level - 1]
        if mark in NUMBERED:
            lines.append(NUMBERED[mark](counters[level - 1]) + name)
        else:
            lines.append(mark.format(name))
        for body in bodies:
            speaker = rng.choice(SPEAKERS) if speakers else ""
            expected.append((speaker, body))
            text = body
            if speaker:
                text = rng.choice(
                    [f"{speaker}：{body}", f"（{speaker}）{body}", f"{body}（{speaker}）"]
                )
            text = bullet + text
            if width:
                lines.extend(wrap(text, width))
            else:
                lines.append(text)
    if furniture:
        spaced_title = " ".join(title)
        paged = []
        for number, start in enumerate(range(0, len(lines), 30), start=1):
            if number > 1:
                paged.append(rng.choice(["参考資料１", "参 考 資 料 １", spaced_title]))
            paged.extend(lines[start : start + 30])
            paged.append(
                rng.choice(
                    [
                        str(number),
                        _fw(number),
                        f"{number} / 9",
                        f"- {number} -",
                        f"－{_fw(number)}－",
                    ]
                ).center(40)
            )
        lines = paged
    return "\n".join(lines) + "\n", expected


# Characters a Japanese line may not start with (kinsoku), and the blank a wrap swallows.
NOT_AT_LINE_START = "、。，．・：；？！）」』】＞〉》≫ー々ぁぃぅぇぉっゃゅょァィゥェォッャュョ"


def wrap(text: str, width: int) -> list[str]:
    """``text`` broken every ``width`` characters as a typesetter breaks Japanese: a line
    never starts with a closing mark, a middle dot or a small kana (it moves up)."""
    lines, start = [], 0
    while start < len(text):
        end = min(start + width, len(text))
        while end < len(text) and text[end] in NOT_AT_LINE_START:
            end += 1
        # A blank at the break would be lost with the line's edge: break before the word.
        while start + 1 < end < len(text) and " " in (text[end - 1], text[end]):
            end -= 1
        lines.append(text[start:end])
        start = end
    return lines


def remarks(document: ParsedDocument) -> list[tuple[str, str]]:
    return [(opinion.speaker, opinion.body) for _node, opinion in document.opinions()]


def layouts(count: int):
    """``count`` random layouts: (levels, marks, bullet, width, speakers, furniture)."""
    rng = random.Random(20261201)
    for _ in range(count):
        levels = rng.choice([1, 2, 3])
        marks = []
        pool = [*BRACKETED, *PREFIXED, *NUMBERED]
        while len(marks) < levels:
            mark = rng.choice(pool)
            same = {
                "○{}": "〇{}",
                "〇{}": "○{}",
                "＜{}＞": "〈{}〉",
                "〈{}〉": "<{}>",
                "<{}>": "＜{}＞",
                "《{}》": "≪{}≫",
                "≪{}≫": "《{}》",
                "1.": "１．",
                "１．": "1.",
                "(1)": "（１）",
                "（１）": "(1)",
            }
            if (
                mark in marks
                or same.get(mark) in marks
                or same.get(same.get(mark, ""), "") in marks
            ):
                continue
            marks.append(mark)
        bullet = rng.choice([b for b in BULLETS if b + "{}" not in marks])
        yield (
            levels,
            marks,
            bullet,
            rng.choice([None, 38, 45]),
            rng.random() < 0.5,
            rng.random() < 0.5,
            rng.randrange(1 << 30),
        )


@pytest.mark.parametrize(
    ("levels", "marks", "bullet", "width", "speakers", "furniture", "salt"), list(layouts(24))
)
def test_generated_layouts_give_back_their_remarks(
    seed, levels, marks, bullet, width, speakers, furniture, salt
):
    rng = random.Random(salt)
    rows = flatten(seed, levels)
    text, expected = render(
        rows,
        title=seed.title,
        marks=marks,
        bullet=bullet,
        rng=rng,
        width=width,
        speakers=speakers,
        furniture=furniture,
    )
    document = parse_summary(text)
    assert remarks(document) == expected
    assert [(node.level, node.name) for node in document.nodes()] == [
        (level, name) for level, name, _bodies in rows
    ]
    assert document.title == seed.title
    assert document.label == "参考資料１"
    assert len(document.profile.headings) == levels


def test_remarks_marked_with_circles_under_brackets_are_remarks_not_themes():
    text = "主な意見\n【総論】\n○一行で終わる意見である。\n○もう一つの意見である。\n【各論】\n○三つ目の意見。\n"
    document = parse_summary(text)
    assert document.profile == LayoutProfile(headings=("【】",), bullets=("○",))
    assert [o.body for _n, o in document.opinions()] == [
        "一行で終わる意見である。",
        "もう一つの意見である。",
        "三つ目の意見。",
    ]


def test_paragraphs_without_bullets_are_remarks():
    text = "主な意見\n■総論\n地方創生は重要である。\n人材の育成が\n必要ではないか。\n■各論\n観光を進めるべき。\n"
    document = parse_summary(text)
    assert document.profile.bullets == ()
    assert [o.body for _n, o in document.opinions()] == [
        "地方創生は重要である。",
        "人材の育成が必要ではないか。",
        "観光を進めるべき。",
    ]


def test_a_speaker_line_attributes_the_remarks_below_it():
    text = "主な意見\n【総論】\n（山田委員）\n・一つ目。\n・二つ目。\n【各論】\n・三つ目。\n"
    assert remarks(parse_summary(text)) == [
        ("山田委員", "一つ目。"),
        ("山田委員", "二つ目。"),
        ("", "三つ目。"),
    ]


@pytest.mark.parametrize(
    ("text", "speaker", "rest"),
    [
        ("山田委員：地方が大事。", "山田委員", "地方が大事。"),
        ("（佐藤委員長）地方が大事。", "佐藤委員長", "地方が大事。"),
        ("地方が大事。（鈴木委員）", "鈴木委員", "地方が大事。"),
        ("地方が大事（特に農村）。", "", "地方が大事（特に農村）。"),
        ("委員会の議論が大事。", "", "委員会の議論が大事。"),
    ],
)
def test_speaker_attributions(text, speaker, rest):
    assert split_speaker(text) == (speaker, rest)


def test_the_profile_can_be_given_instead_of_inferred():
    text = "主な意見\n①総論\n・意見一。\n①各論\n・意見二。\n"
    inferred = parse_summary(text)
    assert inferred.profile.headings == ("①",)
    given = LayoutProfile.from_text("【】", "・ ①")
    with pytest.raises(SummaryParseError, match="意見の前に見出し"):
        parse_summary(text, given)


@pytest.mark.parametrize(
    ("headings", "bullets", "message"),
    [
        ("", "・", "見出しの記号を一つ以上"),
        ("【】 ○ ＜＞ ■", "・", "3段まで"),
        ("【】 ★", "・", "「★」は"),
        ("【】", "【】", "両方"),
    ],
)
def test_a_bad_profile_is_explained(headings, bullets, message):
    with pytest.raises(ValueError, match=message):
        LayoutProfile.from_text(headings, bullets)


def test_profile_names_are_folded_as_typed():
    profile = LayoutProfile.from_text("【】, 〇, <>", "･")
    assert profile == LayoutProfile(headings=("【】", "○", "＜＞"), bullets=("・",))
    assert LayoutProfile.from_text("１． （１）", "段落").bullets == ()


# --- Page furniture -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number", ["2", "２", "2 / 15", "２／１５", "- 2 -", "－２－", "          2", "p. 2"]
)
def test_page_numbers_of_every_form_are_dropped(number):
    text = f"題名\n【章】\n・進めれば良い\n{number}\nかのノウハウ。\n"
    [(_node, opinion)] = list(parse_summary(text).opinions())
    assert opinion.body == "進めれば良いかのノウハウ。"


@pytest.mark.parametrize("header", ["参考資料１", "参考　資料１", "参 考 資 料 １", "資料３-1"])
def test_page_headers_are_dropped_and_kept_as_the_label(header):
    text = f"題名　　{header}\n【章】\n・前半の\n{header}\n後半。\n"
    document = parse_summary(text)
    assert document.title == "題名"
    assert document.label == header.replace(" ", "").replace("\u3000", "")
    assert [o.body for _n, o in document.opinions()] == ["前半の後半。"]


def test_a_header_at_the_end_of_a_remarks_line_is_dropped():
    document = parse_summary("題名\n【章】\n・一つ目の意見。　参考資料１\n")
    assert [o.body for _n, o in document.opinions()] == ["一つ目の意見。"]
    assert document.label == "参考資料１"


def test_a_letter_spaced_repeated_title_is_dropped():
    title = "第１回における主なご意見"
    text = f"{title}\n【章】\n・前半の\n{' '.join(title)}\n後半。\n"
    assert [o.body for _n, o in parse_summary(text).opinions()] == ["前半の後半。"]


def test_breaks_inside_digits_and_latin_words_join_without_a_space():
    assert join_wrapped("全体の7", "0％") == "全体の70％"
    assert join_wrapped("Socie", "ty") == "Society"
    assert join_wrapped("Society", "5.0") == "Society 5.0"


# --- Warnings -------------------------------------------------------------------------------


def test_suspicious_joins_are_warned_with_their_line():
    text = "題名\n【章】\n・一つ目の意見である。\n二つ目が記号なしで続く。\n・三つ目。・四つ目。\n"
    document = parse_summary(text)
    assert [(w.line, "続き" in w.message or "途中" in w.message) for w in document.warnings] == [
        (4, True),
        (5, True),
    ]


def test_a_remark_far_longer_than_the_rest_is_warned():
    short = "".join(f"・意見{i}です。\n" for i in range(8))
    text = f"題名\n【章】\n{short}・{'長い' * 400}。\n"
    [warning] = parse_summary(text).warnings
    assert warning.line == 11 and "長い意見" in warning.message


# --- Encodings ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "utf-16"])
def test_encodings(seed, encoding):
    data = SEED.read_text(encoding="utf-8").encode(encoding)
    assert parse_summary(decode_text(data)) == seed


def test_utf16_without_a_bom_is_refused_with_the_message():
    with pytest.raises(SummaryParseError, match="UTF-8 または Shift_JIS"):
        decode_text("題名\n【章】\n".encode("utf-16-le") + b"\xff\xd8")


# --- Word files -----------------------------------------------------------------------------


def docx_bytes(document) -> bytes:
    handle = io.BytesIO()
    document.save(handle)
    return handle.getvalue()


def test_docx_heading_styles_and_word_bullets_are_read_without_marks(seed):
    word = Document()
    word.add_paragraph(seed.title, style="Title")
    for node in seed.nodes():
        word.add_paragraph(node.name, style=f"Heading {node.level}")
        for opinion in node.opinions:
            word.add_paragraph(opinion.body, style="List Bullet")
    document = parse_summary(lines_from_docx(docx_bytes(word)))
    assert document.profile.headings == ("見出し1", "見出し2", "見出し3")
    assert remarks(document) == remarks(seed)
    assert [(n.level, n.name) for n in document.nodes()] == [
        (n.level, n.name) for n in seed.nodes()
    ]


def test_docx_numbered_list_paragraphs_are_remarks():
    word = Document()
    word.add_paragraph("主な意見")
    word.add_paragraph("総論", style="Heading 1")
    word.add_paragraph("番号付きの意見一。", style="List Number")
    word.add_paragraph("番号付きの意見二。", style="List Number")
    assert [o.body for _n, o in parse_summary(lines_from_docx(docx_bytes(word))).opinions()] == [
        "番号付きの意見一。",
        "番号付きの意見二。",
    ]


def test_docx_table_of_members_and_remarks_gives_remarks_with_speakers():
    word = Document()
    word.add_paragraph("第３回における主な意見")
    word.add_paragraph("【総論】")
    table = word.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "委員", "意見"
    for speaker, body in [
        ("山田委員", "一つ目。"),
        ("", "同じ人の二つ目。"),
        ("佐藤委員", "三つ目。"),
    ]:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = speaker, body
    word.add_paragraph("【各論】")
    word.add_paragraph("・表の後の意見。")
    document = parse_summary(lines_from_docx(docx_bytes(word)))
    assert remarks(document) == [
        ("山田委員", "一つ目。"),
        ("山田委員", "同じ人の二つ目。"),
        ("佐藤委員", "三つ目。"),
        ("", "表の後の意見。"),
    ]


def test_a_docx_with_too_many_paragraphs_is_refused_before_parsing():
    body = "<w:p><w:r><w:t>x</w:t></w:r></w:p>" * (MAX_DOCX_PARAGRAPHS + 1)
    handle = io.BytesIO()
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", f"<w:document><w:body>{body}</w:body></w:document>")
    with pytest.raises(DocumentReadError, match="段落が多すぎます"):
        lines_from_upload("bomb.docx", handle.getvalue())


def test_a_docx_that_inflates_too_far_is_refused_before_parsing():
    handle = io.BytesIO()
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b" " * (60 * 1024 * 1024))
    assert len(handle.getvalue()) < 200_000  # a small upload…
    with pytest.raises(DocumentReadError, match="中身が大きすぎます"):
        lines_from_upload("bomb.docx", handle.getvalue())


# --- PDFs made by LibreOffice from the portal's own exports ------------------------------------


@pytest.mark.parametrize("name", ["seed_export_docx.pdf", "seed_export_txt.pdf"])
def test_libreoffice_pdfs_of_the_exports_read_back_identical(seed, name):
    document = parse_summary(lines_from_pdf((FIXTURES / name).read_bytes()))
    assert document == seed
    assert remarks(document) == remarks(seed)  # ①②③④ in place, no page number glued in
    assert document.label == "参考資料１"
    assert all(opinion.page for _node, opinion in document.opinions())


def test_the_exported_word_file_reads_back_identical(seed):
    document = parse_summary(lines_from_docx((FIXTURES / "seed_export.docx").read_bytes()))
    assert remarks(document) == remarks(seed)


def test_text_lines_count_pages_at_form_feeds():
    lines = lines_from_text("題名\n【章】\n\x0c・意見。\n")
    assert [line.page for line in lines] == [1, 1, 2]


def test_infer_profile_reads_the_seed_as_the_committee_lays_it_out():
    profile = infer_profile(lines_from_text(SEED.read_text(encoding="utf-8")))
    assert profile.describe() == "【】 › ○ › ＜＞ › ・"


def test_a_pdf_whose_streams_inflate_too_far_is_refused_before_parsing():
    import zlib

    bomb = zlib.compress(b"0" * (300 * 1024 * 1024), 9)
    header = b"%PDF-1.7\n1 0 obj\n<< /Length " + str(len(bomb)).encode()
    data = header + b" /Filter /FlateDecode >>\nstream\n"
    data += bomb + b"\nendstream\nendobj\n%%EOF\n"
    assert len(data) < 1_000_000
    with pytest.raises(DocumentReadError, match="PDF の中身が大きすぎます"):
        lines_from_upload("bomb.pdf", data)


def test_an_attribution_wrapped_onto_its_own_line_ends_the_remark_above():
    text = "主な意見\n【総論】\n・一つ目の意見で、行の終わりまで続いている文である。\n（山田委員）\n・二つ目。（佐藤委員）\n"
    assert remarks(parse_summary(text)) == [
        ("山田委員", "一つ目の意見で、行の終わりまで続いている文である。"),
        ("佐藤委員", "二つ目。"),
    ]
