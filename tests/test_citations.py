"""Citing a remark: its number in lists, its meetings each with a date, a plain-text citation."""

import datetime

import lxml.html
import pytest
from django.urls import reverse

from opinions import citations
from opinions.models import Opinion
from tests.factories import MeetingFactory, OpinionFactory, SourceDocumentFactory

LIST = reverse("opinions:opinion-list")


def with_class(name: str) -> str:
    return f"//*[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


def visible_text(html: str, xpath: str) -> list[str]:
    """The text of the elements at ``xpath``, without what only screen readers get."""
    tree = lxml.html.fromstring(html)
    for hidden in tree.xpath(with_class("visually-hidden")):
        hidden.drop_tree()
    return [node.text_content().strip() for node in tree.xpath(xpath)]


def test_every_row_of_the_list_shows_its_number(client, db):
    first, second = OpinionFactory(), OpinionFactory()
    numbers = visible_text(client.get(LIST).content.decode(), with_class("opinion-card__number"))
    assert numbers == [f"意見番号 {first.pk}", f"意見番号 {second.pk}"]


def test_theme_page_rows_show_their_number(client, db):
    opinion = OpinionFactory()
    html = client.get(opinion.theme.parent.get_absolute_url()).content.decode()
    assert f"意見番号 {opinion.pk}" in visible_text(html, with_class("opinion-card__number"))


def test_the_meetings_of_a_document_are_each_shown_with_their_own_date(client, seed):
    opinion = Opinion.objects.get(position=1)
    html = client.get(opinion.get_absolute_url()).content.decode()
    assert visible_text(html, with_class("meeting-list") + "/li") == [
        "第1回（開催日未登録）",
        "第2回（2019年4月9日）",
    ]


def test_the_detail_page_shows_the_source_page_when_known(client, db):
    opinion = OpinionFactory(source_document=SourceDocumentFactory(), position=1, source_page=3)
    html = client.get(opinion.get_absolute_url()).content.decode()
    assert visible_text(html, with_class("opinion-detail__page")) == ["3 ページ"]
    plain = OpinionFactory(source_document=opinion.source_document, position=2)
    assert "opinion-detail__page" not in client.get(plain.get_absolute_url()).content.decode()


def test_the_citation_names_committee_meetings_document_page_number_and_url(client, db):
    document = SourceDocumentFactory(title="第１回、第２回における主なご意見", label="参考資料１")
    document.meetings.add(
        MeetingFactory(committee=document.committee, number=2, held_on=datetime.date(2019, 4, 9)),
        MeetingFactory(committee=document.committee, number=1),
    )
    opinion = OpinionFactory(source_document=document, position=5, source_page=2)
    html = client.get(opinion.get_absolute_url()).content.decode()
    assert visible_text(html, "//*[@id='citation-text']") == [
        f"{document.committee.name}、第1回（開催日未登録）・第2回（2019年4月9日）、"
        "参考資料１「第１回、第２回における主なご意見」、2 ページ、"
        f"意見番号 {opinion.pk}、http://testserver/opinions/{opinion.pk}/"
    ]
    assert "出典をコピー" in html


def test_a_remark_made_at_a_meeting_cites_that_meeting_and_its_committee(db):
    meeting = MeetingFactory(number=3, held_on=datetime.date(2019, 5, 20))
    opinion = OpinionFactory(meeting=meeting)
    meetings = citations.meetings_of(opinion)
    assert citations.citation(opinion, url="https://example.jp/o/1/", meetings=meetings) == (
        f"{meeting.committee.name}、第3回（2019年5月20日）、意見番号 {opinion.pk}、"
        "https://example.jp/o/1/"
    )


@pytest.mark.parametrize("with_meetings", [0, 3])
def test_the_detail_page_takes_as_many_queries_with_one_or_several_meetings(
    client, db, django_assert_max_num_queries, with_meetings
):
    document = SourceDocumentFactory()
    opinion = OpinionFactory(source_document=document, position=1)
    with django_assert_max_num_queries(25) as before:
        client.get(opinion.get_absolute_url())
    for number in range(with_meetings):
        document.meetings.add(MeetingFactory(committee=document.committee, number=number + 1))
    with django_assert_max_num_queries(len(before.captured_queries)):
        assert client.get(opinion.get_absolute_url()).status_code == 200
