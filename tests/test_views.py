"""The opinion list and detail pages."""

import pytest
from django.urls import reverse

from opinions.models import Opinion, Theme
from tests.factories import OpinionFactory, ThemeFactory

pytestmark = pytest.mark.django_db

LIST = reverse("opinions:opinion-list")


def shown(response):
    return list(response.context["object_list"])


def test_list_shows_the_seed_in_document_order_fifty_per_page(client, seed):
    first = client.get(LIST)
    second = client.get(LIST, {"page": 2})
    assert first.status_code == second.status_code == 200
    assert first.context["paginator"].count == 68
    assert len(shown(first)) == 50 and len(shown(second)) == 18
    positions = [o.position for o in shown(first) + shown(second)]
    assert positions == list(range(1, 69))
    assert "68 件の意見" in first.content.decode()


def test_list_never_shows_pending_or_hidden_remarks(client):
    visible = OpinionFactory(body="公開されている意見")
    OpinionFactory(body="確認待ちの意見", status=Opinion.Status.PENDING)
    OpinionFactory(body="非公開の意見", status=Opinion.Status.HIDDEN)
    response = client.get(LIST)
    assert shown(response) == [visible]
    assert "確認待ちの意見" not in response.content.decode()
    assert "非公開の意見" not in response.content.decode()


def test_filtering_by_section_includes_its_themes_and_subthemes(client, seed):
    section = Theme.objects.get(slug="dai2ki-theme")
    response = client.get(LIST, {"theme": section.slug})
    assert response.context["paginator"].count == 22
    assert all(
        o.theme.parent_id == section.pk or o.theme.parent.parent_id == section.pk
        for o in shown(response)
    )


@pytest.mark.parametrize(
    ("slug", "count"), [("dai1ki-kadai", 17), ("jichitai-kadai", 6), ("sdgs", 3), ("global", 0)]
)
def test_filtering_by_theme_or_subtheme(client, seed, slug, count):
    response = client.get(LIST, {"theme": slug})
    assert response.context["paginator"].count == count


def test_theme_choices_are_the_tree_in_document_order(client, seed):
    field = client.get(LIST).context["filter"].form.fields["theme"]
    labels = [label for value, label in field.choices][1:4]
    assert labels == ["第1期評価", "\u3000第1期の成果", "\u3000\u3000成果の要因"]


def test_unknown_theme_is_ignored_with_a_notice(client, seed):
    response = client.get(LIST, {"theme": "no-such-theme"})
    assert response.status_code == 200
    assert response.context["paginator"].count == 68
    assert "テーマの指定は無効なため無視しました" in response.content.decode()


@pytest.mark.parametrize(
    ("page", "shown_page"),
    [("abc", 1), ("99999", 2), ("0", 2), ("-1", 2), ("1.5", 1), ("9" * 5000, 1)],
    ids=["text", "beyond-last", "zero", "negative", "decimal", "5000-digits"],
)
def test_bad_page_numbers_show_a_real_page_and_say_so(client, seed, page, shown_page):
    response = client.get(LIST, {"page": page})
    assert response.status_code == 200
    assert response.context["page_obj"].number == shown_page
    assert "は無効なため" in response.content.decode()


def test_very_long_parameters_do_not_break_the_page(client, seed):
    response = client.get(LIST, {"theme": "あ" * 10_000, "unknown": "x" * 10_000})
    assert response.status_code == 200


def test_pagination_links_keep_the_filters(client):
    theme = ThemeFactory(slug="jinzai")
    OpinionFactory.create_batch(51, theme=theme)
    OpinionFactory()  # another theme, filtered out
    html = client.get(LIST, {"theme": "jinzai"}).content.decode()
    assert 'href="?theme=jinzai&amp;page=2"' in html


def test_detail_shows_text_breadcrumbs_and_source(client, seed):
    opinion = Opinion.objects.get(position=3)
    response = client.get(opinion.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert opinion.body in html
    trail = [node.short_label for node in opinion.breadcrumbs]
    assert trail == ["第1期評価", "第1期の成果", "横展開"]
    crumbs = html.split('class="breadcrumbs')[1].split("</nav>")[0]
    assert all(label in crumbs for label in trail)
    assert "参考資料１「第１回、第２回における主なご意見」" in html


def test_detail_of_an_unpublished_remark_is_not_found(client):
    hidden = OpinionFactory(status=Opinion.Status.HIDDEN)
    assert client.get(hidden.get_absolute_url()).status_code == 404
    assert client.get(reverse("opinions:opinion-detail", args=[987654])).status_code == 404


def test_remark_text_is_escaped(client):
    OpinionFactory(body='<script>alert("x")</script>')
    html = client.get(LIST).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_pages_are_in_japanese(client, seed):
    html = client.get(LIST).content.decode()
    assert '<html lang="ja">' in html
    assert "<title>意見一覧 | 有識者会議 意見ポータル</title>" in html


def test_home_redirects_to_the_theme_index(client):
    assert client.get("/").url == reverse("opinions:theme-index")


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "ログイン" in response.content.decode()
