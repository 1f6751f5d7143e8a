"""HTML and script in a remark are shown as text everywhere it appears."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from opinions import roles
from opinions.models import Opinion, Theme

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>女性の"参画"&活躍'


@pytest.fixture
def hostile(seed):
    theme = Theme.objects.get(slug="sdgs")
    return Opinion.objects.create(body=HOSTILE, theme=theme, status=Opinion.Status.PUBLISHED)


@pytest.mark.parametrize(
    "url",
    [
        "/opinions/?theme=sdgs",
        "/opinions/?sort=newest",
        "/opinions/?q=%E5%A5%B3%E6%80%A7",  # 女性: the highlighted snippet
        "/opinions/?q=%3Cscript%3E",  # searching for the markup itself
        "/themes/sdgs/",
        "/themes/dai2ki-theme/",
    ],
)
def test_markup_in_a_remark_is_escaped_on_public_pages(client, hostile, url):
    html = client.get(url).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_detail_and_related_escape(client, hostile):
    html = client.get(hostile.get_absolute_url()).content.decode()
    assert (
        "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    )
    neighbour = Opinion.objects.filter(theme=hostile.theme).exclude(pk=hostile.pk).first()
    assert "<script>alert" not in client.get(neighbour.get_absolute_url()).content.decode()


def test_admin_escapes(client, hostile):
    from tests.factories import UserFactory

    curator = UserFactory(is_staff=True)
    curator.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    client.force_login(curator)
    for url in (
        reverse("admin:opinions_opinion_changelist"),
        reverse("admin:opinions_opinion_change", args=[hostile.pk]),
        reverse("admin:opinions_opinion_history", args=[hostile.pk]),
    ):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html, url


def test_review_queue_and_mypage_escape(client, seed):
    from tests.factories import UserFactory

    member = UserFactory()
    member.groups.add(Group.objects.get(name=roles.MEMBER))
    Opinion.objects.create(body=HOSTILE, theme=Theme.objects.get(slug="sdgs"), author=member)
    client.force_login(member)
    assert "<script>alert" not in client.get(reverse("opinions:mypage")).content.decode()
    staff = UserFactory()
    staff.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    client.force_login(staff)
    assert "<script>alert" not in client.get(reverse("opinions:review-queue")).content.decode()


def test_exports_keep_markup_as_plain_text(client, hostile):
    """CSV, XLSX and DOCX carry the text as text (no HTML in them is ever interpreted), and
    a leading formula character is neutralized."""
    import csv
    import io

    from docx import Document
    from openpyxl import load_workbook

    from tests.factories import UserFactory

    staff = UserFactory()
    staff.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    client.force_login(staff)
    params = {"theme": "sdgs"}
    response = client.get(reverse("opinions:opinion-export-csv"), params)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert any(HOSTILE in row for row in rows)
    workbook = load_workbook(
        io.BytesIO(
            b"".join(client.get(reverse("opinions:opinion-export-xlsx"), params).streaming_content)
        )
    )
    assert any(cell.value == HOSTILE for row in workbook.active.iter_rows() for cell in row)
    docx = client.get(reverse("opinions:summary-docx"), params)
    document = Document(
        io.BytesIO(b"".join(docx.streaming_content) if docx.streaming else docx.content)
    )
    assert any(HOSTILE in paragraph.text for paragraph in document.paragraphs)


@pytest.fixture
def hostile_response(hostile):
    """A published response whose text, 反映先 and category name are hostile too."""
    from opinions.models import PolicyDocument, Response, ResponseCategory
    from opinions.responses import services as response_services
    from tests.factories import UserFactory

    writer, checker = UserFactory(username="writer"), UserFactory(username="checker")
    for user in (writer, checker):
        user.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    ResponseCategory.objects.filter(slug="reflected").update(name=f"反映{HOSTILE[:30]}")
    response = response_services.group_remarks(remarks=[hostile], by=writer)
    response = response_services.save_response(
        response.pk,
        by=writer,
        expected_version=Response.objects.get(pk=response.pk).version,
        category=ResponseCategory.objects.get(slug="reflected"),
        reasoning=HOSTILE,
        memo=HOSTILE,
        references=[
            response_services.Reference(
                document=PolicyDocument.objects.create(title=f"戦略{HOSTILE}"), section=HOSTILE
            )
        ],
    )
    response = response_services.confirm_response(
        response.pk, by=checker, expected_version=response.version
    )
    response_services.publish_response(response.pk, by=checker, expected_version=response.version)
    return writer, Response.objects.get(pk=response.pk)


def test_responses_are_escaped_on_public_and_workbench_pages(client, hostile_response, hostile):
    writer, response = hostile_response
    public = [hostile.get_absolute_url(), "/opinions/?theme=sdgs", "/themes/sdgs/"]
    for url in public:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
    assert "&lt;script&gt;" in client.get(hostile.get_absolute_url()).content.decode()
    client.force_login(writer)
    for url in (reverse("opinions:response-workbench"), response.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url


def test_the_ledger_spreadsheet_keeps_markup_as_text(client, hostile_response):
    from io import BytesIO

    from openpyxl import load_workbook

    writer, _response = hostile_response
    writer.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    client.force_login(writer)
    content = b"".join(client.get(reverse("opinions:response-export-xlsx")).streaming_content)
    cells = [c for row in load_workbook(BytesIO(content)).active.iter_rows() for c in row]
    reasoning = [c for c in cells if isinstance(c.value, str) and c.value.startswith("<script>")]
    assert reasoning and all(c.data_type == "s" for c in reasoning)


def test_markup_in_a_theme_or_document_name_is_escaped_in_the_filter_selects(client, seed):
    """The selects' options are built in Python (opinions_extras.facet_options)."""
    from opinions.models import SourceDocument

    Theme.objects.filter(slug="sdgs").update(short_label='<b onclick="x">SDGs</b>')
    SourceDocument.objects.update(title='資料<script>alert("d")</script>')
    html = client.get("/opinions/").content.decode()
    assert "<b onclick" not in html and "<script>alert" not in html
    assert "&lt;b onclick=&quot;x&quot;&gt;SDGs&lt;/b&gt;" in html


@pytest.mark.parametrize("url", ["/opinions/?theme=sdgs", "/themes/sdgs/"])
def test_markup_in_a_theme_or_tag_name_is_escaped_in_the_remark_cards(client, seed, url):
    """The cards are built in Python (opinions_extras.remark_card)."""
    from opinions.models import Stakeholder

    Theme.objects.filter(slug="sdgs").update(short_label='<b onclick="x">SDGs</b>')
    stakeholder = Stakeholder.objects.first()
    Stakeholder.objects.filter(pk=stakeholder.pk).update(name='<i onclick="y">関係者</i>')
    Opinion.objects.filter(theme__slug="sdgs").first().stakeholders.add(stakeholder)
    html = client.get(url).content.decode()
    cards = html[html.index('<article class="opinion-card">') :]
    assert "<b onclick" not in cards and "<i onclick" not in cards
    assert (
        '<a href="/opinions/?theme=sdgs">&lt;b onclick=&quot;x&quot;&gt;SDGs&lt;/b&gt;</a>' in cards
    )
    assert "&lt;i onclick=&quot;y&quot;&gt;関係者&lt;/i&gt;</a>" in cards


def test_markup_in_a_document_name_is_escaped_in_the_crosstab_select(client, seed):
    """The cross-tab's document and meeting options are built in Python (choice_options)."""
    from opinions.models import SourceDocument

    SourceDocument.objects.update(title='資料<script>alert("d")</script>')
    html = client.get(reverse("opinions:crosstab")).content.decode()
    assert "<script>alert" not in html
    assert "資料&lt;script&gt;alert(&quot;d&quot;)&lt;/script&gt;」</option>" in html
