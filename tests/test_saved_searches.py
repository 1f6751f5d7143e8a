"""Saved searches: saved from the list, listed on マイページ, a daily digest and an Atom
feed of new published remarks that match, never of unpublished ones."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from opinions import roles
from opinions.models import Opinion, SavedSearch
from opinions.saved_searches import save_search, send_digests, set_alert
from tests.factories import OpinionFactory, StakeholderFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("opinions:opinion-list")
MYPAGE = reverse("opinions:mypage")
CREATE = reverse("opinions:saved-search-create")


@pytest.fixture
def member(client):
    user = UserFactory(email="iin@example.jp", first_name="太郎", last_name="田中")
    user.groups.add(Group.objects.get(name=roles.MEMBER))
    client.force_login(user)
    return user


@pytest.fixture
def women():
    return StakeholderFactory(name="女性", slug="women")


def test_the_list_offers_to_save_its_conditions_to_signed_in_users_only(client, member):
    assert 'action="/searches/"' in client.get(LIST).content.decode()
    client.logout()
    assert 'action="/searches/"' not in client.get(LIST).content.decode()


def test_saving_keeps_the_conditions_without_page_sort_or_empty_values(client, member, women):
    response = client.post(
        CREATE, {"name": "女性の活躍", "query": "q=&stakeholder=women&page=3&sort=newest&theme="}
    )
    assert response.url == f"{LIST}?stakeholder=women"
    search = SavedSearch.objects.get()
    assert (search.user, search.name, search.query) == (member, "女性の活躍", "?stakeholder=women")
    html = client.get(MYPAGE).content.decode()
    assert "女性の活躍" in html and f'href="{LIST}?stakeholder=women"' in html


def test_a_name_is_required_and_unique_per_user(client, member):
    response = client.post(CREATE, {"name": "  ", "query": ""}, follow=True)
    assert "保存する名前を入力してください。" in response.content.decode()
    client.post(CREATE, {"name": "交通", "query": "q=交通"})
    response = client.post(CREATE, {"name": "交通", "query": "q=バス"}, follow=True)
    assert "「交通」という名前の検索はもう保存してあります" in response.content.decode()
    assert SavedSearch.objects.count() == 1


def test_anonymous_visitors_cannot_save(client):
    response = client.post(CREATE, {"name": "x", "query": ""})
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not SavedSearch.objects.exists()


def test_only_the_owner_can_change_or_delete_a_search(client, member):
    other = UserFactory()
    theirs = save_search(user=other, name="他人の検索", query="q=交通")
    url = reverse("opinions:saved-search-change", args=[theirs.pk])
    assert client.post(url, {"delete": "1"}).status_code == 404
    assert client.post(url, {"alert": "daily"}).status_code == 404
    assert "他人の検索" not in client.get(MYPAGE).content.decode()
    theirs.refresh_from_db()
    assert theirs.alert == "none"


def test_the_owner_turns_the_daily_mail_on_and_deletes(client, member):
    mine = save_search(user=member, name="交通", query="q=交通")
    url = reverse("opinions:saved-search-change", args=[mine.pk])
    client.post(url, {"alert": "daily"})
    mine.refresh_from_db()
    assert mine.alert == "daily" and mine.notified_until is not None
    response = client.post(url, {"alert": "hourly"}, follow=True)
    assert "通知の指定が正しくありません" in response.content.decode()
    client.post(url, {"delete": "1"})
    assert not SavedSearch.objects.exists()


def test_mypage_takes_as_many_queries_for_many_searches_as_for_one(
    client, member, django_assert_max_num_queries
):
    save_search(user=member, name="一つ目", query="q=交通")
    with django_assert_max_num_queries(20) as one:
        assert client.get(MYPAGE).status_code == 200
    for n in range(10):
        save_search(user=member, name=f"検索{n}", query=f"q=交通{n}")
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(MYPAGE).status_code == 200


# --- The daily digest ------------------------------------------------------------------------


def daily(user, query):
    search = save_search(user=user, name="女性", query=query)
    set_alert(search, alert="daily")
    SavedSearch.objects.filter(pk=search.pk).update(
        notified_until=timezone.now() - datetime.timedelta(days=1)
    )
    return search


def test_the_digest_mails_new_published_matches_once(member, women, mailoutbox):
    daily(member, "?stakeholder=women")
    match = OpinionFactory(body="女性の起業を支援する制度を拡充すべきだ。")
    match.stakeholders.add(women)
    pending = OpinionFactory(body="確認待ちの女性に関する意見。", status=Opinion.Status.PENDING)
    pending.stakeholders.add(women)
    OpinionFactory(body="関係のない意見。")

    assert send_digests() == 1
    (mail,) = mailoutbox
    assert mail.to == ["iin@example.jp"] and "「女性」" in mail.subject
    assert mail.body.startswith("田中 太郎 様")
    assert "女性の起業を支援する制度" in mail.body and match.get_absolute_url() in mail.body
    assert "確認待ち" not in mail.body and "関係のない意見" not in mail.body

    assert send_digests() == 0  # nothing new since
    assert len(mailoutbox) == 1


def test_a_remark_published_by_review_after_the_last_mail_is_new(member, women, mailoutbox):
    search = daily(member, "?stakeholder=women")
    old = OpinionFactory(body="以前からある女性の意見。")
    old.stakeholders.add(women)
    Opinion.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=30),
        reviewed_at=timezone.now(),
    )
    search.refresh_from_db()
    assert send_digests() == 1


def test_the_command_reports_how_many_mails_it_sent(member, women, mailoutbox, capsys):
    daily(member, "?stakeholder=women")
    OpinionFactory().stakeholders.add(women)
    call_command("send_search_digests")
    assert "1 通のメールを送りました" in capsys.readouterr().out


# --- The feed ----------------------------------------------------------------------------------


def test_the_feed_lists_published_matches_only(client, member, women):
    search = save_search(user=member, name="女性", query="?stakeholder=women")
    published = OpinionFactory(body="女性が働きやすい環境を整えるべきだ。")
    published.stakeholders.add(women)
    hidden = OpinionFactory(body="非公開の女性の意見。", status=Opinion.Status.HIDDEN)
    hidden.stakeholders.add(women)
    client.logout()  # a feed reader is not signed in
    response = client.get(reverse("opinions:saved-search-feed", args=[search.feed_token]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = response.content.decode()
    assert "女性が働きやすい環境" in feed and "非公開" not in feed


def test_an_unknown_feed_token_is_a_404(client):
    response = client.get("/searches/feed/00000000-0000-0000-0000-000000000000/")
    assert response.status_code == 404
