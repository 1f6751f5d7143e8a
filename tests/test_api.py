"""The read API: remarks with the list's filters, the theme tree, the tags, the schema."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse

from opinions import roles
from opinions.models import Opinion, SourceDocument
from tests.factories import OpinionFactory, StakeholderFactory, UserFactory
from tests.test_browsing import more_venues, populate

pytestmark = pytest.mark.django_db

OPINIONS = reverse("opinions:api-opinion-list")
THEMES = reverse("opinions:api-theme-list")
TAGS = reverse("opinions:api-tags")
LIST = reverse("opinions:opinion-list")


def member_of(group_name):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group_name))
    return user


def ids(response):
    return [item["id"] for item in response.json()["results"]]


def every_id(client, params):
    """All ids of a filtered API list, following the pages."""
    found, page = [], 1
    while True:
        response = client.get(OPINIONS, {**params, "page": page, "page_size": 20})
        assert response.status_code == 200
        found += ids(response)
        if not response.json()["next"]:
            return found
        page += 1


# --- Opinions -----------------------------------------------------------------------------


def test_opinion_list_is_paginated_json_in_document_order(client, seed):
    response = client.get(OPINIONS)
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert data["count"] == 68 and len(data["results"]) == 50 and data["next"]
    first = data["results"][0]
    assert first["position"] == 1
    assert [t["level"] for t in first["themes"]] == [1, 2, 3]
    assert first["themes"][2]["name"] == "成果の要因"
    assert first["source_document"]["label"] == "参考資料１"
    assert first["status"] == "published"
    assert first["url"] == f"http://testserver/opinions/{first['id']}/"
    assert [o["position"] for o in client.get(OPINIONS, {"page": 2}).json()["results"]] == list(
        range(51, 69)
    )


@pytest.mark.parametrize(
    "params",
    [
        {"theme": "dai1ki-kadai"},
        {"size": ["small-municipality", "small-town"]},
        {"stakeholder": ["women", "youth"], "size": "tokyo-area"},
        {"q": "女性"},
        {"q": "地方 自治体", "sort": "relevance"},
        {"meeting": "1", "sort": "newest"},
        {"theme": "dai1ki-kensho", "stakeholder": "women", "q": "東京"},
    ],
)
def test_api_filters_give_exactly_the_lists_remarks_in_its_order(client, seed, params):
    listed = client.get(LIST, params).context["paginator"].object_list
    assert every_id(client, params) == [opinion.pk for opinion in listed]


def test_document_filter_by_slug(client, seed):
    slug = SourceDocument.objects.get().slug
    assert client.get(OPINIONS, {"document": slug}).json()["count"] == 68


def test_invalid_filter_values_are_a_400_not_a_500(client, seed):
    response = client.get(OPINIONS, {"meeting": "abc"})
    assert response.status_code == 400 and "meeting" in response.json()
    assert client.get(OPINIONS, {"theme": "no-such-theme"}).status_code == 400
    assert client.get(OPINIONS, {"page": "999"}).status_code == 404


def test_public_sees_published_only_staff_everything(client):
    published = OpinionFactory()
    pending = OpinionFactory(status=Opinion.Status.PENDING)
    hidden = OpinionFactory(status=Opinion.Status.HIDDEN)
    assert ids(client.get(OPINIONS)) == [published.pk]
    assert client.get(reverse("opinions:api-opinion-detail", args=[pending.pk])).status_code == 404
    client.force_login(member_of(roles.MEMBER))
    assert ids(client.get(OPINIONS)) == [published.pk]
    for group in (roles.SECRETARIAT, roles.ADMINISTRATOR):
        client.force_login(member_of(group))
        assert set(ids(client.get(OPINIONS))) == {published.pk, pending.pk, hidden.pk}
        detail = client.get(reverse("opinions:api-opinion-detail", args=[hidden.pk]))
        assert detail.json()["status"] == "hidden"


def test_members_own_pending_remark_is_not_listed_as_on_the_list(client):
    """Like the list page: a member's own unpublished remarks are on マイページ, not here."""
    member = member_of(roles.MEMBER)
    published = OpinionFactory()
    OpinionFactory(status=Opinion.Status.PENDING, author=member)
    client.force_login(member)
    assert ids(client.get(OPINIONS)) == [published.pk]


def test_detail(client, seed):
    opinion = Opinion.objects.get(position=34)
    data = client.get(reverse("opinions:api-opinion-detail", args=[opinion.pk])).json()
    assert data["body"] == opinion.body
    assert {tag["slug"] for tag in data["stakeholders"]} >= {"women"}
    assert client.get(reverse("opinions:api-opinion-detail", args=[999999])).status_code == 404


def test_the_api_is_read_only(client, seed):
    client.force_login(member_of(roles.ADMINISTRATOR))
    opinion = Opinion.objects.first()
    assert client.post(OPINIONS, {"body": "x"}).status_code in (403, 405)
    detail = reverse("opinions:api-opinion-detail", args=[opinion.pk])
    assert client.delete(detail).status_code in (403, 405)
    assert Opinion.objects.filter(pk=opinion.pk).exists()


# --- Themes and tags ------------------------------------------------------------------------


def test_theme_tree_with_counts(client, seed):
    sections = client.get(THEMES).json()
    assert [(s["slug"], s["count"]) for s in sections] == [
        ("dai1ki-hyoka", 46),
        ("dai2ki-theme", 22),
    ]
    kadai = next(t for t in sections[0]["children"] if t["slug"] == "dai1ki-kadai")
    assert kadai["count"] == 17
    assert [(c["short_label"], c["count"]) for c in kadai["children"]] == [
        ("自治体の課題", 6),
        ("地域の課題", 2),
        ("規模別の課題", 6),
        ("広域連携", 3),
    ]
    themes = [t for s in sections for t in s["children"]]
    assert len(themes) == 14 and sum(len(t["children"]) for t in themes) == 17


def test_theme_counts_leave_out_what_the_caller_may_not_see(client, seed):
    Opinion.objects.filter(position__lte=10).update(status=Opinion.Status.PENDING)
    assert client.get(THEMES).json()[0]["count"] == 36
    client.force_login(member_of(roles.SECRETARIAT))
    assert client.get(THEMES).json()[0]["count"] == 46


def test_tags_with_counts(client, seed):
    data = client.get(TAGS).json()
    stakeholders = {tag["slug"]: tag for tag in data["stakeholders"]}
    assert stakeholders["women"]["count"] == 4 and stakeholders["women"]["name"] == "女性"
    sizes = {tag["slug"]: tag for tag in data["municipality_sizes"]}
    assert sizes["small-municipality"]["count"] == 7
    StakeholderFactory(slug="retired", is_active=False)
    assert not {t["slug"]: t for t in client.get(TAGS).json()["stakeholders"]}["retired"][
        "is_active"
    ]


# --- Query counts and the schema -----------------------------------------------------------

ENDPOINTS = [
    lambda o, t: OPINIONS,
    lambda o, t: f"{OPINIONS}?q=女性&stakeholder={t['stakeholders'][0].slug}&sort=relevance",
    lambda o, t: reverse("opinions:api-opinion-detail", args=[o[3].pk]),
    lambda o, t: THEMES,
    lambda o, t: TAGS,
]


@pytest.mark.parametrize("endpoint", range(len(ENDPOINTS)))
def test_api_query_count_is_the_same_at_10_and_200_remarks(
    client, endpoint, django_assert_max_num_queries
):
    created, tags = populate(10)
    url = ENDPOINTS[endpoint](created, tags)
    # 12 with a search: the audience's total (count tables) decides exact or estimated.
    with django_assert_max_num_queries(12) as at_ten:
        assert client.get(url).status_code == 200
    more_venues(tags)
    populate(190, start=10, tags=tags)
    tags["stakeholders"] += StakeholderFactory.create_batch(5)
    with django_assert_max_num_queries(len(at_ten.captured_queries)):
        assert client.get(url).status_code == 200


def test_schema_is_served_and_valid(client, tmp_path):
    response = client.get(reverse("opinions:api-schema"), {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/opinions/", "/api/opinions/{id}/", "/api/themes/", "/api/tags/"} <= set(paths)
    # drf-spectacular validates against the OpenAPI 3 meta-schema and fails on any warning.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "schema.yml")


def test_docs_ui_is_served_without_a_cdn(client):
    html = client.get(reverse("opinions:api-docs")).content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html


@pytest.mark.parametrize("name", ["size", "stakeholder"])
def test_a_nul_byte_in_a_tag_filter_is_a_400_not_a_500(client, seed, name):
    """Found by schemathesis: PostgreSQL text cannot hold NUL, so no value holds one."""
    response = client.get(OPINIONS, {name: "women\x00"})
    assert response.status_code == 400
    assert response.json() == {"detail": "リクエストに使えない文字（NUL）が含まれています。"}
    assert client.get(LIST, {name: "women\x00"}).status_code == 400


def test_unknown_api_paths_answer_json_404(client, db):
    response = client.get("/api/opinions/0.5/")
    assert response.status_code == 404 and response.json() == {"detail": "見つかりません。"}
    assert client.get("/no-such-page/")["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("page_size", ["0", "201", "abc", "１０"])
def test_page_size_out_of_range_is_a_400(client, db, page_size):
    response = client.get(OPINIONS, {"page_size": page_size})
    assert response.status_code == 400 and "page_size" in response.json()


# --- Tokens, for other systems ------------------------------------------------------------


def token_for(user, **kwargs) -> str:
    from knox.models import AuthToken

    return AuthToken.objects.create(user=user, **kwargs)[1]


def test_a_secretariat_token_reads_unpublished_remarks_without_a_session(client):
    pending = OpinionFactory(status=Opinion.Status.PENDING)
    published = OpinionFactory()
    url = reverse("opinions:api-opinion-list")
    staff = {"HTTP_AUTHORIZATION": f"Token {token_for(member_of(roles.SECRETARIAT))}"}
    assert set(ids(client.get(url, **staff))) == {pending.pk, published.pk}
    member = {"HTTP_AUTHORIZATION": f"Token {token_for(member_of(roles.MEMBER))}"}
    assert ids(client.get(url, **member)) == [published.pk]
    assert ids(client.get(url)) == [published.pk]  # no token: the public


def test_a_wrong_token_is_refused_with_a_clear_error(client):
    response = client.get(
        reverse("opinions:api-opinion-list"), HTTP_AUTHORIZATION="Token not-a-real-token"
    )
    assert response.status_code == 401
    assert "トークン" in response.json()["detail"]


def administrator_in_admin():
    administrator = member_of(roles.ADMINISTRATOR)
    administrator.is_staff = True
    administrator.save()
    return administrator


def test_administrators_issue_a_token_shown_once_and_kept_only_hashed(client):
    from knox.models import AuthToken

    holder = member_of(roles.SECRETARIAT)
    client.force_login(administrator_in_admin())
    add = reverse("admin:knox_authtoken_add")
    assert client.get(add).status_code == 200
    issued = client.post(add, {"user": holder.pk, "lifetime": "30"})
    assert issued.status_code == 200 and "二度と表示できません" in issued.content.decode()
    token = issued.context["token"]
    stored = AuthToken.objects.get(user=holder)
    assert token not in str(vars(stored)) and stored.digest != token
    assert 29 <= (stored.expiry - stored.created).days <= 30
    listing = client.get(reverse("admin:knox_authtoken_changelist")).content.decode()
    # Its first characters tell it apart; the rest is nowhere (the digest, its row's key,
    # cannot be turned back into it).
    assert f"{token[:6]}…" in listing and token[:16] not in listing
    client.logout()
    assert client.get(OPINIONS, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200


def test_the_secretariat_cannot_issue_tokens(client):
    secretary = member_of(roles.SECRETARIAT)
    secretary.is_staff = True
    secretary.save()
    client.force_login(secretary)
    assert client.get(reverse("admin:knox_authtoken_add")).status_code == 403


def test_an_expired_token_is_refused(client):
    from datetime import timedelta

    token = token_for(member_of(roles.SECRETARIAT), expiry=timedelta(seconds=-1))
    response = client.get(OPINIONS, HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 401 and "期限" in response.json()["detail"]


def test_a_revoked_token_is_refused(client):
    from knox.models import AuthToken

    holder = member_of(roles.SECRETARIAT)
    token = token_for(holder)
    assert client.get(OPINIONS, HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    client.force_login(administrator_in_admin())
    stored = AuthToken.objects.get(user=holder)
    delete = reverse("admin:knox_authtoken_delete", args=[stored.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    client.logout()
    assert client.get(OPINIONS, HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_a_clear_text_token_from_before_keeps_working_hashed(db):
    """Migration 0015: an old DRF token is stored hashed, with an expiry, and still works."""
    import importlib

    from django.apps import apps
    from knox.auth import TokenAuthentication
    from knox.models import AuthToken
    from rest_framework.authtoken.models import Token

    holder = member_of(roles.SECRETARIAT)
    old = Token.objects.create(user=holder)
    migration = importlib.import_module("opinions.migrations.0015_security")
    migration.hash_tokens(apps, None)
    assert not Token.objects.exists()
    stored = AuthToken.objects.get(user=holder)
    assert stored.expiry is not None and old.key not in stored.digest
    user, _token = TokenAuthentication().authenticate_credentials(old.key.encode())
    assert user == holder
