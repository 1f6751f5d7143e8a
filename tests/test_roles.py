"""The 管理者 / 事務局 / 委員 groups created by migration, and what each may do."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from opinions import roles
from opinions.models import Opinion
from tests.factories import OpinionFactory, UserFactory

pytestmark = pytest.mark.django_db


def member_of(group_name, **extra):
    user = UserFactory(**extra)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def test_the_three_groups_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {"管理者", "事務局", "委員"}


@pytest.mark.parametrize(
    ("group", "allowed", "denied"),
    [
        (
            roles.ADMINISTRATOR,
            ["change_opinion", "delete_stakeholder", "change_theme", "add_tagrule",
             "view_unpublished_opinion", "publish_opinion", "export_opinion", "view_historicalopinion"],
            [],
        ),
        (
            roles.SECRETARIAT,
            ["view_opinion", "view_unpublished_opinion", "publish_opinion", "export_opinion"],
            ["change_theme", "delete_opinion", "delete_stakeholder", "change_tagrule"],
        ),
        (
            roles.MEMBER,
            ["add_opinion", "change_own_opinion"],
            ["view_unpublished_opinion", "publish_opinion", "export_opinion", "change_opinion",
             "delete_opinion", "change_stakeholder"],
        ),
    ],
)  # fmt: skip
def test_group_permissions(group, allowed, denied):
    user = member_of(group)
    for codename in allowed:
        assert user.has_perm(f"opinions.{codename}"), codename
    for codename in denied:
        assert not user.has_perm(f"opinions.{codename}"), codename


def test_secretariat_sees_pending_remarks_members_do_not():
    pending = OpinionFactory(status=Opinion.Status.PENDING)
    assert pending in Opinion.objects.visible_to(member_of(roles.SECRETARIAT))
    assert pending not in Opinion.objects.visible_to(member_of(roles.MEMBER))


def test_administrator_staff_can_curate_in_the_admin(client):
    client.force_login(member_of(roles.ADMINISTRATOR, is_staff=True))
    assert client.get(reverse("admin:opinions_stakeholder_add")).status_code == 200


def test_secretariat_staff_can_look_but_not_curate(client):
    client.force_login(member_of(roles.SECRETARIAT, is_staff=True))
    assert client.get(reverse("admin:opinions_opinion_changelist")).status_code == 200
    assert client.get(reverse("admin:opinions_stakeholder_add")).status_code == 403


def test_secretariat_may_publish_but_not_tag_in_bulk(client):
    client.force_login(member_of(roles.SECRETARIAT, is_staff=True))
    actions = client.get(reverse("admin:opinions_opinion_changelist")).context["action_form"]
    names = [value for value, _label in actions.fields["action"].choices]
    assert "publish" in names and "hide" in names
    assert "add_tag" not in names and "remove_tag" not in names


def test_members_cannot_enter_the_admin(client):
    client.force_login(member_of(roles.MEMBER))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "login" in response.url


def test_every_model_of_the_app_is_in_the_roles_table():
    """A new model is a decision about who may touch it (opinions/roles.py)."""
    from django.apps import apps

    models = {m._meta.model_name for m in apps.get_app_config("opinions").get_models()}
    assert models == set(roles.MODEL_ACTIONS)


def test_the_groups_hold_exactly_what_the_table_declares():
    for role in roles.ROLES:
        group = Group.objects.get(name=role)
        held = set(group.permissions.values_list("content_type__app_label", "codename"))
        assert held == roles.permissions(role), role


def test_administrators_may_edit_synonyms():
    assert member_of(roles.ADMINISTRATOR).has_perm("opinions.change_synonymgroup")
    assert not member_of(roles.SECRETARIAT).has_perm("opinions.change_synonymgroup")


def test_review_mail_goes_to_whoever_holds_the_permission_not_a_group_name():
    from django.contrib.auth.models import Permission

    member_of(roles.SECRETARIAT, email="jimukyoku@example.jp")
    delegate = UserFactory(email="dairi@example.jp")
    delegate.user_permissions.add(Permission.objects.get(codename="publish_opinion"))
    member_of(roles.MEMBER, email="iin@example.jp")
    UserFactory(email="gone@example.jp", is_active=False).groups.add(
        Group.objects.get(name=roles.SECRETARIAT)
    )
    assert set(roles.holders(roles.REVIEWS).values_list("email", flat=True)) == {
        "jimukyoku@example.jp",
        "dairi@example.jp",
    }


def test_creating_permissions_early_leaves_the_app_registry_as_it_was():
    """A data migration creates permissions early (opinions.migration_ops); called with the
    project's own registry, as a test may, it once left every app without a models module,
    so that later create_permissions and create_contenttypes silently did nothing."""
    from django.apps import apps

    from opinions.migration_ops import create_permissions_now

    before = {config.label: config.models_module for config in apps.get_app_configs()}
    create_permissions_now(apps)
    assert {config.label: config.models_module for config in apps.get_app_configs()} == before
