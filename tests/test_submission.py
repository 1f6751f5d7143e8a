"""Members submit remarks (入力 → 確認 → 完了); 事務局 reviews; authors revise or withdraw."""

import pytest
from django.contrib.auth.models import Group
from django.test import TestCase
from django.urls import reverse

from opinions import roles, services
from opinions.models import Opinion
from tests.factories import (
    MeetingFactory,
    OpinionFactory,
    StakeholderFactory,
    SubthemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

SUBMIT = reverse("opinions:submit")
MYPAGE = reverse("opinions:mypage")
QUEUE = reverse("opinions:review-queue")
BODY = "小規模自治体の職員が疲弊しないよう、国が手続きを簡素化すべきではないか。"


def user_in(group_name, **extra):
    user = UserFactory(
        email=f"{group_name}-{UserFactory._meta.model.objects.count()}@example.jp", **extra
    )
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def member(client):
    user = user_in(roles.MEMBER)
    client.force_login(user)
    return user


@pytest.fixture
def theme():
    return SubthemeFactory(name="広域連携の視点", short_label="広域連携")


@pytest.fixture
def secretariat():
    return user_in(roles.SECRETARIAT)


def form_data(theme, **overrides):
    data = {"body": BODY, "theme": theme.pk, "token": "8d1c2c4e-9d7e-4d7b-9a51-0f3f0d6c2b11"}
    data.update(overrides)
    return data


# --- Who may submit --------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login_and_come_back(client):
    response = client.get(SUBMIT)
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next={SUBMIT}"


def test_logged_in_non_members_get_a_clear_403(client):
    client.force_login(UserFactory())
    response = client.get(SUBMIT)
    assert response.status_code == 403
    assert "この操作はできません" in response.content.decode()
    client.force_login(user_in(roles.SECRETARIAT))
    assert client.get(SUBMIT).status_code == 403


def test_administrators_may_submit(client):
    client.force_login(user_in(roles.ADMINISTRATOR))
    assert client.get(SUBMIT).status_code == 200


def test_login_page_returns_to_the_form(client, member):
    client.logout()
    member.set_password("correct-horse-battery")
    member.save()
    response = client.post(
        reverse("login"),
        {"username": member.username, "password": "correct-horse-battery", "next": SUBMIT},
    )
    assert response.url == SUBMIT


# --- 入力 → 確認 → 完了 --------------------------------------------------------------------


def test_the_whole_flow_creates_one_pending_remark(
    client, member, theme, mailoutbox, secretariat, django_capture_on_commit_callbacks
):
    women = StakeholderFactory(name="女性")
    entry = client.get(SUBMIT)
    token = entry.context["form"]["token"].value()
    assert "入力" in entry.content.decode()

    confirm = client.post(
        SUBMIT, {**form_data(theme, token=token), "stakeholders": [women.pk], "step": "confirm"}
    )
    html = confirm.content.decode()
    assert confirm.context["step"] == "confirm"
    assert "次の内容で投稿します" in html and BODY in html and "女性" in html
    assert not Opinion.objects.exists()  # nothing saved before the last step

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            SUBMIT, {**form_data(theme, token=token), "stakeholders": [women.pk], "step": "save"}
        )
    opinion = Opinion.objects.get()
    assert done.url == reverse("opinions:submit-done", args=[opinion.pk])
    assert (opinion.status, opinion.author, opinion.body) == ("pending", member, BODY)
    assert list(opinion.stakeholders.all()) == [women]
    assert "受け付けました" in client.get(done.url).content.decode()
    assert opinion.history.first().history_user == member

    recipients = sorted(address for mail in mailoutbox for address in mail.to)
    assert recipients == sorted([member.email, secretariat.email])
    assert all("意見" in mail.subject for mail in mailoutbox)


def test_going_back_to_edit_keeps_everything(client, member, theme):
    meeting = MeetingFactory()
    data = {**form_data(theme), "meeting": meeting.pk, "step": "edit"}
    response = client.post(SUBMIT, data)
    form = response.context["form"]
    assert response.context["step"] == "input"
    assert form["body"].value() == BODY
    assert str(form["theme"].value()) == str(theme.pk)
    assert str(form["meeting"].value()) == str(meeting.pk)
    assert form["token"].value() == data["token"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"body": "短い"}, "body", "10 文字以上で入力してください（いまは 2 文字です）"),
        ({"body": "あ" * 2001}, "body", "2000 文字以内で入力してください（いまは 2001 文字です）"),
        ({"body": "   "}, "body", "意見の本文を入力してください"),
        ({"theme": ""}, "theme", "テーマを選んでください"),
        ({"theme": "999999"}, "theme", "選んだテーマが見つかりません"),
        ({"stakeholders": ["999999"]}, "stakeholders", "選べません"),
    ],
)
def test_validation_errors_are_japanese_next_to_the_field_and_keep_the_input(
    client, member, theme, overrides, field, message
):
    data = {**form_data(theme), **overrides, "step": "confirm"}
    response = client.post(SUBMIT, data)
    html = response.content.decode()
    assert response.context["step"] == "input"
    assert message in str(response.context["form"].errors[field])
    assert f'id="id_{field}_error"' in html or f"id_{field}" in html
    kept = response.context["form"]["body"].value()
    assert kept == data["body"]
    assert not Opinion.objects.exists()


def test_inactive_tags_are_not_offered(client, member):
    StakeholderFactory(name="古いタグ", is_active=False)
    StakeholderFactory(name="使えるタグ")
    html = client.get(SUBMIT).content.decode()
    assert "使えるタグ" in html and "古いタグ" not in html


def test_a_suggested_tag_is_accepted_with_one_click(client, member, theme):
    women = StakeholderFactory(name="女性", slug="women")
    women.rules.create(pattern="女性")
    data = {
        **form_data(theme, body="女性が地方に戻らない理由を検討すべきである。"),
        "step": "confirm",
    }
    confirm = client.post(SUBMIT, data)
    assert [s.tag for s in confirm.context["suggestions"]] == [women]
    accepted = client.post(SUBMIT, {**data, "accept": "stakeholders:women"})
    assert list(accepted.context["form"].cleaned_data["stakeholders"]) == [women]
    assert accepted.context["suggestions"] == []
    client.post(SUBMIT, {**data, "stakeholders": [women.pk], "step": "save"})
    assert list(Opinion.objects.get().stakeholders.all()) == [women]


def test_double_submit_creates_one_remark(client, member, theme):
    data = {**form_data(theme), "step": "save"}
    first = client.post(SUBMIT, data)
    second = client.post(SUBMIT, data)
    assert Opinion.objects.count() == 1
    assert first.url == second.url


def test_service_is_idempotent_per_token(member, theme):
    token = "0d5f3c4e-1d7e-4d7b-9a51-0f3f0d6c2b11"
    first, created = services.submit_opinion(author=member, token=token, body=BODY, theme=theme)
    again, created_again = services.submit_opinion(
        author=member, token=token, body=BODY, theme=theme
    )
    assert (created, created_again, first.pk) == (True, False, again.pk)


def test_near_duplicate_is_shown_and_must_be_acknowledged(client, member, theme, on_postgresql):
    existing = OpinionFactory(body=BODY + "と思う。")
    data = {**form_data(theme), "step": "confirm"}
    confirm = client.post(SUBMIT, data)
    assert confirm.context["duplicates"] == [existing]
    assert "よく似た意見がすでにあります" in confirm.content.decode()
    refused = client.post(SUBMIT, {**data, "step": "save"})
    assert refused.status_code == 200 and refused.context["needs_acknowledgement"]
    assert Opinion.objects.count() == 1
    client.post(SUBMIT, {**data, "step": "save", "not_duplicate": "on"})
    assert Opinion.objects.count() == 2


def test_dissimilar_remarks_are_not_duplicates(client, member, theme):
    OpinionFactory(body="観光や外国人材の受入れに向けて多言語翻訳を活用すべきである。")
    confirm = client.post(SUBMIT, {**form_data(theme), "step": "confirm"})
    assert confirm.context["duplicates"] == []


def test_csrf_is_enforced(member, theme):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(member)
    assert strict.post(SUBMIT, {**form_data(theme), "step": "save"}).status_code == 403
    assert not Opinion.objects.exists()


# --- After submitting --------------------------------------------------------------------------


@pytest.fixture
def pending(member, theme):
    opinion, _ = services.submit_opinion(
        author=member, token="1d5f3c4e-1d7e-4d7b-9a51-0f3f0d6c2b11", body=BODY, theme=theme
    )
    return opinion


def test_pending_remark_is_on_mypage_and_nowhere_public(client, member, pending, theme):
    assert pending in client.get(MYPAGE).context["opinions"]
    assert "確認待ち" in client.get(MYPAGE).content.decode()
    assert client.get(pending.get_absolute_url()).status_code == 200  # its author may open it

    other = UserFactory()
    for viewer in (None, other, user_in(roles.MEMBER)):
        client.logout()
        if viewer:
            client.force_login(viewer)
        assert client.get(pending.get_absolute_url()).status_code == 404
        for url in (
            reverse("opinions:opinion-list") + "?q=%E6%89%8B%E7%B6%9A%E3%81%8D",  # 手続き
            reverse("opinions:opinion-list"),
            reverse("opinions:theme-index"),
            theme.get_absolute_url(),
            reverse("opinions:crosstab"),
        ):
            response = client.get(url)
            assert "簡素化すべき" not in response.content.decode(), url
        assert "0 件の意見" in client.get(reverse("opinions:opinion-list")).content.decode()


def test_secretariat_sees_pending_in_lists(client, pending, secretariat):
    client.force_login(secretariat)
    response = client.get(reverse("opinions:opinion-list"))
    assert pending in response.context["object_list"]
    assert client.get(pending.get_absolute_url()).status_code == 200


def test_review_queue_is_for_the_secretariat_only(client, member, pending, secretariat):
    assert client.get(QUEUE).status_code == 403  # a member
    client.logout()
    assert client.get(QUEUE).status_code == 302
    client.force_login(secretariat)
    assert list(client.get(QUEUE).context["opinions"]) == [pending]


def review(client, opinion, action, comment=""):
    prefix = f"r{opinion.pk}"
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("opinions:review-action", args=[opinion.pk]),
            {
                f"{prefix}-action": action,
                f"{prefix}-version": opinion.version,
                f"{prefix}-comment": comment,
            },
            follow=True,
        )


def test_publishing_puts_the_remark_in_the_list(client, pending, secretariat, mailoutbox):
    client.force_login(secretariat)
    review(client, pending, "publish")
    pending.refresh_from_db()
    assert pending.status == "published" and pending.reviewed_by == secretariat
    client.logout()
    assert pending in client.get(reverse("opinions:opinion-list")).context["object_list"]
    assert any(pending.author.email in mail.to and "公開" in mail.subject for mail in mailoutbox)


def test_return_needs_a_comment(client, pending, secretariat):
    client.force_login(secretariat)
    response = review(client, pending, "return", comment="  ")
    assert "差し戻す理由を書いてください" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_return_and_resubmit(client, member, pending, secretariat, theme, mailoutbox):
    client.force_login(secretariat)
    review(client, pending, "return", comment="具体的な施策名を加えてください。")
    pending.refresh_from_db()
    assert pending.status == "returned"

    client.force_login(member)
    mypage = client.get(MYPAGE).content.decode()
    assert "差し戻し" in mypage and "具体的な施策名を加えてください。" in mypage
    edit_url = reverse("opinions:opinion-edit", args=[pending.pk])
    form = client.get(edit_url).context["form"]
    revised = BODY + "例えば地方創生推進交付金の申請様式を統一する。"
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            edit_url, {"body": revised, "theme": theme.pk, "version": form["version"].value()}
        )
    assert response.url == MYPAGE
    pending.refresh_from_db()
    assert (pending.status, pending.body) == ("pending", revised)
    assert any("再提出" in mail.subject for mail in mailoutbox)
    statuses = list(pending.history.order_by("history_date").values_list("status", flat=True))
    assert statuses[0] == "pending" and "returned" in statuses and statuses[-1] == "pending"


def test_author_can_withdraw_and_the_record_stays(client, member, pending):
    url = reverse("opinions:opinion-withdraw", args=[pending.pk])
    assert "取り下げます" in client.get(url).content.decode()
    client.post(url)
    pending.refresh_from_db()
    assert pending.status == "withdrawn"
    assert Opinion.objects.filter(pk=pending.pk).exists()
    assert pending.history.filter(status="withdrawn").exists()
    assert client.get(reverse("opinions:opinion-edit", args=[pending.pk])).status_code == 403


def test_another_member_gets_404_on_edit_and_withdraw(client, pending):
    """As for an id that does not exist: another member's pending remark is not theirs to
    know about."""
    client.force_login(user_in(roles.MEMBER))
    for name in ("opinion-edit", "opinion-withdraw"):
        url = reverse(f"opinions:{name}", args=[pending.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"body": "乗っ取り" * 5}).status_code == 404
    pending.refresh_from_db()
    assert pending.status == "pending" and pending.body == BODY


def test_anonymous_edit_goes_to_login(client, pending):
    client.logout()
    response = client.get(reverse("opinions:opinion-edit", args=[pending.pk]))
    assert response.status_code == 302 and reverse("login") in response.url


def test_published_remark_can_no_longer_be_edited_by_its_author(
    client, member, pending, secretariat
):
    services.review_opinion(
        pending.pk, by=secretariat, expected_version=pending.version, publish=True
    )
    assert client.get(reverse("opinions:opinion-edit", args=[pending.pk])).status_code == 403


def test_the_second_of_two_concurrent_edits_is_refused_with_the_changes(
    client, member, pending, secretariat, theme
):
    edit_url = reverse("opinions:opinion-edit", args=[pending.pk])
    started_at = client.get(edit_url).context["form"]["version"].value()
    # Meanwhile 事務局 returns it with a comment (a change the author has not seen):
    services.review_opinion(
        pending.pk,
        by=secretariat,
        expected_version=pending.version,
        publish=False,
        comment="表現を見直してください",
    )
    mine = BODY + "（修正）"
    response = client.post(edit_url, {"body": mine, "theme": theme.pk, "version": started_at})
    assert response.status_code == 200
    html = response.content.decode()
    assert "ほかの人がこの意見を変更しました" in html
    changes = {label: (old, new) for label, old, new in response.context["conflict"].changes}
    assert changes["状態"] == ("確認待ち", "差し戻し")
    assert changes["事務局からのコメント"][1] == "表現を見直してください"
    assert response.context["form"]["body"].value() == mine  # what the author typed is kept
    pending.refresh_from_db()
    assert pending.body == BODY  # not overwritten
    # Saving again from the form (now on the current version) goes through:
    client.post(
        edit_url,
        {"body": mine, "theme": theme.pk, "version": response.context["form"]["version"].value()},
    )
    pending.refresh_from_db()
    assert pending.body == mine


def test_review_of_a_changed_remark_is_refused(client, member, pending, secretariat, theme):
    stale_version = pending.version
    services.revise_opinion(
        pending.pk, by=member, expected_version=stale_version, body=BODY + "追記。", theme=theme,
        municipality_sizes=[], stakeholders=[], meeting=None,
    )  # fmt: skip
    client.force_login(secretariat)
    prefix = f"r{pending.pk}"
    response = client.post(
        reverse("opinions:review-action", args=[pending.pk]),
        {f"{prefix}-action": "publish", f"{prefix}-version": stale_version},
        follow=True,
    )
    assert "確認中に変更されたため" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_password_change_is_in_japanese(client, member):
    response = client.get(reverse("password_change"))
    assert response.status_code == 200
    assert "パスワードの変更" in response.content.decode()


def test_a_member_submitting_faster_than_a_person_types_is_paused_with_input_kept(
    client, member, theme, settings, throttle_clock
):
    import uuid

    settings.OPINIONS_SUBMISSIONS_PER_HOUR = 2
    for body in (BODY, "観光や外国人材の受入れに向けて多言語翻訳を活用すべきである。"):
        data = form_data(theme, body=body, token=str(uuid.uuid4()), step="save")
        assert client.post(SUBMIT, data).status_code == 302
    data = form_data(
        theme,
        body="地域の公共交通を維持するため、自治体間の連携を国が後押しすべきだ。",
        token=str(uuid.uuid4()),
        step="save",
    )
    refused = client.post(SUBMIT, data)
    assert refused.status_code == 429
    html = refused.content.decode()
    assert (
        "しばらく受け付けられません" in html
        and "地域の公共交通を維持するため、自治体間の連携を国が後押しすべきだ。" in html
    )
    assert Opinion.objects.filter(author=member).count() == 2


@pytest.mark.parametrize("body", ["\u200b" * 12, "\u200b\u200c\u200d\ufeff\u2060" * 3 + " \n"])
def test_a_body_of_only_invisible_characters_is_refused_next_to_the_field(
    client, member, theme, body
):
    response = client.post(SUBMIT, form_data(theme, body=body, step="confirm"))
    assert response.context["step"] == "input"
    assert response.context["form"].errors["body"] == [
        "意見の本文を入力してください（見えない文字だけでは投稿できません）。"
    ]
    assert 'id="id_body_error"' in response.content.decode()


def test_zero_width_spaces_do_not_count_towards_the_length(client, member, theme):
    response = client.post(SUBMIT, form_data(theme, body="短い\u200b" * 4, step="confirm"))
    assert "10 文字以上で入力してください（いまは 8 文字です）" in str(
        response.context["form"].errors["body"]
    )
