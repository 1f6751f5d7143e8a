"""事務局's review queue: one form per remark, bulk publication, filters, the pending count,
the internal memo, tag edits, and the mails that lead there."""

import datetime
import uuid

import pytest
from django.contrib.auth.models import Group
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from opinions import roles, services
from opinions.models import Opinion
from opinions.people import person_name
from tests.factories import (
    MunicipalitySizeFactory,
    OpinionFactory,
    StakeholderFactory,
    SubthemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

QUEUE = reverse("opinions:review-queue")
BULK = reverse("opinions:review-bulk-publish")
BODY = "小規模自治体の職員が疲弊しないよう、国が手続きを簡素化すべきではないか。"


def user_in(group_name, **extra):
    count = UserFactory._meta.model.objects.count()
    user = UserFactory(email=f"{group_name}-{count}@example.jp", **extra)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def member():
    return user_in(roles.MEMBER, first_name="太郎", last_name="田中")


@pytest.fixture
def secretariat(client):
    user = user_in(roles.SECRETARIAT)
    client.force_login(user)
    return user


@pytest.fixture
def theme():
    return SubthemeFactory(name="広域連携の視点", short_label="広域連携")


def submit(member, theme, body=BODY, **extra):
    opinion, _created = services.submit_opinion(
        author=member, token=uuid.uuid4(), body=body, theme=theme, **extra
    )
    return opinion


@pytest.fixture
def pending(member, theme):
    return submit(member, theme)


def post_review(client, opinion, action, query="", **fields):
    prefix = f"r{opinion.pk}"
    data = {f"{prefix}-action": action, f"{prefix}-version": opinion.version}
    data.update({f"{prefix}-{name}": value for name, value in fields.items()})
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(reverse("opinions:review-action", args=[opinion.pk]) + query, data)


# --- One form per remark ---------------------------------------------------------------------


def test_a_comment_typed_before_publishing_reaches_the_author(
    client, secretariat, pending, mailoutbox
):
    post_review(client, pending, "publish", comment="分かりやすい表現に感謝します。")
    pending.refresh_from_db()
    assert pending.status == "published"
    assert pending.review_comment == "分かりやすい表現に感謝します。"
    to_author = [mail for mail in mailoutbox if pending.author.email in mail.to]
    assert "分かりやすい表現に感謝します。" in to_author[-1].body


def test_saving_notes_with_a_comment_is_refused_next_to_the_field_keeping_the_input(
    client, secretariat, pending
):
    response = post_review(client, pending, "save", comment="投稿者への一言", memo="次回会議で扱う")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_r{pending.pk}-comment_error"' in html
    assert "「公開する」か「差し戻す」を選んでください" in html
    assert "投稿者への一言" in html and "次回会議で扱う" in html  # nothing typed is lost
    pending.refresh_from_db()
    assert (pending.status, pending.internal_memo) == ("pending", "")


def test_returning_without_a_reason_shows_the_error_in_place(client, secretariat, pending):
    response = post_review(client, pending, "return", comment=" ", memo="要確認")
    assert response.status_code == 200
    assert "差し戻す理由を書いてください" in response.content.decode()
    assert "要確認" in response.content.decode()


def test_a_post_without_a_decision_is_refused(client, secretariat, pending):
    response = post_review(client, pending, "")
    assert "「公開する」か「差し戻す」を選んでください" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_the_queue_keeps_its_filters_after_a_decision(client, secretariat, pending, theme):
    response = post_review(client, pending, "publish", query=f"?theme={theme.slug}&sort=newest")
    assert response.url == f"{QUEUE}?theme={theme.slug}&sort=newest"


# --- Internal memo and tags --------------------------------------------------------------------


def test_the_internal_memo_is_kept_but_never_sent_to_the_author(
    client, secretariat, pending, mailoutbox
):
    post_review(client, pending, "save", memo="委員長に確認中")
    pending.refresh_from_db()
    assert pending.internal_memo == "委員長に確認中"
    assert "委員長に確認中" in client.get(QUEUE).content.decode()
    post_review(client, pending, "publish", memo="委員長に確認済み")
    pending.refresh_from_db()
    assert pending.internal_memo == "委員長に確認済み"
    assert mailoutbox and all("委員長" not in mail.body for mail in mailoutbox)
    client.force_login(pending.author)
    assert "委員長" not in client.get(reverse("opinions:mypage")).content.decode()
    assert "委員長" not in client.get(pending.get_absolute_url()).content.decode()


def test_saving_the_memo_does_not_make_an_open_edit_conflict(client, secretariat, pending):
    version = pending.version
    post_review(client, pending, "save", memo="メモ")
    pending.refresh_from_db()
    assert pending.version == version


def test_tags_are_corrected_during_review(client, secretariat, pending):
    small = MunicipalitySizeFactory(name="小規模市町村")
    women = StakeholderFactory(name="女性")
    post_review(
        client,
        pending,
        "publish",
        edit_tags="1",
        municipality_sizes=[small.pk],
        stakeholders=[women.pk],
    )
    pending.refresh_from_db()
    assert list(pending.municipality_sizes.all()) == [small]
    assert list(pending.stakeholders.all()) == [women]
    assert pending.history.first().status == "published"


def test_a_decision_without_the_tag_fields_leaves_the_tags_alone(client, secretariat, member):
    women = StakeholderFactory(name="女性")
    opinion = submit(member, SubthemeFactory(), stakeholders=[women])
    post_review(client, opinion, "publish")
    assert list(opinion.stakeholders.all()) == [women]


def test_the_queue_ticks_each_remarks_own_tags(client, secretariat, member, theme):
    women = StakeholderFactory(name="女性")
    youth = StakeholderFactory(name="若者")
    opinion = submit(member, theme, stakeholders=[women])
    html = client.get(QUEUE).content.decode()
    name = f"r{opinion.pk}-stakeholders"
    assert f'value="{women.pk}" id="{name}-{women.pk}" checked' in html
    assert f'value="{youth.pk}" id="{name}-{youth.pk}">' in html


# --- Bulk publication ---------------------------------------------------------------------------


def test_bulk_publish_asks_for_confirmation_first(client, secretariat, member, theme):
    first, second = submit(member, theme), submit(member, theme, body=BODY + "二件目。")
    choices = [f"{first.pk}:{first.version}", f"{second.pk}:{second.version}"]
    response = client.post(BULK, {"opinions": choices})
    assert response.status_code == 200
    assert "次の 2 件の意見を公開します" in response.content.decode()
    assert Opinion.objects.filter(status="pending").count() == 2  # nothing yet

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(BULK, {"opinions": choices, "confirm": "1"}, follow=True)
    assert Opinion.objects.filter(status="published").count() == 2
    assert "2 件の意見を公開しました" in response.content.decode()


def test_bulk_publish_skips_a_remark_edited_meanwhile_and_says_so(
    client, secretariat, member, theme
):
    first, second = submit(member, theme), submit(member, theme, body=BODY + "二件目。")
    choices = [f"{first.pk}:{first.version}", f"{second.pk}:{second.version}"]
    services.revise_opinion(
        second.pk,
        by=member,
        expected_version=second.version,
        body=BODY + "修正しました。",
        theme=theme,
        municipality_sizes=[],
        stakeholders=[],
        meeting=None,
    )
    response = client.post(BULK, {"opinions": choices, "confirm": "1"}, follow=True)
    html = response.content.decode()
    assert "1 件の意見を公開しました" in html
    assert f"1 件は確認中に変更されたため公開しませんでした（意見 {second.pk}）" in html
    second.refresh_from_db()
    assert second.status == "pending"


def test_bulk_publish_without_a_choice_says_what_to_do(client, secretariat, pending):
    response = client.post(BULK, {"opinions": ["junk"]}, follow=True)
    assert "公開する意見を選んでください" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "pending"


def test_bulk_publish_is_for_the_secretariat_only(client, member, pending):
    client.force_login(member)
    response = client.post(BULK, {"opinions": [f"{pending.pk}:{pending.version}"], "confirm": "1"})
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.status == "pending"


# --- Filters, sort, count ---------------------------------------------------------------------


def test_the_queue_filters_by_theme_author_and_age(client, secretariat, member, theme):
    other_theme = SubthemeFactory(name="人材育成の視点", short_label="人材育成")
    other_member = user_in(roles.MEMBER, first_name="花子", last_name="鈴木")
    mine = submit(member, theme)
    theirs = submit(other_member, other_theme, body=BODY + "別の意見。")
    Opinion.objects.filter(pk=mine.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=10)
    )

    def listed(query):
        return list(client.get(QUEUE + query).context["opinions"])

    assert listed(f"?theme={theme.slug}") == [mine]
    assert listed(f"?author={other_member.pk}") == [theirs]
    assert listed("?age=7") == [mine]
    assert listed(f"?remark={theirs.pk}") == [theirs]
    assert listed("") == [mine, theirs]  # the longest waiting first
    assert listed("?sort=newest") == [theirs, mine]
    assert listed("?age=bogus&theme=nowhere") == [mine, theirs]  # bad values are ignored


def test_the_author_filter_names_people_family_name_first(client, secretariat, pending):
    html = client.get(QUEUE).content.decode()
    assert "田中 太郎" in html and "太郎 田中" not in html


def test_the_navigation_shows_the_pending_count_to_reviewers_only(
    client, secretariat, member, theme
):
    submit(member, theme), submit(member, theme, body=BODY + "二件目。")
    html = client.get(reverse("opinions:theme-index")).content.decode()
    assert '<span class="nav-count">2<span class="visually-hidden"> 件</span></span>' in html
    client.force_login(member)
    assert "nav-count" not in client.get(reverse("opinions:theme-index")).content.decode()


def test_the_queue_takes_as_many_queries_for_many_remarks_as_for_few(
    client, secretariat, member, theme, django_assert_max_num_queries
):
    submit(member, theme, stakeholders=[StakeholderFactory()])
    with django_assert_max_num_queries(30) as few:
        assert client.get(QUEUE).status_code == 200
    for index in range(15):
        submit(
            user_in(roles.MEMBER),
            SubthemeFactory(),
            body=f"{BODY}その{index}。",
            stakeholders=[StakeholderFactory()],
            municipality_sizes=[MunicipalitySizeFactory()],
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(QUEUE).status_code == 200


# --- Mails --------------------------------------------------------------------------------------


def test_an_edit_of_a_waiting_remark_is_announced_as_a_revision(
    member, theme, mailoutbox, django_capture_on_commit_callbacks
):
    staff = user_in(roles.SECRETARIAT)
    opinion = submit(member, theme)
    with django_capture_on_commit_callbacks(execute=True):
        services.revise_opinion(
            opinion.pk,
            by=member,
            expected_version=opinion.version,
            body=BODY + "追記。",
            theme=theme,
            municipality_sizes=[],
            stakeholders=[],
            meeting=None,
        )
    to_staff = [mail for mail in mailoutbox if staff.email in mail.to]
    assert len(to_staff) == 1
    assert "（修正）" in to_staff[0].subject and "新規" not in to_staff[0].subject
    assert "新規" not in to_staff[0].body


def test_mails_carry_the_number_a_direct_link_and_the_name_family_name_first(
    member, theme, mailoutbox, django_capture_on_commit_callbacks, settings
):
    staff = user_in(roles.SECRETARIAT)
    with django_capture_on_commit_callbacks(execute=True):
        opinion = submit(member, theme)
    to_staff = next(mail for mail in mailoutbox if staff.email in mail.to)
    to_author = next(mail for mail in mailoutbox if member.email in mail.to)
    assert f"受付番号 {opinion.pk}" in to_staff.subject and "（新規）" in to_staff.subject
    assert f"受付番号: {opinion.pk}" in to_staff.body
    assert f"{settings.PORTAL_URL}{QUEUE}?remark={opinion.pk}" in to_staff.body
    assert "投稿者: 田中 太郎" in to_staff.body
    assert to_author.body.startswith("田中 太郎 様")
    assert f"受付番号: {opinion.pk}" in to_author.body
    assert f"{settings.PORTAL_URL}{opinion.get_absolute_url()}" in to_author.body


def test_a_person_without_names_is_called_by_username():
    assert person_name(UserFactory(username="jimu01")) == "jimu01"
    assert person_name(UserFactory(username="x", last_name="田中")) == "田中"
    assert person_name(None) == ""


def test_the_published_remark_needs_no_review_any_more(client, secretariat):
    published = OpinionFactory()
    assert published not in client.get(QUEUE).context["opinions"]


def test_a_page_emptied_by_a_decision_shows_the_nearest_page(client, secretariat, pending):
    response = client.get(QUEUE + "?page=3")
    assert response.status_code == 200
    assert list(response.context["opinions"]) == [pending]
