"""Database constraints and QuerySet methods of the data model."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import IntegrityError, transaction

from opinions.models import Opinion, Theme
from tests.factories import (
    OpinionFactory,
    SectionFactory,
    SourceDocumentFactory,
    SubthemeFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_theme_slugs_are_unique():
    SectionFactory(slug="sdgs")
    refused(lambda: SectionFactory(slug="sdgs"))


def test_only_sections_may_be_roots():
    refused(lambda: ThemeFactory(parent=None))
    refused(lambda: SectionFactory(parent=SectionFactory()))


def test_siblings_have_distinct_positions_and_names():
    section = SectionFactory()
    ThemeFactory(parent=section, position=1, name="同名")
    refused(lambda: ThemeFactory(parent=section, position=1))
    refused(lambda: ThemeFactory(parent=section, name="同名"))
    SectionFactory(position=7)
    refused(lambda: SectionFactory(position=7))


def test_a_position_is_unique_within_its_document():
    document = SourceDocumentFactory()
    OpinionFactory(source_document=document, position=1)
    refused(lambda: OpinionFactory(source_document=document, position=1))
    OpinionFactory(source_document=SourceDocumentFactory(), position=1)  # another document


def test_position_and_document_go_together():
    refused(lambda: OpinionFactory(source_document=None, position=3))
    refused(lambda: OpinionFactory(source_document=SourceDocumentFactory(), position=None))


def test_empty_body_and_unknown_status_are_refused():
    refused(lambda: OpinionFactory(body=""))
    refused(lambda: OpinionFactory(status="deleted"))


def test_subtree_of_a_section_holds_its_themes_and_subthemes():
    subtheme = SubthemeFactory()
    theme, section = subtheme.parent, subtheme.parent.parent
    sibling = ThemeFactory(parent=section)
    ThemeFactory()  # elsewhere
    assert set(Theme.objects.subtree(section)) == {section, theme, subtheme, sibling}
    assert set(Theme.objects.subtree(theme)) == {theme, subtheme}
    assert set(Theme.objects.subtree(subtheme)) == {subtheme}


def test_in_tree_order_is_depth_first_by_position():
    second = SectionFactory(position=2, name="S2")
    first = SectionFactory(position=1, name="S1")
    b = ThemeFactory(parent=first, position=2, name="T1b")
    a = ThemeFactory(parent=first, position=1, name="T1a")
    a2 = SubthemeFactory(parent=a, position=2, name="T1a-2")
    a1 = SubthemeFactory(parent=a, position=1, name="T1a-1")
    c = ThemeFactory(parent=second, position=1, name="T2a")
    assert list(Theme.objects.in_tree_order()) == [first, a, a1, a2, b, second, c]


def test_in_theme_includes_everything_below():
    subtheme = SubthemeFactory()
    deep = OpinionFactory(theme=subtheme)
    direct = OpinionFactory(theme=subtheme.parent)
    OpinionFactory()  # another section
    assert set(Opinion.objects.in_theme(subtheme.parent.parent)) == {deep, direct}


def test_anonymous_users_see_only_published_remarks():
    published = OpinionFactory()
    OpinionFactory(status=Opinion.Status.PENDING)
    OpinionFactory(status=Opinion.Status.HIDDEN)
    assert list(Opinion.objects.visible_to(AnonymousUser())) == [published]


def test_members_list_only_published_but_may_open_their_own():
    member, other = UserFactory(), UserFactory()
    published = OpinionFactory()
    own = OpinionFactory(status=Opinion.Status.PENDING, author=member)
    OpinionFactory(status=Opinion.Status.PENDING, author=other)
    assert set(Opinion.objects.visible_to(member)) == {published}
    assert set(Opinion.objects.openable_by(member)) == {published, own}
    assert set(Opinion.objects.authored_by(member)) == {own}


def test_secretariat_permission_sees_everything_but_withdrawn():
    staff = UserFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_unpublished_opinion"))
    OpinionFactory.create_batch(3, status=Opinion.Status.HIDDEN)
    OpinionFactory(status=Opinion.Status.RETURNED)
    OpinionFactory(status=Opinion.Status.WITHDRAWN)
    assert Opinion.objects.visible_to(staff).count() == 4
    assert Opinion.objects.openable_by(staff).count() == 5


def test_every_save_increments_the_version():
    opinion = OpinionFactory()
    assert opinion.version == 1
    opinion.status = Opinion.Status.HIDDEN
    opinion.save(update_fields=["status"])
    opinion.refresh_from_db()
    assert opinion.version == 2


def test_breadcrumbs_run_from_section_to_node():
    subtheme = SubthemeFactory()
    opinion = OpinionFactory(theme=subtheme)
    assert opinion.breadcrumbs == [subtheme.parent.parent, subtheme.parent, subtheme]


def test_links_to_the_list_follow_the_script_prefix_they_are_served_under(db):
    """The list's address is reversed once per prefix, not once for good."""
    from django.urls import get_script_prefix, set_script_prefix

    from opinions.models import MunicipalitySize, opinion_list_url

    size = MunicipalitySize(slug="small-municipality")
    before = get_script_prefix()
    try:
        assert size.get_absolute_url() == "/opinions/?size=small-municipality"
        set_script_prefix("/portal/")
        assert opinion_list_url() == "/portal/opinions/"
        assert size.get_absolute_url() == "/portal/opinions/?size=small-municipality"
    finally:
        set_script_prefix(before)
    assert opinion_list_url() == "/opinions/"


def test_a_remarks_address_is_reversed_once_per_prefix_and_holds_its_own_number(db):
    from django.urls import get_script_prefix, reverse, set_script_prefix

    before = get_script_prefix()
    try:
        for pk in (1, 98, 9_876_543_210, 123_456_789_012):
            assert Opinion(pk=pk).get_absolute_url() == f"/opinions/{pk}/"
            assert Opinion(pk=pk).get_absolute_url() == reverse(
                "opinions:opinion-detail", kwargs={"pk": pk}
            )
        set_script_prefix("/portal/")
        assert Opinion(pk=7).get_absolute_url() == "/portal/opinions/7/"
    finally:
        set_script_prefix(before)
    assert Opinion(pk=7).get_absolute_url() == "/opinions/7/"
