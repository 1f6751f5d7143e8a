"""Responses to a signed-in user or a token are never kept by a shared or browser cache
(portal/middleware.PrivateResponseMiddleware)."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from opinions import roles
from tests.factories import OpinionFactory, UserFactory
from tests.test_api import token_for

pytestmark = pytest.mark.django_db


def staff():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    return user


def is_private(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"private", "no-store"} <= directives


SIGNED_IN_PAGES = [
    reverse("opinions:opinion-list"),
    reverse("opinions:theme-index"),
    reverse("opinions:mypage"),
    reverse("opinions:review-queue"),
    reverse("opinions:opinion-export-csv"),
    reverse("opinions:opinion-export-xlsx"),
    reverse("opinions:summary-text"),
    reverse("opinions:api-opinion-list"),
    reverse("admin:index"),
]


@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
def test_every_response_to_a_signed_in_user_is_private_and_not_stored(client, url):
    OpinionFactory()
    client.force_login(staff())
    response = client.get(url)
    assert response.status_code == 200
    assert is_private(response), response.get("Cache-Control")


def test_an_error_page_for_a_signed_in_user_is_private_too(client):
    client.force_login(staff())
    response = client.get("/opinions/999999/")
    assert response.status_code == 404 and is_private(response)


def test_a_token_response_is_private_and_varies_on_authorization(client):
    OpinionFactory()
    headers = {"HTTP_AUTHORIZATION": f"Token {token_for(staff())}"}
    response = client.get(reverse("opinions:api-opinion-list"), **headers)
    assert response.status_code == 200
    assert is_private(response)
    assert "authorization" in response["Vary"].lower()


def test_a_refused_token_is_private_too(client):
    response = client.get(
        reverse("opinions:api-opinion-list"), HTTP_AUTHORIZATION="Token not-a-real-token"
    )
    assert response.status_code == 401 and is_private(response)


def test_anonymous_api_answers_vary_on_authorization_and_stay_cacheable(client):
    """A proxy caching the public answer must not hand it to a caller with a token."""
    OpinionFactory()
    response = client.get(reverse("opinions:api-opinion-list"))
    assert "authorization" in response["Vary"].lower()
    assert not is_private(response)


def test_anonymous_pages_stay_cacheable(client):
    OpinionFactory()
    response = client.get(reverse("opinions:opinion-list"))
    assert response.status_code == 200 and not is_private(response)
