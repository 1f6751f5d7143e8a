"""The faceted list, theme pages, the cross-tab and the detail page."""

import itertools

import pytest
from django.urls import reverse
from django.utils.html import strip_tags

from opinions.browsing.selection import list_url
from opinions.models import MunicipalitySize, Opinion, Stakeholder, Theme
from tests.factories import (
    MeetingFactory,
    MunicipalitySizeFactory,
    OpinionFactory,
    SectionFactory,
    SourceDocumentFactory,
    StakeholderFactory,
    SubthemeFactory,
    ThemeFactory,
)
from tests.pages import fresh_get

pytestmark = pytest.mark.django_db

LIST = reverse("opinions:opinion-list")


def shown(response):
    return set(response.context["paginator"].object_list)


def facet(response, name):
    return {option.value: option for option in getattr(response.context["facets"], name)}


# --- Filters --------------------------------------------------------------------------


def test_each_filter_alone_on_the_seed(client, seed):
    cases = {
        "theme=dai2ki-theme": 22,
        "theme=jichitai-kadai": 6,
        "size=small-municipality": 7,
        "size=small-municipality&size=small-town": 7,  # #18 carries both
        "stakeholder=women": 4,
        "stakeholder=women&stakeholder=youth": 9,  # #48 carries both
        "document=" + Opinion.objects.first().source_document.slug: 68,
        "meeting=1": 68,  # through the document that covers it
        "q=女性": 4,  # bodies containing 女性 in the document
    }
    for params, count in cases.items():
        response = client.get(f"{LIST}?{params}")
        assert response.context["paginator"].count == count, params


def test_filters_combine_across_facets(client, seed):
    response = client.get(LIST, {"stakeholder": ["women", "youth"], "size": "tokyo-area"})
    assert {o.position for o in shown(response)} == {27, 34, 51}
    response = client.get(LIST, {"theme": "dai1ki-kensho", "stakeholder": "women", "q": "東京"})
    assert {o.position for o in shown(response)} == {34}


def test_meeting_filter_finds_direct_and_documented_remarks(client):
    meeting = MeetingFactory()
    document = SourceDocumentFactory(committee=meeting.committee)
    document.meetings.add(meeting)
    direct = OpinionFactory(meeting=meeting)
    documented = OpinionFactory(source_document=document, position=1)
    OpinionFactory()
    assert shown(client.get(LIST, {"meeting": meeting.pk})) == {direct, documented}


def test_facet_counts_equal_brute_force_counts(client, seed):
    """Each option's count is the size of the result when that option replaces the facet's
    own selection, with every other filter kept."""
    params = {"stakeholder": ["government"], "size": ["small-municipality"], "q": "自治体"}
    response = client.get(LIST, params)
    checks = [
        ("theme", [t.slug for t in Theme.objects.all()]),
        ("size", list(MunicipalitySize.objects.values_list("slug", flat=True))),
        ("stakeholder", list(Stakeholder.objects.values_list("slug", flat=True))),
    ]
    for name, values in checks:
        options = facet(response, name)
        for value in values:
            brute = fresh_get(client, LIST, {**params, name: value}).context["paginator"].count
            assert options[value].count == brute, (name, value)
            assert options[value].disabled == (brute == 0 and not options[value].selected)


def test_zero_options_are_shown_but_disabled(client, seed):
    response = client.get(LIST, {"theme": "sdgs"})
    women = facet(response, "stakeholder")["women"]
    assert women.count == 0 and women.disabled
    html = response.content.decode()
    assert 'value="women" id="id_stakeholder_15" disabled' in html


def test_result_count_chips_and_clear_all(client, seed):
    response = client.get(LIST, {"stakeholder": ["women", "youth"], "q": "地方"})
    html = response.content.decode()
    chips = response.context["chips"]
    assert [(facet_label, value) for facet_label, value, *_ in chips] == [
        ("キーワード", "地方"),
        ("関係者", "若者・高校生"),
        ("関係者", "女性"),
    ] or [(f, v) for f, v, *_ in chips] == [
        ("キーワード", "地方"),
        ("関係者", "女性"),
        ("関係者", "若者・高校生"),
    ]
    women_chip = next(url for f, value, url, _ in chips if value == "女性")
    assert "stakeholder=youth" in women_chip and "stakeholder=women" not in women_chip
    assert "条件をすべてクリア" in html
    assert f"{response.context['paginator'].count} 件の意見" in html


def test_sort_newest_and_relevance(client):
    old = OpinionFactory(body="女性")
    new = OpinionFactory(body="女性と女性と女性")
    Opinion.objects.filter(pk=old.pk).update(created_at="2020-01-01T00:00Z")
    assert list(client.get(LIST, {"sort": "newest"}).context["object_list"]) == [new, old]
    assert list(client.get(LIST, {"q": "女性", "sort": "relevance"}).context["object_list"]) == [
        new,
        old,
    ]
    labels = [label for _, label, _, _ in client.get(LIST).context["sort_choices"]]
    assert "関連度順" not in labels  # only when searching


def test_pagination_and_sort_links_keep_every_filter(client):
    tag = StakeholderFactory(slug="women")
    theme = ThemeFactory(slug="jinzai")
    for opinion in OpinionFactory.create_batch(51, theme=theme, body="女性の意見"):
        opinion.stakeholders.add(tag)
    html = client.get(
        LIST, {"theme": "jinzai", "stakeholder": "women", "q": "女性"}
    ).content.decode()
    assert 'href="?theme=jinzai&amp;stakeholder=women&amp;q=%E5%A5%B3%E6%80%A7&amp;page=2"' in html
    assert "?theme=jinzai&amp;stakeholder=women&amp;q=%E5%A5%B3%E6%80%A7&amp;sort=newest" in html


@pytest.mark.parametrize("params", [{}, {"sort": "newest"}, {"q": "女性", "sort": "relevance"}])
def test_every_page_holds_the_next_rows_of_the_whole_order(client, params):
    """Read ids first and rows after, the pages still partition the list in its order."""
    document = SourceDocumentFactory()
    for position in range(105):
        OpinionFactory(
            body="女性" * (1 + position % 4), source_document=document, position=position
        )
    # Submitted remarks, without a document or a position: last in the document order
    # (NULLS LAST), first when a page is read in the reversed order.
    OpinionFactory.create_batch(15, body="女性の提案", source_document=None, position=None)
    # The whole order in one page: the API's, which has no skip below 200.
    api = reverse("opinions:api-opinion-list")
    whole = [row["id"] for row in client.get(api, {**params, "page_size": 200}).json()["results"]]
    pages = [
        [opinion.pk for opinion in client.get(LIST, {**params, "page": n}).context["object_list"]]
        for n in (1, 2, 3)
    ]
    assert len(whole) == 120
    assert pages == [whole[:50], whole[50:100], whole[100:]]


def test_a_deep_page_skips_over_ids_alone(client, django_assert_max_num_queries):
    """The rows a deep page skips are read as ids only (their bodies would be read whole
    and thrown away: 7.7 s for the last page at a million remarks, 276 ms as ids)."""
    OpinionFactory.create_batch(120)
    with django_assert_max_num_queries(40) as seen:
        page = client.get(LIST, {"page": 2}).context["object_list"]
    assert len(page) == 50
    skipping = [q["sql"] for q in seen.captured_queries if "OFFSET 50" in q["sql"]]
    assert len(skipping) == 1
    selected = skipping[0].split(" FROM ")[0]
    assert "body" not in selected and "search_text" not in selected


def test_a_page_past_the_middle_is_read_from_the_end_of_the_list(
    client, django_assert_max_num_queries
):
    """The last page skips nothing: it is the first rows of the reversed order, put back
    in the list's order."""
    OpinionFactory.create_batch(120)
    with django_assert_max_num_queries(40) as seen:
        page = client.get(LIST, {"page": 3}).context["object_list"]
    order = Opinion.objects.filter(status="published").in_document_order()
    assert [opinion.pk for opinion in page] == list(order.values_list("pk", flat=True)[100:])
    ids = [q["sql"] for q in seen.captured_queries if "LIMIT 20" in q["sql"]]
    assert len(ids) == 1 and "DESC" in ids[0] and "OFFSET" not in ids[0]


def test_a_nul_byte_in_a_parameter_is_the_400_page(client, seed):
    """NUL is no character of any search or slug (PostgreSQL text cannot hold it)."""
    response = client.get(LIST, {"q": "\x00"})
    assert response.status_code == 400
    assert "リクエストが正しくありません" in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"theme": "no-such-theme"},
        {"size": "nope"},
        {"stakeholder": ["women", "nope"]},
        {"document": "missing"},
        {"meeting": "abc"},
        {"meeting": "99999"},
        {"sort": "sideways"},
        {"page": "abc"},
        {"page": "99999"},
        {"q": "あ" * 10_000},
        {"theme": "x" * 10_000, "size": "y" * 10_000},
    ],
)
def test_malformed_parameters_never_break_the_list(client, seed, params):
    response = client.get(LIST, params)
    assert response.status_code == 200
    assert response.context["paginator"].count >= 1 or "q" in params
    assert 'class="messages"' in response.content.decode()  # a visible notice


def test_unknown_tag_value_keeps_the_known_one(client, seed):
    response = client.get(LIST, {"stakeholder": ["women", "nope"]})
    assert response.context["paginator"].count == 4
    assert "「nope」は見つからないため無視しました" in response.content.decode()


def test_search_results_show_highlighted_escaped_snippets(client):
    OpinionFactory(body="<b>女性</b>の就業")
    html = client.get(LIST, {"q": "女性"}).content.decode()
    assert "&lt;b&gt;<mark>女性</mark>&lt;/b&gt;の就業" in html


def test_synonym_expansion_is_announced(client, seed):
    html = client.get(LIST, {"q": "地方公共団体"}).content.decode()
    text = strip_tags(html)  # the words are marked lang="ja" (for the English page)
    assert "「地方公共団体」を同義語" in text


def test_hidden_and_pending_never_count(client):
    theme = ThemeFactory(slug="t")
    tag = StakeholderFactory(slug="women")
    for status in ("pending", "hidden"):
        OpinionFactory(theme=theme, status=status, body="秘密の女性").stakeholders.add(tag)
    response = client.get(LIST, {"q": "秘密"})
    assert response.context["paginator"].count == 0
    assert facet(response, "stakeholder")["women"].count == 0
    assert facet(response, "theme")["t"].count == 0
    assert "秘密" not in client.get(reverse("opinions:theme-detail", args=["t"])).content.decode()
    crosstab = client.get(reverse("opinions:crosstab")).context["table"]
    assert all(count == 0 for _, cells in crosstab.rows for count, _ in cells)


# --- Theme pages ------------------------------------------------------------------------


def test_a_short_theme_lists_every_remark_and_a_long_one_five_per_node(client):
    theme = SubthemeFactory(slug="kaso")
    OpinionFactory.create_batch(100, theme=theme)
    page = reverse("opinions:theme-detail", args=["kaso"])
    [(_node, shown_remarks)] = fresh_get(client, page).context["summary"].opinions_by_node
    assert len(shown_remarks) == 100  # read, and printed, whole
    OpinionFactory(theme=theme)
    response = fresh_get(client, page)
    [(_node, shown_remarks)] = response.context["summary"].opinions_by_node
    assert len(shown_remarks) == 5
    assert "101 件すべてを一覧で見る" in response.content.decode()


def test_theme_index_lists_the_tree_with_counts(client, seed):
    response = client.get(reverse("opinions:theme-index"))
    html = response.content.decode()
    counts = {node.theme.slug: node.count for node in response.context["nodes"]}
    assert counts["dai1ki-hyoka"] == 46 and counts["dai2ki-theme"] == 22
    assert counts["global"] == counts["sports-kenko"] == counts["shoshika-zensedai"] == 0
    assert html.count("意見なし") == 3


def test_theme_page_shows_subthemes_charts_and_grouped_remarks(client, seed):
    response = client.get(reverse("opinions:theme-detail", args=["dai1ki-kadai"]))
    html = response.content.decode()
    summary = response.context["summary"]
    assert summary.node.count == 17
    assert [(n.theme.short_label, n.count) for n in summary.subtree[1:]] == [
        ("自治体の課題", 6),
        ("地域の課題", 2),
        ("規模別の課題", 6),
        ("広域連携", 3),
    ]
    bars = {bar.label: bar for bar in summary.size_bars}
    assert bars["小規模自治体"].count == 5
    assert bars["小規模自治体"].url == list_url(theme="dai1ki-kadai", size="small-municipality")
    assert html.count('class="chart__svg"') == 2 and 'role="group"' in html
    assert "<table" in html and "小規模自治体</a></th><td>5</td>" in html
    assert sum(len(opinions) for _, opinions in summary.opinions_by_node) == 17
    assert "＜地域の課題＞" in html


def test_theme_page_of_an_empty_theme(client, seed):
    response = client.get(reverse("opinions:theme-detail", args=["global"]))
    assert response.status_code == 200 and "意見なし" in response.content.decode()
    assert client.get(reverse("opinions:theme-detail", args=["no-such"])).status_code == 404


def test_crosstab_cells_link_to_the_filtered_list(client, seed):
    response = client.get(reverse("opinions:crosstab"), {"axis": "stakeholder"})
    table = response.context["table"]
    row = next(cells for node, cells in table.rows if node.theme.slug == "dai1ki-kensho")
    column = [tag.slug for tag in table.columns].index("women")
    count, url = row[column]
    assert count == 2  # #34 and #35
    assert url == list_url(theme="dai1ki-kensho", stakeholder="women")
    assert client.get(url).context["paginator"].count == 2
    assert client.get(reverse("opinions:crosstab"), {"axis": "size"}).status_code == 200
    assert client.get(reverse("opinions:crosstab"), {"axis": "bogus"}).status_code == 404


# --- Detail -------------------------------------------------------------------------------


def test_detail_links_tags_neighbours_and_related(client, seed):
    opinion = Opinion.objects.get(position=34)
    response = client.get(opinion.get_absolute_url())
    html = response.content.decode()
    assert response.context["previous"].position == 33
    assert response.context["next"].position == 35
    related = response.context["related"]
    assert 1 <= len(related) <= 5 and opinion not in related
    assert Opinion.objects.get(position=35) in related  # same theme, both about 女性
    assert 'href="/opinions/?stakeholder=women"' in html
    assert f"http://testserver/opinions/{opinion.pk}/" in html


def test_related_remarks_before_analysis_rank_the_same_from_the_rows_and_the_tag_tables(
    seed, monkeypatch
):
    """Not analysed yet: shared tags, theme and wording. PostgreSQL reads the candidates' tag
    ids from their rows (the count tables' key columns), elsewhere from the tag tables."""
    from opinions.browsing import counts
    from opinions.selectors.detail import related_opinions

    visible = Opinion.objects.published()
    for opinion in Opinion.objects.filter(position__in=[3, 17, 34, 50]):
        ranked = [other.pk for other in related_opinions(opinion, visible)]
        with monkeypatch.context() as patched:
            patched.setattr(counts, "available", lambda: False)
            assert [other.pk for other in related_opinions(opinion, visible)] == ranked
        assert 1 <= len(ranked) <= 5 and opinion.pk not in ranked


def test_cards_list_each_remarks_tags_as_its_relations_do_from_rows_or_tag_tables(
    seed, monkeypatch
):
    """The cards' tags are picked from each vocabulary (browsing.cards): the same tags in
    the same order as the many-to-many gives them, inactive ones included, whether the ids
    come from the rows (PostgreSQL) or the tag tables."""
    from opinions.browsing import cards, counts

    Stakeholder.objects.filter(pk=Stakeholder.objects.first().pk).update(is_active=False)
    remarks = list(Opinion.objects.order_by("pk"))
    expected = [(list(o.municipality_sizes.all()), list(o.stakeholders.all())) for o in remarks]
    assert any(sizes and stakeholders for sizes, stakeholders in expected)
    for rows_carry_ids in (True, False):
        with monkeypatch.context() as patched:
            if not rows_carry_ids:
                patched.setattr(counts, "available", lambda: False)
            attached = cards.attach_tags(list(Opinion.objects.order_by("pk")))
        got = [(o.card_tags["size"], o.card_tags["stakeholder"]) for o in attached]
        assert got == expected


def test_first_remark_has_no_previous(client, seed):
    response = client.get(Opinion.objects.get(position=1).get_absolute_url())
    assert response.context["previous"] is None
    assert response.context["next"].position == 2


def test_neighbours_step_over_remarks_the_reader_may_not_see(client, seed):
    Opinion.objects.filter(position__in=[33, 35]).update(status=Opinion.Status.PENDING)
    response = client.get(Opinion.objects.get(position=34).get_absolute_url())
    assert response.context["previous"].position == 32
    assert response.context["next"].position == 36


# --- Query counts -------------------------------------------------------------------------


def more_venues(tags=None) -> dict:
    """Documents covering several meetings, and meetings of several committees (so a page
    that looked up a remark's meeting, committee or document per row would show it)."""
    tags = tags if tags is not None else {"documents": [], "meetings": []}
    document = SourceDocumentFactory()
    document.meetings.add(*MeetingFactory.create_batch(2, committee=document.committee))
    tags["documents"].append(document)
    tags["meetings"] += MeetingFactory.create_batch(2)  # each of its own committee
    return tags


def populate(count, *, start=0, tags=None):
    """``count`` published remarks over a theme and a subtheme, each with a size and 1–4
    stakeholders, in documents and at meetings of several committees (bulk-inserted: the
    point is the number of rows, not how they were made)."""
    if tags is None:
        section = SectionFactory()
        tags = {
            "themes": [ThemeFactory(parent=section), SubthemeFactory(parent__parent=section)],
            "sizes": MunicipalitySizeFactory.create_batch(3),
            "stakeholders": StakeholderFactory.create_batch(4),
            **more_venues(),
        }
        tags["document"] = tags["documents"][0]
    documents, meetings = tags["documents"], [None, *tags["meetings"]]
    opinions = Opinion.objects.bulk_create(
        Opinion(
            body=f"女性と地方{index}",
            search_text=f"女性と地方{index}",
            theme=theme,
            source_document=documents[index % len(documents)],
            meeting=meetings[index % len(meetings)],
            position=index + 1,
            status=Opinion.Status.PUBLISHED,
        )
        for index, theme in zip(
            range(start, start + count), itertools.cycle(tags["themes"]), strict=False
        )
    )
    Opinion.municipality_sizes.through.objects.bulk_create(
        Opinion.municipality_sizes.through(opinion=o, municipalitysize=tags["sizes"][i % 3])
        for i, o in enumerate(opinions)
    )
    Opinion.stakeholders.through.objects.bulk_create(
        Opinion.stakeholders.through(opinion=o, stakeholder=s)
        for i, o in enumerate(opinions)
        for s in tags["stakeholders"][: 1 + i % 4]
    )
    return opinions, tags


PAGES = [
    lambda o, t: LIST,
    lambda o, t: (
        f"{LIST}?q=女性&stakeholder={t['stakeholders'][0].slug}"
        f"&theme={t['themes'][0].parent.slug}&sort=relevance"
    ),
    lambda o, t: o[3].get_absolute_url(),
    lambda o, t: reverse("opinions:theme-index"),
    lambda o, t: t["themes"][0].parent.get_absolute_url(),
    lambda o, t: reverse("opinions:crosstab"),
    lambda o, t: reverse("opinions:crosstab") + "?axis=size",
    lambda o, t: (
        reverse("opinions:crosstab") + f"?axis=size-stakeholder&document={t['document'].slug}"
    ),
    lambda o, t: f"{LIST}?size=_none&stakeholder={t['stakeholders'][0].slug}",
    # Nothing found: the nearest queries are proposed, from counts already made.
    lambda o, t: f"{LIST}?q=女性&size={t['sizes'][0].slug}&stakeholder=_none",
    lambda o, t: reverse("opinions:gaps"),
]


@pytest.mark.parametrize("page", range(len(PAGES)))
def test_query_count_is_the_same_at_10_and_200_remarks(client, page, django_assert_max_num_queries):
    created, tags = populate(10)
    url = PAGES[page](created, tags)
    # A ceiling for any page (SQLite, counting the remarks facet by facet — untagged and
    # 対応区分 options included — is the most);
    # what matters is that 200 remarks and more tags take no more queries than 10.
    with django_assert_max_num_queries(35) as at_ten:
        assert client.get(url).status_code == 200
    more_venues(tags)  # more documents, meetings and committees among the next remarks
    populate(190, start=10, tags=tags)
    tags["stakeholders"] += StakeholderFactory.create_batch(5)  # more tags, too
    with django_assert_max_num_queries(len(at_ten.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200


def anonymous_request(path: str):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    SessionMiddleware(lambda r: None).process_request(request)
    request.user = AnonymousUser()
    request._messages = FallbackStorage(request)
    request.LANGUAGE_CODE = "ja"
    return request


@pytest.mark.parametrize("page", range(len(PAGES)))
def test_templates_run_no_queries(page, settings, django_assert_num_queries):
    """Everything a page shows is fetched by its view: rendering it asks the database
    nothing (a template that follows a relation would ask once per row)."""
    from django.urls import resolve

    settings.OPINIONS_PAGE_CACHE = False  # the view, not a cached page
    created, tags = populate(10)
    url = PAGES[page](created, tags)
    request = anonymous_request(url)
    match = resolve(request.path)
    response = match.func(request, *match.args, **match.kwargs)
    assert response.status_code == 200
    with django_assert_num_queries(0):
        response.render()


def test_a_deactivated_tag_stays_in_the_analysis_pages_marked_inactive(client):
    """Deactivating a tag stops offering it; its remarks still count where they are counted."""
    theme = ThemeFactory()
    retired = StakeholderFactory(name="旧区分", is_active=False)
    unused = StakeholderFactory(name="使われていない旧区分", is_active=False)
    opinion = OpinionFactory(theme=theme)
    opinion.stakeholders.add(retired)
    for url in (reverse("opinions:crosstab"), theme.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "旧区分" in html and "（無効）" in html, url
        assert unused.name not in html, url
    facets = client.get(reverse("opinions:opinion-list")).context["facets"]
    option = next(o for o in facets.stakeholder if o.label == "旧区分")
    assert (option.count, option.active) == (1, False)


def test_a_filter_address_with_empty_parameters_redirects_to_its_clean_form(client):
    response = client.get(reverse("opinions:opinion-list") + "?q=&theme=&size=a&size=&sort=")
    assert response.status_code == 302
    assert response.url == reverse("opinions:opinion-list") + "?size=a"
    response = client.get(reverse("opinions:opinion-list") + "?q=&theme=")
    assert response.url == reverse("opinions:opinion-list")
