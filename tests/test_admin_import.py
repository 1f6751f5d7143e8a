"""Importing a 主なご意見 document in the admin: .txt, .docx and .pdf, preview, confirm.

The Word and PDF inputs are generated here from the seed text: the DOCX with python-docx
(one paragraph per line), the PDF with reportlab's built-in Japanese CID font (no font
file needed), laid out line by line on A4 pages as the committee's PDF is.
"""

import io
import zipfile
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from docx import Document
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from opinions import roles
from opinions.importers import (
    DocumentReadError,
    _pdf_pages,
    normalize_extracted_text,
    parse_summary,
    text_from_pdf,
    text_from_upload,
)
from opinions.imports import import_summary_document
from opinions.models import Opinion, SourceDocument, Theme
from tests.factories import CommitteeFactory, MeetingFactory, UserFactory

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:opinions_sourcedocument_import")
JAPANESE_FONT = "HeiseiKakuGo-W5"
SEED_COUNTS = {"sections": 2, "themes": 14, "subthemes": 17, "opinions": 68}


# --- Generated test documents ---------------------------------------------------------------


def make_docx(text: str) -> bytes:
    document = Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    handle = io.BytesIO()
    document.save(handle)
    return handle.getvalue()


def _pdf_string(text: str) -> str:
    """``text`` as a PDF string literal in the font's UCS-2 encoding (UniJIS-UCS2-H)."""
    escaped = (
        chr(byte) if 32 <= byte < 127 and chr(byte) not in "()\\" else f"\\{byte:03o}"
        for byte in text.encode("utf-16-be")
    )
    return f"({''.join(escaped)})"


def make_pdf(text: str, *, justified_lines: int = 0) -> bytes:
    """The lines of ``text`` on A4 pages. The first ``justified_lines`` bullet lines are
    set letter by letter with a gap after each character, as justified text is, which
    text extraction reads as spaces between the characters."""
    pdfmetrics.registerFont(UnicodeCIDFont(JAPANESE_FONT))
    handle = io.BytesIO()
    pdf = canvas.Canvas(handle, pagesize=A4)
    _width, height = A4
    justified = 0
    text_object = None
    for line in text.splitlines():
        if text_object is None or text_object.getY() < 50:
            if text_object is not None:
                pdf.drawText(text_object)
                pdf.showPage()
            text_object = pdf.beginText(50, height - 50)
            text_object.setFont(JAPANESE_FONT, 10.5)
            text_object.setLeading(16)
        if justified < justified_lines and line.strip().startswith("・"):
            justified += 1
            # TJ with a 0.6 em gap after each glyph; reportlab has no public call for it.
            glyphs = " ".join(f"{_pdf_string(char)} -600" for char in line.strip())
            text_object._code.append(f"[{glyphs}] TJ T*")
        else:
            text_object.textLine(line)
    pdf.drawText(text_object)
    pdf.save()
    return handle.getvalue()


def zip_of(files: dict[str, str]) -> bytes:
    handle = io.BytesIO()
    with zipfile.ZipFile(handle, "w") as archive:
        for name, content in files.items():
            # A fixed date: the bytes, and so the test ids built from them, are the same in
            # every process that collects the tests (pytest-xdist's workers must agree).
            archive.writestr(zipfile.ZipInfo(name, date_time=(2019, 4, 9, 0, 0, 0)), content)
    return handle.getvalue()


def broken(text: str, at: int = 200) -> str:
    """``text`` with an unclosed section heading inserted as line ``at + 1``."""
    lines = text.splitlines()
    lines.insert(at, "【閉じていない章")
    return "\n".join(lines)


# --- Text out of files ---------------------------------------------------------------------


def test_pdf_generated_from_the_seed_parses_to_the_same_tree(seed_text):
    parsed = parse_summary(text_from_pdf(make_pdf(seed_text)))
    assert parsed.counts() == SEED_COUNTS
    assert parsed == parse_summary(seed_text)  # same headings and remark texts
    assert parsed.label == "参考資料１"


def test_each_remark_keeps_the_pdf_page_it_starts_on(seed_text):
    data = make_pdf(seed_text)
    pages = [normalize_extracted_text(page) for page in _pdf_pages(data)]
    assert len(pages) > 2
    remarks = [opinion for _node, opinion in parse_summary(text_from_pdf(data)).opinions()]
    assert remarks[0].page == 1 and remarks[-1].page >= len(pages) - 1
    for remark in remarks:
        assert f"・{remark.body[:12]}" in pages[remark.page - 1]


def test_a_source_without_pages_gives_no_page(seed_text):
    assert {opinion.page for _node, opinion in parse_summary(seed_text).opinions()} == {None}


@pytest.mark.django_db
def test_import_stores_the_page_and_a_later_text_import_keeps_it(seed_text):
    committee = CommitteeFactory()
    import_summary_document(parse_summary(text_from_pdf(make_pdf(seed_text))), committee=committee)
    last = Opinion.objects.order_by("-position").first()
    assert last.source_page > 1
    result = import_summary_document(parse_summary(seed_text), committee=committee)
    assert result.opinions_updated == 0
    last.refresh_from_db()
    assert last.source_page > 1


@pytest.mark.django_db
def test_the_same_text_from_a_pdf_fills_in_the_pages_as_no_change(seed_text):
    committee = CommitteeFactory()
    import_summary_document(parse_summary(seed_text), committee=committee)
    assert not Opinion.objects.filter(source_page__isnull=False).exists()
    pdf = parse_summary(text_from_pdf(make_pdf(seed_text)))
    result = import_summary_document(pdf, committee=committee)
    assert (result.opinions_updated, result.opinions_unchanged) == (0, 68)
    assert not Opinion.objects.filter(source_page__isnull=True).exists()


def test_justified_pdf_lines_are_normalized_before_parsing(seed_text):
    data = make_pdf(seed_text, justified_lines=5)
    parsed = parse_summary(text_from_pdf(data))
    assert parsed == parse_summary(seed_text)


def test_docx_generated_from_the_seed_parses_to_the_same_tree(seed_text):
    parsed = parse_summary(text_from_upload("資料.DOCX", make_docx(seed_text)))
    assert parsed.counts() == SEED_COUNTS
    assert parsed == parse_summary(seed_text)


@pytest.mark.parametrize(
    ("extracted", "expected"),
    [
        ("・地 方 創 生 の 推 進", "・地方創生の推進"),  # justified text
        ("・Society 5.0 の 実現", "・Society 5.0 の実現"),  # next to Latin: kept
        ("⽇本の⼈⼝", "日本の人口"),  # Kangxi radicals U+2F00…
        ("か\u3099んは\u309aる", "がんぱる"),  # decomposed voiced marks
        ("一頁目\x0c二頁目", "一頁目\n二頁目"),
        ("全角ＡＢＣ１２３", "全角ＡＢＣ１２３"),  # full width is the document's, kept
        ("取組、 ① 地域 ○ 課題 ※注", "取組、①地域○課題※注"),  # symbols set in full width
    ],
)
def test_normalize_extracted_text(extracted, expected):
    assert normalize_extracted_text(extracted) == expected


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("資料.pdf", b"%PDF-1.4 not really", "PDF ファイルとして読み取れません"),
        ("資料.docx", b"PK\x03\x04 not a zip", "Word ファイル（.docx）として読み取れません"),
        ("資料.docx", zip_of({"[Content_Types].xml": "<broken"}), "として読み取れません"),
        ("資料.docx", zip_of({"hello.txt": "x"}), "として読み取れません"),
        ("資料.doc", b"\xd0\xcf\x11\xe0", "形式は読み込めません"),
    ],
    ids=["pdf", "docx-not-zip", "docx-broken-xml", "docx-without-document", "doc"],
)
def test_unreadable_files_raise_a_clear_error(name, data, message):
    with pytest.raises(DocumentReadError, match=message):
        text_from_upload(name, data)


def test_pdf_without_text_is_explained():
    handle = io.BytesIO()
    pdf = canvas.Canvas(handle, pagesize=A4)
    pdf.rect(50, 50, 100, 100)  # a drawing, no text: like a scanned page
    pdf.save()
    with pytest.raises(DocumentReadError, match="画像だけの PDF"):
        text_from_pdf(handle.getvalue())


# --- The admin ------------------------------------------------------------------------------


@pytest.fixture
def committee():
    return CommitteeFactory(slug="dai2ki")


@pytest.fixture
def curator(client):
    user = UserFactory(username="curator", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    client.force_login(user)
    return user


def upload(client, committee, name, data, meetings=(), labels=None):
    form = {
        "committee": committee.pk,
        "meetings": [meeting.pk for meeting in meetings],
        "file": SimpleUploadedFile(name, data),
    }
    if labels is not None:
        form["labels"] = SimpleUploadedFile("labels.tsv", labels)
    return client.post(IMPORT, form)


def confirm(client, preview, button="import", **choices):
    """Post the preview's form as the admin's browser would (its fields, ``choices``)."""
    form = preview.context["form"]
    data = {name: form[name].value() for name in ("preview", "committee", "headings", "bullets")}
    data["meetings"] = form["meetings"].value() or []
    for name in ("new_meeting_number", "new_meeting_held_on"):
        if form[name].value():
            data[name] = form[name].value()
    data[button] = "1"
    data.update(choices)
    return client.post(IMPORT, data)


def written():
    return (SourceDocument.objects.count(), Theme.objects.count(), Opinion.objects.count())


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("000_7e59f9f179f907ca.txt", lambda text: text.encode("utf-8")),
        ("shift_jis.txt", lambda text: text.encode("cp932")),
        ("主なご意見.docx", make_docx),
        ("主なご意見.pdf", make_pdf),
    ],
)
def test_each_format_previews_then_imports_the_seed(
    client, curator, committee, seed_text, name, make
):
    meeting = MeetingFactory(committee=committee, number=1)
    preview = upload(client, committee, name, make(seed_text), meetings=[meeting])
    assert preview.status_code == 200
    assert preview.context["counts"] == SEED_COUNTS
    html = preview.content.decode()
    assert "【第１期の地方創生の評価と今後の方向性（総論）】" in html
    assert "新規 68、" in html
    assert "には意見がありません" in html  # the three themes without remarks are pointed out
    assert written() == (0, 0, 0)  # the preview writes nothing

    response = confirm(client, preview)
    document = SourceDocument.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("admin:opinions_sourcedocument_change", args=[document.pk])
    assert written() == (1, 33, 68)
    assert list(document.meetings.all()) == [meeting]
    assert parse_summary(seed_text) == parse_summary(
        "\n".join(
            [document.title, document.label]
            + [
                line
                for theme in Theme.objects.in_tree_order()
                for line in [theme.display_name]
                + [f"・{o.body}" for o in theme.opinions.order_by("position")]
            ]
        )
    )


def test_importing_the_same_file_twice_changes_nothing(client, curator, committee, seed_text):
    confirm(client, upload(client, committee, "a.txt", seed_text.encode()))
    before = list(Opinion.objects.values_list("pk", "body", "updated_at"))
    preview = upload(client, committee, "a.pdf", make_pdf(seed_text))
    assert "変更なし 68、" in preview.content.decode()
    assert "同じ題名の資料が既にあります" in preview.content.decode()
    response = confirm(client, preview)
    assert response.status_code == 302
    assert list(Opinion.objects.values_list("pk", "body", "updated_at")) == before
    assert written() == (1, 33, 68)


@pytest.mark.parametrize(
    ("name", "make"),
    [("broken.txt", str.encode), ("broken.docx", make_docx), ("broken.pdf", make_pdf)],
)
def test_a_broken_file_names_the_line_and_writes_nothing(
    client, curator, committee, seed_text, name, make
):
    response = upload(client, committee, name, make(broken(seed_text)))
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert len(errors) == 1
    assert "行目「【閉じていない章」" in errors[0]
    assert "「】」で閉じていません" in errors[0]
    if name.endswith((".txt", ".docx")):
        assert errors[0].startswith("201行目")  # the line as the file numbers it
    assert "読み取って確認する" in response.content.decode()  # back on the upload form
    assert written() == (0, 0, 0)


def test_an_unreadable_pdf_is_a_form_error_not_a_500(client, curator, committee):
    response = upload(client, committee, "scan.pdf", b"%PDF-1.7\n%%EOF garbage")
    assert response.status_code == 200
    assert "PDF ファイルとして読み取れません" in response.context["form"].errors["file"][0]


def test_a_tampered_confirmation_is_refused(client, curator, committee, seed_text):
    preview = upload(client, committee, "a.txt", seed_text.encode())
    form = preview.context["form"]
    response = client.post(
        IMPORT, {"preview": form["preview"].value() + "x", "committee": committee.pk}
    )
    assert response.status_code == 200
    assert "確認画面のデータが正しくありません" in response.content.decode()
    assert written() == (0, 0, 0)


def test_meetings_of_another_committee_are_refused(client, curator, committee, seed_text):
    other = MeetingFactory()
    response = upload(client, committee, "a.txt", seed_text.encode(), meetings=[other])
    assert "選んだ会議体の会議だけを選んでください" in response.content.decode()


def test_the_import_is_for_administrators_only(client, committee, seed_text):
    secretariat = UserFactory(is_staff=True)
    secretariat.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    client.force_login(secretariat)
    changelist = client.get(reverse("admin:opinions_sourcedocument_changelist"))
    assert IMPORT not in changelist.content.decode()
    assert client.get(IMPORT).status_code == 403
    assert upload(client, committee, "a.txt", seed_text.encode()).status_code == 403
    assert written() == (0, 0, 0)


def test_the_changelist_links_to_the_import_for_administrators(client, curator):
    html = client.get(reverse("admin:opinions_sourcedocument_changelist")).content.decode()
    assert IMPORT in html and "主なご意見の資料を取り込む" in html
    assert client.get(IMPORT).status_code == 200


LABELS = Path(__file__).resolve().parent.parent / "fixtures" / "source" / "theme_labels.tsv"


def test_a_labels_file_gives_the_curated_short_labels_and_slugs(
    client, curator, committee, seed_text
):
    preview = upload(client, committee, "a.txt", seed_text.encode(), labels=LABELS.read_bytes())
    assert preview.status_code == 200
    assert "ラベルのファイルから 33 件" in preview.content.decode()
    confirm(client, preview)
    assert written() == (1, 33, 68)
    curated = {
        row.split("\t")[1]: row.split("\t")[2]
        for row in LABELS.read_text(encoding="utf-8").splitlines()[1:]
        if row.strip()
    }
    assert dict(Theme.objects.values_list("short_label", "slug")) == curated


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ("theme\tlabel\n", "1行目: 見出しの行は path、short_label、slug"),
        ("path\tshort_label\tslug\n【総論】\t総論\tsoron\n○テーマ\n", "3行目: path と short_label"),
    ],
)
def test_a_broken_labels_file_names_the_line_keeps_the_choices_and_writes_nothing(
    client, curator, committee, seed_text, labels, message
):
    response = upload(client, committee, "a.txt", seed_text.encode(), labels=labels.encode())
    assert response.status_code == 200
    assert message in response.context["form"].errors["labels"][0]
    assert response.context["form"]["committee"].value() == str(committee.pk)
    assert written() == (0, 0, 0)


# --- Revisions, matches, duplicates and meetings in the preview --------------------------------

V1 = "第３回における主なご意見\n【総論】\n○人材\n・人材の育成が欠かせない。\n・観光の振興では地域の資源を生かすべきである。\n"


def test_the_preview_lists_each_remark_with_its_action_and_how_it_was_matched(
    client, curator, committee
):
    confirm(client, upload(client, committee, "v1.txt", V1.encode()))
    revised = V1.replace("欠かせない。", "欠かせないと考える。") + "・新しい意見である。\n"
    preview = upload(client, committee, "v2.txt", revised.encode())
    html = preview.content.decode()
    assert "新規 1、修正 1、移動 0、変更なし 1" in html
    assert "同じ見出しで本文が似ている" in html and "本文が一致" in html
    assert "<ins>と考える</ins>" in html
    assert written() == (1, 2, 2)  # still nothing written


def test_the_admin_changes_a_match_in_the_preview_before_anything_is_written(
    client, curator, committee
):
    confirm(client, upload(client, committee, "v1.txt", V1.encode()))
    original = Opinion.objects.get(body="人材の育成が欠かせない。")
    revised = V1.replace("欠かせない。", "欠かせないと考える。")
    preview = upload(client, committee, "v2.txt", revised.encode())
    reread = confirm(client, preview, button="reread", **{"match-0": "new"})
    assert "新規 1、修正 0、移動 0、変更なし 1、非公開化 1" in reread.content.decode()
    assert written() == (1, 2, 2)
    confirm(client, reread, **{"match-0": "new"})
    original.refresh_from_db()
    assert original.status == Opinion.Status.HIDDEN  # hidden, not deleted
    assert Opinion.objects.get(body="人材の育成が欠かせないと考える。").pk != original.pk


def test_the_layout_can_be_changed_in_the_preview(client, curator, committee):
    text = "題名\n■総論\n●一行の意見である。\n●もう一つの意見である。\n"
    preview = upload(client, committee, "a.txt", text.encode())
    assert preview.context["profile"].describe() == "■ › ●"
    as_headings = confirm(client, preview, button="reread", headings="■ ●", bullets="・")
    assert "意見が一つも読み取れません" in as_headings.content.decode()
    reread = confirm(client, preview, button="reread", headings="■", bullets="●")
    assert reread.context["plan"].counts()["new"] == 2
    assert written() == (0, 0, 0)


def test_a_layout_that_does_not_read_is_explained_in_the_preview(client, curator, committee):
    preview = upload(client, committee, "a.txt", V1.encode())
    response = confirm(client, preview, button="reread", headings="★")
    assert response.status_code == 200
    assert "「★」は見出しや意見の記号として使えません" in response.content.decode()
    assert written() == (0, 0, 0)


def test_remarks_already_in_another_document_are_flagged_with_links_and_linked(
    client, curator, committee
):
    confirm(client, upload(client, committee, "v1.txt", V1.encode()))
    first = Opinion.objects.get(body="人材の育成が欠かせない。")
    again = V1.replace("第３回", "第４回")
    preview = upload(client, committee, "v4.txt", again.encode())
    html = preview.content.decode()
    assert "2 件の意見はほかの資料にもあります" in html
    assert f'href="{first.get_absolute_url()}"' in html
    confirm(client, preview, **{"link-1": "new"})
    fourth = SourceDocument.objects.get(title__startswith="第４回")
    assert [o.repeat_of_id for o in fourth.opinions.order_by("position")] == [first.pk, None]


def test_a_meeting_is_added_from_the_import_form(client, curator, committee):
    form = {
        "committee": committee.pk,
        "new_meeting_number": 3,
        "new_meeting_held_on": "2026-11-30",
        "file": SimpleUploadedFile("v1.txt", V1.encode()),
    }
    preview = client.post(IMPORT, form)
    assert "第3回（取り込むときに追加）" in preview.content.decode()
    assert not committee.meetings.exists()  # the preview writes nothing
    confirm(client, preview)
    meeting = committee.meetings.get()
    assert (meeting.number, str(meeting.held_on)) == (3, "2026-11-30")
    assert list(SourceDocument.objects.get().meetings.all()) == [meeting]


def test_a_document_without_remarks_is_refused(client, curator, committee):
    response = upload(client, committee, "a.txt", "題名\n【総論】\n○見出しだけ\n".encode())
    assert "意見が一つも読み取れません" in response.context["form"].errors["file"][0]
    assert written() == (0, 0, 0)


def test_warnings_are_listed_with_their_lines(client, curator, committee):
    text = "題名\n【総論】\n・一つ目の意見である。\n記号のない二つ目の意見。\n"
    html = upload(client, committee, "a.txt", text.encode()).content.decode()
    assert "4行目: 「。」で終わった意見の次の行を" in html


def test_the_preview_is_kept_on_the_server_so_a_large_file_imports(client, curator, committee):
    """A 3.9 MB document: more than a signed copy in the form could carry."""
    lines = ["大きな資料", "【総論】"]
    for heading in range(40):
        lines.append(f"○見出し{heading}")
        lines.extend(f"・見出し{heading}の{n}番目の意見。" + "あ" * 400 for n in range(80))
    data = "\n".join(lines).encode()
    assert len(data) > 3_500_000
    preview = upload(client, committee, "big.txt", data)
    assert len(preview.context["form"]["preview"].value()) < 200
    response = confirm(client, preview)
    assert response.status_code == 302
    assert Opinion.objects.count() == 3200
