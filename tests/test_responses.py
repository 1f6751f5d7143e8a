"""The response ledger: model constraints, the services' rules, the workbench and the public
side (detail, list facet and marker, theme page, マイページ, mail, API)."""

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse

from opinions import roles
from opinions.models import Opinion, Response, ResponseCategory, ResponseRemark
from opinions.responses import selectors, services
from tests.factories import (
    OpinionFactory,
    PolicyDocumentFactory,
    ResponseFactory,
    StakeholderFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def staff(name):
    user = UserFactory(username=name, is_staff=True, email=f"{name}@example.jp")
    user.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    return user


def member(name):
    user = UserFactory(username=name, email=f"{name}@example.jp")
    user.groups.add(Group.objects.get(name=roles.MEMBER))
    return user


def category(slug="reflected"):
    return ResponseCategory.objects.get(slug=slug)


@pytest.fixture
def writer():
    return staff("writer")


@pytest.fixture
def checker():
    return staff("checker")


def drafted(remarks, by, *, reasoning="ご意見を踏まえ、第2期戦略に盛り込みました。", references=()):
    response = services.group_remarks(remarks=remarks, by=by)
    return services.save_response(
        response.pk,
        by=by,
        expected_version=Response.objects.get(pk=response.pk).version,
        category=category(),
        reasoning=reasoning,
        memo="内部メモ：課長確認済み",
        references=references,
    )


def published(remarks, writer, checker, **kwargs):
    response = drafted(remarks, writer, **kwargs)
    response = services.confirm_response(response.pk, by=checker, expected_version=response.version)
    return services.publish_response(response.pk, by=checker, expected_version=response.version)


# --- Model ---------------------------------------------------------------------------------


def test_the_five_categories_are_seeded_in_order():
    assert list(ResponseCategory.objects.values_list("name", flat=True)) == [
        "反映済み",
        "一部反映",
        "今後の検討課題",
        "参考として承る",
        "対応しない",
    ]


def test_the_database_refuses_a_confirmation_by_the_author(writer):
    response = ResponseFactory(author=writer)
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.filter(pk=response.pk).update(
            state="confirmed", reviewer=writer, reviewed_at="2026-01-01T00:00Z"
        )


def test_the_database_refuses_a_published_response_without_reasoning(writer, checker):
    response = ResponseFactory(author=writer, reasoning="")
    with pytest.raises(IntegrityError), transaction.atomic():
        Response.objects.filter(pk=response.pk).update(
            state="published",
            reviewer=checker,
            reviewed_at="2026-01-01T00:00Z",
            published_at="2026-01-01T00:00Z",
        )


def test_a_remark_is_answered_by_at_most_one_response(writer):
    remark = OpinionFactory()
    ResponseRemark.objects.create(response=ResponseFactory(author=writer), opinion=remark)
    with pytest.raises(IntegrityError), transaction.atomic():
        ResponseRemark.objects.create(response=ResponseFactory(author=writer), opinion=remark)


def test_every_change_is_in_the_history(writer):
    response = drafted([OpinionFactory()], writer)
    assert response.history.count() >= 2
    assert response.history.first().reasoning == response.reasoning


# --- Services ------------------------------------------------------------------------------


def test_grouping_puts_the_remarks_under_the_response_one_of_them_has(writer):
    first, second, third = OpinionFactory.create_batch(3)
    response = drafted([first], writer)
    grouped = services.group_remarks(remarks=[second, first, third], by=writer)
    assert grouped.pk == response.pk
    assert set(grouped.remarks.values_list("pk", flat=True)) == {first.pk, second.pk, third.pk}


def test_remarks_grouped_in_later_need_another_look(writer):
    first, second = OpinionFactory.create_batch(2)
    response = drafted([first], writer)
    services.group_remarks(remarks=[first, second], by=writer)
    looks = {link.opinion_id: link.needs_look for link in response.links.select_related("opinion")}
    assert looks == {first.pk: False, second.pk: True}


def test_a_remark_revised_after_its_response_needs_another_look(writer):
    remark = OpinionFactory()
    response = drafted([remark], writer)
    remark.body = "修正した意見の本文です。"
    remark.save()
    assert response.links.select_related("opinion").get().needs_look


def test_ungrouping_the_last_remark_deletes_the_empty_draft(writer):
    remark = OpinionFactory()
    response = drafted([remark], writer)
    assert services.ungroup_remarks(remarks=[remark], by=writer) == 1
    assert not Response.objects.filter(pk=response.pk).exists()


def test_bulk_category_creates_drafts_and_leaves_confirmed_ones(writer, checker):
    loose, confirmed_remark = OpinionFactory.create_batch(2)
    response = drafted([confirmed_remark], writer)
    services.confirm_response(response.pk, by=checker, expected_version=response.version)
    result = services.set_category(
        remarks=[loose, confirmed_remark], category=category("noted"), by=writer
    )
    assert (result.created, result.updated, result.skipped) == (1, 0, 1)
    assert loose.response_link.response.category.slug == "noted"
    assert Response.objects.get(pk=response.pk).category.slug == "reflected"


def test_the_author_cannot_confirm_their_own_response(writer):
    response = drafted([OpinionFactory()], writer)
    with pytest.raises(services.NotAllowed):
        services.confirm_response(response.pk, by=writer, expected_version=response.version)


def test_only_a_confirmed_response_can_be_published(writer, checker):
    response = drafted([OpinionFactory()], writer)
    with pytest.raises(services.NotAllowed):
        services.publish_response(response.pk, by=checker, expected_version=response.version)


def test_a_stale_save_is_refused_with_what_changed(writer, checker):
    response = drafted([OpinionFactory()], writer)
    stale = response.version
    services.save_response(
        response.pk,
        by=checker,
        expected_version=stale,
        category=category("noted"),
        reasoning="別の考え方",
        memo="",
        references=[],
    )
    with pytest.raises(services.ResponseConflict) as raised:
        services.save_response(
            response.pk,
            by=writer,
            expected_version=stale,
            category=category(),
            reasoning="古い版からの編集",
            memo="",
            references=[],
        )
    labels = {label for label, _old, _new in raised.value.changes}
    assert {"対応区分", "考え方"} <= labels


def test_publishing_mails_the_authors_of_the_remarks(
    writer, checker, django_capture_on_commit_callbacks
):
    author = member("iin")
    remark = OpinionFactory(author=author)
    with django_capture_on_commit_callbacks(execute=True):
        published([remark], writer, checker)
    assert [message.to for message in mail.outbox] == [["iin@example.jp"]]
    assert "ご意見を踏まえ" in mail.outbox[0].body
    assert "内部メモ" not in mail.outbox[0].body


def test_returning_to_draft_takes_a_response_off_the_public_pages(client, writer, checker):
    remark = OpinionFactory()
    response = published([remark], writer, checker)
    services.return_to_draft(response.pk, by=checker, expected_version=response.version)
    assert "ご意見を踏まえ" not in client.get(remark.get_absolute_url()).content.decode()


# --- Public side ---------------------------------------------------------------------------


def test_the_detail_page_shows_the_published_response_with_the_other_remarks(
    client, writer, checker
):
    document = PolicyDocumentFactory(title="第2期まち・ひと・しごと創生総合戦略")
    first, second = OpinionFactory.create_batch(2)
    published(
        [first, second],
        writer,
        checker,
        references=[services.Reference(document=document, section="第3章 2", page=12)],
    )
    html = client.get(first.get_absolute_url()).content.decode()
    assert "ご意見を踏まえ" in html and "反映済み" in html
    assert "第3章 2" in html and "p.12" in html
    assert second.get_absolute_url() in html
    assert "内部メモ" not in html


def test_a_draft_or_confirmed_response_is_not_on_the_detail_page(client, writer, checker):
    remark = OpinionFactory()
    response = drafted([remark], writer)
    assert "ご意見を踏まえ" not in client.get(remark.get_absolute_url()).content.decode()
    services.confirm_response(response.pk, by=checker, expected_version=response.version)
    assert "ご意見を踏まえ" not in client.get(remark.get_absolute_url()).content.decode()


def test_the_list_facet_counts_published_responses_only(client, writer, checker):
    answered, drafted_remark, _loose = OpinionFactory.create_batch(3)
    published([answered], writer, checker)
    drafted([drafted_remark], writer)
    facet = {o.value: o.count for o in client.get("/opinions/").context["response_facet"]}
    assert facet["reflected"] == 1 and facet["none"] == 2


def test_each_facet_count_is_what_choosing_it_lists(client, writer, checker):
    """With other filters and a search, each 対応区分 option's count is the number of remarks
    the list shows once it is chosen: published categories from the response links, 「対応の
    公表前」 the rest (drafts, the ungrouped, a remark another filter leaves out)."""
    from tests.pages import fresh_get

    women = StakeholderFactory(slug="women-facet")
    answered = OpinionFactory.create_batch(3, body="地方の女性の就業について検討が必要である。")
    drafted_remark, loose = OpinionFactory.create_batch(2, body="地方の女性の就業環境の整備。")
    for remark in [*answered, drafted_remark, loose]:
        remark.stakeholders.add(women)
    OpinionFactory(body="地方の交通について。")  # left out by the tag filter
    published(answered[:2], writer, checker)
    drafted([drafted_remark], writer)
    query = {"q": "女性", "stakeholder": women.slug}
    facet = {
        o.value: o.count for o in fresh_get(client, "/opinions/", query).context["response_facet"]
    }
    assert facet["reflected"] == 2 and facet["none"] == 3
    for value, count in facet.items():
        shown = fresh_get(client, "/opinions/", {**query, "response": value}).context["paginator"]
        assert shown.count == count, value


def test_the_list_filters_by_category_and_marks_the_rows(client, writer, checker):
    answered, _other = OpinionFactory.create_batch(2)
    published([answered], writer, checker)
    response = client.get("/opinions/", {"response": "reflected"})
    assert [o.pk for o in response.context["object_list"]] == [answered.pk]
    assert "response-marker" in response.content.decode()


def test_an_unknown_category_is_dropped_with_a_notice(client):
    OpinionFactory()
    response = client.get("/opinions/", {"response": "nonexistent"}, follow=True)
    assert response.context["paginator"].count == 1
    assert "見つからないため無視しました" in response.content.decode()


def test_the_theme_page_counts_remarks_by_category(client, writer, checker):
    theme = ThemeFactory()
    remarks = OpinionFactory.create_batch(2, theme=theme)
    published(remarks[:1], writer, checker)
    bars = {
        bar.label: bar.count
        for bar in client.get(theme.get_absolute_url()).context["category_bars"]
    }
    assert bars["反映済み"] == 1 and bars["一部反映"] == 0


def test_members_see_published_responses_to_their_remarks_on_mypage(client, writer, checker):
    author = member("iin")
    mine = OpinionFactory(author=author)
    published([mine], writer, checker)
    client.force_login(author)
    html = client.get(reverse("opinions:mypage")).content.decode()
    assert "ご意見を踏まえ" in html and "内部メモ" not in html


def test_the_api_lists_published_responses_without_memo(client, writer, checker):
    public = published([OpinionFactory()], writer, checker)
    drafted([OpinionFactory()], writer)
    results = client.get(reverse("opinions:api-response-list")).json()["results"]
    assert [item["id"] for item in results] == [public.pk]
    assert "memo" not in results[0]


def test_the_api_shows_drafts_to_staff(client, writer):
    draft = drafted([OpinionFactory()], writer)
    client.force_login(writer)
    results = client.get(reverse("opinions:api-response-list")).json()["results"]
    assert [item["id"] for item in results] == [draft.pk]


# --- Workbench -----------------------------------------------------------------------------


def test_the_workbench_filters_by_state(client, writer):
    answered, _loose = OpinionFactory.create_batch(2)
    drafted([answered], writer)
    client.force_login(writer)
    rows = client.get(reverse("opinions:response-workbench"), {"state": "draft"}).context["rows"]
    assert [opinion.pk for opinion, _link in rows] == [answered.pk]
    rows = client.get(reverse("opinions:response-workbench"), {"state": "none"}).context["rows"]
    assert answered.pk not in [opinion.pk for opinion, _link in rows]


def test_the_workbench_shows_progress_per_theme(client, writer):
    theme = ThemeFactory()
    remarks = OpinionFactory.create_batch(4, theme=theme)
    drafted(remarks[:1], writer)
    client.force_login(writer)
    progress = client.get(reverse("opinions:response-workbench")).context["progress"]
    node = next(p for p in progress if p.theme.pk == theme.pk)
    assert (node.answered, node.total) == (1, 4)


def test_grouping_from_the_workbench_opens_the_response(client, writer):
    first, second = OpinionFactory.create_batch(2)
    client.force_login(writer)
    response = client.post(
        reverse("opinions:response-bulk"), {"action": "group", "remarks": [first.pk, second.pk]}
    )
    created = Response.objects.get()
    assert response.url == created.get_absolute_url()
    assert set(created.remarks.values_list("pk", flat=True)) == {first.pk, second.pk}


def test_bulk_category_without_a_category_says_so(client, writer):
    remark = OpinionFactory()
    client.force_login(writer)
    response = client.post(
        reverse("opinions:response-bulk"),
        {"action": "category", "remarks": [remark.pk]},
        follow=True,
    )
    assert "設定する対応区分を選んでください。" in response.content.decode()
    assert not Response.objects.exists()


def test_a_bad_page_number_keeps_the_typed_text_with_the_error(client, writer):
    response = drafted([OpinionFactory()], writer)
    client.force_login(writer)
    page = client.post(
        response.get_absolute_url(),
        {
            "action": "save",
            "version": response.version,
            "category": category().pk,
            "reasoning": "入力途中の考え方",
            "memo": "",
            "ref-TOTAL_FORMS": "1",
            "ref-INITIAL_FORMS": "0",
            "ref-0-document": PolicyDocumentFactory().pk,
            "ref-0-page": "十二",
        },
    )
    html = page.content.decode()
    assert page.status_code == 200
    assert "ページは数字で入力してください。" in html and "入力途中の考え方" in html


def test_a_stale_edit_shows_what_changed_and_keeps_the_typed_text(client, writer, checker):
    response = drafted([OpinionFactory()], writer)
    stale = response.version
    services.save_response(
        response.pk,
        by=checker,
        expected_version=stale,
        category=category("noted"),
        reasoning="ほかの人の考え方",
        memo="",
        references=[],
    )
    client.force_login(writer)
    page = client.post(
        response.get_absolute_url(),
        {
            "action": "save",
            "version": stale,
            "category": category().pk,
            "reasoning": "私の考え方",
            "memo": "",
            "ref-TOTAL_FORMS": "0",
            "ref-INITIAL_FORMS": "0",
        },
    )
    html = page.content.decode()
    assert "ほかの人がこの対応を変更しました" in html
    assert "私の考え方" in html and "ほかの人の考え方" in html


def test_confirm_by_a_second_member_and_publish_from_the_edit_page(client, writer, checker):
    response = drafted([OpinionFactory()], writer)
    client.force_login(checker)
    client.post(response.get_absolute_url(), {"action": "confirm", "version": response.version})
    response.refresh_from_db()
    assert response.state == "confirmed" and response.reviewer == checker
    client.post(response.get_absolute_url(), {"action": "publish", "version": response.version})
    response.refresh_from_db()
    assert response.state == "published"


@pytest.mark.parametrize("count", [3, 30])
def test_workbench_queries_do_not_grow_with_the_remarks(
    client, writer, django_assert_max_num_queries, count
):
    theme = ThemeFactory()
    remarks = OpinionFactory.create_batch(count, theme=theme)
    for remark in remarks[: count // 2]:
        drafted([remark], writer)
    client.force_login(writer)
    with django_assert_max_num_queries(25):
        assert client.get(reverse("opinions:response-workbench")).status_code == 200


@pytest.mark.parametrize("count", [3, 30])
def test_edit_page_queries_do_not_grow_with_the_remarks(
    client, writer, django_assert_max_num_queries, count
):
    response = drafted(OpinionFactory.create_batch(count), writer)
    client.force_login(writer)
    with django_assert_max_num_queries(20):
        assert client.get(response.get_absolute_url()).status_code == 200


def test_selector_ledger_shares_one_row_group_per_response(writer, checker):
    theme = ThemeFactory()
    first, loose, second = OpinionFactory.create_batch(3, theme=theme)
    published([first, second], writer, checker)
    ledger = selectors.ledger(Opinion.objects.published())
    rows = [row for section in ledger.sections for row in section.rows]
    assert [row.remark for row in rows] == [first.body, second.body, loose.body]
    assert [row.number for row in rows] == [1, 2, 3]
    assert rows[0].response_id == rows[1].response_id and rows[2].response_id is None


def test_publishing_renews_the_cached_public_pages(client, settings, writer, checker):
    """The ledger's tables carry the data-version triggers: the anonymous page cache never
    serves a page from before a response was published or taken back."""
    settings.OPINIONS_PAGE_CACHE = True
    remark = OpinionFactory()
    assert "ご意見を踏まえ" not in client.get(remark.get_absolute_url()).content.decode()
    response = published([remark], writer, checker)
    assert "ご意見を踏まえ" in client.get(remark.get_absolute_url()).content.decode()
    facet = {o.value: o.count for o in client.get("/opinions/").context["response_facet"]}
    assert facet["reflected"] == 1
    services.return_to_draft(response.pk, by=checker, expected_version=response.version)
    assert "ご意見を踏まえ" not in client.get(remark.get_absolute_url()).content.decode()


def test_the_workbench_and_response_page_in_english(client, writer):
    from tests.test_i18n import assert_english

    response = drafted([OpinionFactory()], writer)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    client.force_login(writer)
    assert_english(client.get(reverse("opinions:response-workbench")), "Progress by theme")
    assert_english(
        client.get(response.get_absolute_url()),
        "Save draft",
        entered=(response.reasoning, response.memo),
    )


@pytest.mark.parametrize("count", [2, 20])
def test_public_pages_with_responses_do_not_grow_in_queries(
    client, writer, checker, django_assert_max_num_queries, count
):
    theme = ThemeFactory()
    author = member("iin")
    remarks = OpinionFactory.create_batch(count, theme=theme, author=author)
    document = PolicyDocumentFactory()
    for remark in remarks:
        published([remark], writer, checker, references=[services.Reference(document=document)])
    with django_assert_max_num_queries(25):
        assert client.get("/opinions/").status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get(theme.get_absolute_url()).status_code == 200
    with django_assert_max_num_queries(25):
        assert client.get(remarks[0].get_absolute_url()).status_code == 200
    client.force_login(author)
    with django_assert_max_num_queries(25):
        assert client.get(reverse("opinions:mypage")).status_code == 200


def test_people_are_named_family_name_first_in_mail_and_on_the_response_page(
    client, writer, checker, django_capture_on_commit_callbacks
):
    author = member("iin")
    author.last_name, author.first_name = "田中", "太郎"
    author.save()
    writer.last_name, writer.first_name = "鈴木", "花子"
    writer.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = published([OpinionFactory(author=author)], writer, checker)
    assert mail.outbox[0].body.startswith("田中 太郎 様")
    client.force_login(checker)
    html = client.get(response.get_absolute_url()).content.decode()
    assert "作成者: 鈴木 花子" in html and "確認者: checker" in html  # no name: the username
