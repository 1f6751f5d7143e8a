"""A remark opened from a search or a filtered list keeps it: 前/次 within the hits with
"n / N", 「一覧に戻る」 to the same list page, the search terms marked."""

import re

import pytest
from django.urls import reverse

from opinions.models import Opinion
from tests.factories import OpinionFactory, StakeholderFactory, SubthemeFactory

LIST = reverse("opinions:opinion-list")


def detail_links(html: str) -> list[str]:
    return [
        link.replace("&amp;", "&")
        for link in re.findall(r'class="opinion-card__more" href="([^"]+)"', html)
    ]


def test_the_list_links_remarks_with_its_query(client, seed):
    html = client.get(LIST, {"q": "女性", "meeting": ""}, follow=True).content.decode()
    links = detail_links(html)
    assert links and all(link.endswith("?q=%E5%A5%B3%E6%80%A7&page=1") for link in links)


def test_an_unfiltered_list_links_remarks_plainly(client, seed):
    links = detail_links(client.get(LIST).content.decode())
    assert links and all("?" not in link for link in links)


def test_a_remark_from_a_search_steps_through_its_hits(client, seed):
    hits = [opinion.pk for opinion in client.get(LIST, {"q": "女性"}).context["object_list"]]
    assert len(hits) >= 3
    second = client.get(reverse("opinions:opinion-detail", args=[hits[1]]), {"q": "女性"})
    context = second.context["hits"]
    assert (context.position, context.total) == (2, len(hits))
    assert context.previous_url.startswith(f"/opinions/{hits[0]}/?q=")
    assert context.next_url.startswith(f"/opinions/{hits[2]}/?q=")
    assert context.list_url == f"{LIST}?q=%E5%A5%B3%E6%80%A7&page=1"
    html = second.content.decode()
    assert f"2 / {len(hits)} 件目" in html and "一覧に戻る" in html
    assert "<mark>女性</mark>" in html
    following = client.get(context.next_url).context["hits"]
    assert following.position == 3 and following.previous_url.startswith(f"/opinions/{hits[1]}/")


def test_the_hits_follow_the_lists_pages(client, db, settings):
    settings.OPINIONS_PAGE_SIZE = 2
    stakeholder = StakeholderFactory(slug="women")
    theme = SubthemeFactory()
    remarks = [OpinionFactory(theme=theme, body=f"意見{i}") for i in range(5)]
    for remark in remarks:
        remark.stakeholders.add(stakeholder)
    ordered = list(
        Opinion.objects.filter(pk__in=[r.pk for r in remarks])
        .in_document_order()
        .values_list("pk", flat=True)
    )
    third = client.get(
        reverse("opinions:opinion-detail", args=[ordered[2]]), {"stakeholder": "women", "page": 2}
    ).context["hits"]
    assert (third.position, third.total) == (3, 5)
    assert third.list_url.endswith("page=2")
    assert third.next_url == f"/opinions/{ordered[3]}/?stakeholder=women&page=2"
    assert third.previous_url == f"/opinions/{ordered[1]}/?stakeholder=women&page=1"


def test_a_remark_no_longer_among_the_hits_links_back_only(client, seed):
    outside = Opinion.objects.exclude(stakeholders__slug="women").first()
    response = client.get(outside.get_absolute_url(), {"stakeholder": "women", "page": "abc"})
    assert response.status_code == 200 and response.context["hits"] is None
    assert response.context["back_url"] == f"{LIST}?stakeholder=women"


def test_a_remark_opened_plainly_has_no_hit_context(client, seed):
    response = client.get(Opinion.objects.first().get_absolute_url())
    assert "hits" not in response.context and "<mark>" not in response.content.decode()


@pytest.mark.parametrize("params", [{"q": "女性"}, {"stakeholder": "women", "page": "1"}])
def test_the_detail_page_with_hits_takes_as_many_queries_at_any_size(
    client, seed, params, django_assert_max_num_queries
):
    target = Opinion.objects.filter(stakeholders__slug="women").first()
    with django_assert_max_num_queries(30) as few:
        client.get(target.get_absolute_url(), params)
    women = target.stakeholders.get(slug="women")
    for index in range(60):
        OpinionFactory(theme=target.theme, body=f"女性の意見{index}").stakeholders.add(women)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(target.get_absolute_url(), params).context["hits"]
