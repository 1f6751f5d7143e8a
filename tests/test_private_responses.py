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


# --- Other headers ------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/themes/", "/opinions/", "/api/opinions/", "/accounts/login/"])
def test_every_page_sends_a_permissions_policy(client, db, url):
    policy = client.get(url)["Permissions-Policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


@pytest.mark.parametrize("name", ["opinions:api-docs", "opinions:api-redoc"])
def test_the_api_documentation_pages_send_a_csp_without_inline_scripts(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'self'" in script_src
    html = response.content.decode()
    assert "<script>" not in html  # every script is a file


def test_swagger_ui_s_start_up_script_is_served_as_a_file(client, db):
    html = client.get(reverse("opinions:api-docs")).content.decode()
    import re

    script = re.search(r'<script src="([^"]*script=[^"]*)"', html).group(1).replace("&amp;", "&")
    response = client.get(script)
    assert response.status_code == 200 and "SwaggerUIBundle" in response.content.decode()


def test_the_api_schema_is_in_the_language_of_each_request(client, db):
    """Not frozen in the language of whichever request came first."""
    url = reverse("opinions:api-schema")
    client.get(url, {"format": "json"})
    client.cookies["django_language"] = "en"

    def size_description():
        schema = client.get(url, {"format": "json"}).json()
        parameters = schema["paths"]["/api/opinions/"]["get"]["parameters"]
        return next(p["description"] for p in parameters if p["name"] == "size")

    assert size_description().startswith("Slug of the")
    client.cookies["django_language"] = "ja"
    assert "スラッグ" in size_description()
