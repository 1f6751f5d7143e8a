"""Curation in the Django admin: bulk actions, merges, deactivation, reordering, history."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from opinions import roles
from opinions.models import MunicipalitySize, Opinion, Stakeholder, TagMerge, TagRule, Theme
from tests.factories import (
    OpinionFactory,
    SectionFactory,
    StakeholderFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator(client):
    user = UserFactory(username="curator", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    client.force_login(user)
    return user


def changelist(model):
    return reverse(f"admin:opinions_{model._meta.model_name}_changelist")


def run_action(client, model, action, objects, **extra):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    return client.post(changelist(model), data)


def test_admin_pages_render_for_every_model(client, curator, seed):
    for model in (Opinion, Theme, MunicipalitySize, Stakeholder, TagRule, TagMerge):
        assert client.get(changelist(model)).status_code == 200, model
    opinion = Opinion.objects.get(position=1)
    assert (
        client.get(reverse("admin:opinions_opinion_change", args=[opinion.pk])).status_code == 200
    )
    assert (
        client.get(reverse("admin:opinions_opinion_history", args=[opinion.pk])).status_code == 200
    )


def test_bulk_add_tag_asks_for_the_tag_then_adds_it(client, curator):
    opinions = OpinionFactory.create_batch(3)
    women = StakeholderFactory(name="女性")
    page = run_action(client, Opinion, "add_tag", opinions)
    assert page.status_code == 200 and "女性" in page.content.decode()  # the intermediate page
    run_action(client, Opinion, "add_tag", opinions, apply="1", tag=f"stakeholder:{women.pk}")
    assert all(women in o.stakeholders.all() for o in opinions)
    record = opinions[0].history.latest()
    assert record.history_user == curator
    assert [s.stakeholder_id for s in record.stakeholders.all()] == [women.pk]


def test_bulk_remove_tag(client, curator):
    women = StakeholderFactory()
    tagged = OpinionFactory.create_batch(2)
    for opinion in tagged:
        opinion.stakeholders.add(women)
    run_action(client, Opinion, "remove_tag", tagged, apply="1", tag=f"stakeholder:{women.pk}")
    assert not women.opinions.exists()


def test_bulk_publish_and_hide_write_history(client, curator):
    pending = OpinionFactory.create_batch(2, status=Opinion.Status.PENDING)
    run_action(client, Opinion, "publish", pending)
    assert set(Opinion.objects.values_list("status", flat=True)) == {"published"}
    run_action(client, Opinion, "hide", pending[:1])
    assert Opinion.objects.get(pk=pending[0].pk).status == "hidden"
    statuses = [h.status for h in pending[0].history.order_by("history_date")]
    assert statuses == ["pending", "published", "hidden"]


def test_merge_moves_opinions_rules_and_records_it(client, curator):
    keep = StakeholderFactory(name="首長")
    merged = StakeholderFactory(name="市町村長")
    only_merged, both = OpinionFactory(), OpinionFactory()
    only_merged.stakeholders.add(merged)
    both.stakeholders.add(keep, merged)
    TagRule.objects.create(stakeholder=merged, pattern="市町村長")

    page = run_action(client, Stakeholder, "merge_selected", [keep, merged])
    assert "残すタグ" in page.content.decode()
    run_action(client, Stakeholder, "merge_selected", [keep, merged], apply="1", keep=keep.pk)

    assert not Stakeholder.objects.filter(pk=merged.pk).exists()
    assert set(keep.opinions.all()) == {only_merged, both}
    assert TagRule.objects.get(pattern="市町村長").stakeholder == keep
    record = TagMerge.objects.get()
    assert (record.kept_name, record.merged_name, record.opinions_moved) == ("首長", "市町村長", 2)
    assert record.merged_by == curator
    history = only_merged.history.latest()
    assert [s.stakeholder_id for s in history.stakeholders.all()] == [keep.pk]
    assert merged.history.filter(history_type="-").exists()  # the deletion is in the history


def test_merge_needs_two_tags(client, curator):
    tag = StakeholderFactory()
    run_action(client, Stakeholder, "merge_selected", [tag], apply="1", keep=tag.pk)
    assert Stakeholder.objects.filter(pk=tag.pk).exists()
    assert not TagMerge.objects.exists()


def test_deactivated_tag_is_not_offered_but_stays_on_remarks(client, curator):
    old = StakeholderFactory(name="旧タグ")
    opinion, fresh = OpinionFactory(), OpinionFactory()
    opinion.stakeholders.add(old)
    run_action(client, Stakeholder, "deactivate_selected", [old])
    assert not Stakeholder.objects.get(pk=old.pk).is_active

    fresh_form = (
        client.get(reverse("admin:opinions_opinion_change", args=[fresh.pk]))
        .context["adminform"]
        .form
    )
    assert old not in fresh_form.fields["stakeholders"].queryset
    tagged_form = (
        client.get(reverse("admin:opinions_opinion_change", args=[opinion.pk]))
        .context["adminform"]
        .form
    )
    assert old in tagged_form.fields["stakeholders"].queryset
    assert old in opinion.stakeholders.all()
    add_form = client.get(reverse("admin:opinions_opinion_add")).context["adminform"].form
    assert old not in add_form.fields["stakeholders"].queryset
    bulk_page = run_action(client, Opinion, "add_tag", [fresh])
    assert "旧タグ" not in bulk_page.content.decode()


def test_reordering_tags_in_the_list(client, curator):
    a, b = StakeholderFactory(position=1), StakeholderFactory(position=2)
    data = {
        "form-TOTAL_FORMS": 2,
        "form-INITIAL_FORMS": 2,
        "form-0-id": a.pk, "form-0-position": 2, "form-0-is_active": "on",
        "form-1-id": b.pk, "form-1-position": 1, "form-1-is_active": "on",
        "_save": "保存",
    }  # fmt: skip
    client.post(changelist(Stakeholder), data)
    assert list(Stakeholder.objects.values_list("pk", flat=True)) == [b.pk, a.pk]


def test_moving_a_theme_swaps_it_with_its_sibling(client, curator):
    section = SectionFactory()
    first = ThemeFactory(parent=section, position=1)
    second = ThemeFactory(parent=section, position=2)
    run_action(client, Theme, "move_up", [second])
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.position, second.position) == (2, 1)
    response = run_action(client, Theme, "move_up", [second])
    assert (
        "これ以上移動できません" in client.get(changelist(Theme)).content.decode()
        or response.status_code == 302
    )
    assert second.history.count() >= 2


def test_theme_short_labels_are_editable_in_the_list(client, curator):
    theme = SectionFactory(short_label="旧")
    data = {
        "form-TOTAL_FORMS": 1,
        "form-INITIAL_FORMS": 1,
        "form-0-id": theme.pk,
        "form-0-short_label": "新しい略称",
        "_save": "保存",
    }
    client.post(changelist(Theme), data)
    theme.refresh_from_db()
    assert theme.short_label == "新しい略称"
    assert theme.history.latest().history_user.username == "curator"


def test_history_page_shows_changes_field_by_field(client, curator):
    opinion = OpinionFactory(body="最初の本文")
    women = StakeholderFactory(name="女性")
    opinion.body = "直した本文"
    opinion.save()
    opinion.stakeholders.add(women)
    html = client.get(reverse("admin:opinions_opinion_history", args=[opinion.pk])).content.decode()
    assert "最初の本文" in html and "直した本文" in html
    assert "[女性]" in html  # tag membership: [] → [女性]


def test_history_pages_are_in_japanese(client, curator):
    """django-simple-history ships no Japanese: locale/ja/ supplies its strings."""
    opinion = OpinionFactory()
    opinion.stakeholders.add(StakeholderFactory(name="女性"))
    html = client.get(reverse("admin:opinions_opinion_history", args=[opinion.pk])).content
    html = html.decode()
    for japanese in ("変更者", "変更理由", "変更内容", "対象", "コメント"):
        assert japanese in html, japanese
    for english in ("Changed by", "Change reason", "Changes<", "Object<", "Comment<"):
        assert english not in html, english
    record = opinion.history.earliest()
    form = client.get(
        reverse("admin:opinions_opinion_simple_history", args=[opinion.pk, record.pk])
    ).content.decode()
    assert "この版に戻す" in form and "Revert" not in form


# --- Curation at speed --------------------------------------------------------------------------


def test_the_theme_list_is_in_tree_order_and_indented(client, curator):
    first, second = SectionFactory(position=1, name="一"), SectionFactory(position=2, name="二")
    under_first = ThemeFactory(parent=first, position=5, name="一の下")
    under_second = ThemeFactory(parent=second, position=1, name="二の下")
    listed = list(client.get(changelist(Theme)).context["cl"].result_list)
    assert listed == [first, under_first, second, under_second]
    html = client.get(changelist(Theme)).content.decode()
    assert "\u3000\u3000○一の下" in html


def test_a_theme_moves_to_a_chosen_place_in_one_step(client, curator):
    section = SectionFactory()
    themes = [ThemeFactory(parent=section, position=n, name=f"テーマ{n}") for n in range(1, 6)]
    page = run_action(client, Theme, "move_to_position", [themes[4]])
    assert page.status_code == 200 and "移動先" in page.content.decode()
    response = run_action(client, Theme, "move_to_position", [themes[4]], apply="1", position=2)
    assert response.status_code == 302
    order = list(Theme.objects.filter(parent=section).order_by("position"))
    assert order == [themes[0], themes[4], themes[1], themes[2], themes[3]]
    messages = [str(m) for m in client.get(changelist(Theme)).context["messages"]]
    assert any("2 番目に移動しました" in m for m in messages)


def test_editable_list_inputs_are_named_by_column_and_row(client, curator):
    StakeholderFactory(name="女性")
    html = client.get(changelist(Stakeholder)).content.decode()
    assert 'aria-label="並び順：女性"' in html and 'aria-label="有効：女性"' in html


def test_the_remark_list_shows_text_tags_and_filters_by_theme_subtree(client, curator):
    section = SectionFactory()
    theme = ThemeFactory(parent=section)
    women = StakeholderFactory(name="女性", is_active=False)
    inside = OpinionFactory(theme=theme, body="地域の女性の起業を支援する仕組みが必要だ。" * 2)
    inside.stakeholders.add(women)
    outside = OpinionFactory()
    response = client.get(changelist(Opinion) + f"?theme={section.slug}")
    assert list(response.context["cl"].result_list) == [inside]
    html = response.content.decode()
    assert "地域の女性の起業を支援する仕組みが必要だ。地域の" in html  # more than 40 characters
    assert "女性（無効）" in html
    assert outside.body not in html


def test_a_tag_suggestion_shows_the_whole_remark(client, curator):
    from opinions.models import TagSuggestion

    body = "人口減少が進む中、" * 10
    opinion = OpinionFactory(body=body)
    TagSuggestion.objects.create(opinion=opinion, stakeholder=StakeholderFactory(), reason="語")
    assert body in client.get(changelist(TagSuggestion)).content.decode()


def test_action_messages_give_counts(client, curator):
    tags = StakeholderFactory.create_batch(3)
    run_action(client, Stakeholder, "deactivate_selected", tags)
    messages = [str(m) for m in client.get(changelist(Stakeholder)).context["messages"]]
    assert "3 個のタグを無効にしました。" in messages


def test_history_shows_labels_local_times_and_empty_values_as_empty(client, curator):
    import datetime

    from django.utils import timezone

    opinion = OpinionFactory(status=Opinion.Status.PENDING)
    opinion.status = Opinion.Status.PUBLISHED
    opinion.reviewed_at = datetime.datetime(2026, 12, 1, 15, 30, tzinfo=datetime.UTC)
    opinion.reviewed_by = UserFactory(first_name="花子", last_name="鈴木")
    opinion.save()
    opinion.reviewed_by = None
    opinion.save()
    html = client.get(reverse("admin:opinions_opinion_history", args=[opinion.pk])).content.decode()
    changes = html.split('id="change-history"')[1]
    assert "確認待ち" in changes and "公開" in changes
    assert "pending" not in changes and "published" not in changes
    assert "2026年12月2日0:30" in html  # 15:30 UTC is 0:30 the next day in Tokyo
    assert "pk=None" not in html
    assert "鈴木 花子" in html
    assert timezone.get_current_timezone_name() == "Asia/Tokyo"


# --- Names, 姓 名 -----------------------------------------------------------------------


@pytest.fixture
def tanaka():
    return UserFactory(username="tanaka", last_name="田中", first_name="太郎")


def shows_the_name(html: str) -> bool:
    return "田中 太郎" in html and "太郎 田中" not in html


def test_people_in_admin_columns_and_read_only_fields_are_named_family_name_first(
    client, curator, tanaka
):
    from knox.models import AuthToken

    from opinions.models import TagSuggestion
    from opinions.responses.models import Response
    from tests.factories import ResponseFactory

    opinion = OpinionFactory()
    suggestion = TagSuggestion.objects.create(
        opinion=opinion, stakeholder=StakeholderFactory(), decided_by=tanaka
    )
    TagMerge.objects.create(
        axis="stakeholder", merged_name="甲", kept_name="乙", opinions_moved=1, merged_by=tanaka
    )
    response = ResponseFactory(author=tanaka, reviewer=UserFactory(username="nameless"))
    AuthToken.objects.create(user=tanaka)
    pages = {
        "suggestions": changelist(TagSuggestion),
        "suggestion": reverse("admin:opinions_tagsuggestion_change", args=[suggestion.pk]),
        "remark's suggestions": reverse("admin:opinions_opinion_change", args=[opinion.pk]),
        "merges": changelist(TagMerge),
        "responses": changelist(Response),
        "response": reverse("admin:opinions_response_change", args=[response.pk]),
        "API tokens": reverse("admin:knox_authtoken_changelist"),
    }
    for name, url in pages.items():
        html = client.get(url).content.decode()
        assert shows_the_name(html), name
    assert "nameless" in client.get(changelist(Response)).content.decode()  # no name: username


def test_a_remarks_author_is_chosen_by_name(client, curator, tanaka):
    opinion = OpinionFactory(author=tanaka)
    html = client.get(reverse("admin:opinions_opinion_change", args=[opinion.pk])).content.decode()
    assert f'<option value="{tanaka.pk}" selected>田中 太郎</option>' in html


def test_history_pages_name_who_changed_it_family_name_first(client, curator, tanaka):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from opinions.models import Committee
    from opinions.services import add_tag

    opinion = OpinionFactory()
    add_tag([opinion], StakeholderFactory(), by=tanaka)
    html = client.get(reverse("admin:opinions_opinion_history", args=[opinion.pk])).content.decode()
    changed_by = html.split('id="change-history"')[1]
    assert shows_the_name(changed_by) and "tanaka" not in changed_by

    committee = Committee.objects.create(name="有識者会議", slug="yushikisha")
    LogEntry.objects.create(
        user=tanaka,
        content_type=ContentType.objects.get_for_model(Committee),
        object_id=str(committee.pk),
        object_repr=str(committee),
        action_flag=CHANGE,
        change_message="[]",
    )
    url = reverse("admin:opinions_committee_history", args=[committee.pk])
    changed_by = client.get(url).content.decode().split('id="change-history"')[1]
    assert shows_the_name(changed_by) and "tanaka" not in changed_by


def test_the_admin_welcomes_the_user_by_name(client, tanaka):
    tanaka.is_superuser = tanaka.is_staff = True
    tanaka.save()
    client.force_login(tanaka)
    assert "<strong>田中 太郎</strong>" in client.get(reverse("admin:index")).content.decode()
