"""While the database is away, pages answer 503 with Retry-After, never a 500
(portal/middleware.py; the outage itself is bench/outage.py, ``make outage``)."""

import logging

import pytest
from django.contrib.sessions.middleware import SessionMiddleware
from django.db import InterfaceError, OperationalError, connection
from django.test import Client
from django.urls import reverse

from opinions import views
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

THEMES = reverse("opinions:theme-index")


def raise_(error):
    def method(*args, **kwargs):
        raise error

    return method


def assert_is_the_503_page(response):
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "ただいま一時的に利用できません" in page
    assert "30秒ほど待ってから" in page
    assert "二重に登録されることはありません" in page


@pytest.mark.parametrize(
    "error",
    [OperationalError("connection refused"), InterfaceError("connection already closed")],
    ids=["OperationalError", "InterfaceError"],
)
def test_a_database_error_in_a_view_is_the_503_page_logged_in_one_line(
    client, monkeypatch, caplog, error
):
    monkeypatch.setattr(views.ThemeIndexView, "get_context_data", raise_(error))
    with caplog.at_level(logging.INFO):
        response = client.get(THEMES)
    assert_is_the_503_page(response)
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        (
            "portal.database",
            "ERROR",
            f"database unavailable, 503 for GET {THEMES}: {type(error).__name__}: {error}",
        )
    ]


def test_the_drivers_own_error_is_recognised_too(client, monkeypatch):
    """Django leaves some driver calls unwrapped (closing a server-side cursor)."""
    error = connection.Database.OperationalError("server closed the connection unexpectedly")
    monkeypatch.setattr(views.ThemeIndexView, "get_context_data", raise_(error))
    assert_is_the_503_page(client.get(THEMES))


def test_the_503_page_itself_does_not_touch_the_database(client, monkeypatch, settings):
    """Once the view has failed, nothing more is asked of the database (the middleware that
    ran before it may have read the session: in an outage that fails, and handler500 gives
    the same page)."""
    client.force_login(UserFactory())  # base.html would look the user up: the page must not
    failed = []
    after_the_failure = []

    def view_fails(*args, **kwargs):
        failed.append(True)
        raise OperationalError()

    def record(execute, sql, params, many, context):
        if failed:
            after_the_failure.append(sql)
        return execute(sql, params, many, context)

    monkeypatch.setattr(views.ThemeIndexView, "get_context_data", view_fails)
    with connection.execute_wrapper(record):
        assert_is_the_503_page(client.get(THEMES))
    assert failed and after_the_failure == []


def test_a_database_error_outside_the_view_gets_the_503_page_too(monkeypatch):
    monkeypatch.setattr(
        SessionMiddleware, "process_response", raise_(OperationalError("connection refused"))
    )
    assert_is_the_503_page(Client(raise_request_exception=False).get(THEMES))


def test_other_errors_are_still_the_500_page(monkeypatch):
    monkeypatch.setattr(views.ThemeIndexView, "get_context_data", raise_(ValueError("a bug")))
    response = Client(raise_request_exception=False).get(THEMES)
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "エラーが発生しました" in response.content.decode()


def test_a_write_that_lost_to_another_even_after_retries_is_a_409_page_keeping_the_input(
    client, monkeypatch, caplog
):
    """Not the outage page: the database is fine, the user sends the same input again."""
    import psycopg
    from django.contrib.auth.models import Group

    from opinions import services

    from .factories import SubthemeFactory

    deadlock = OperationalError("deadlock detected")
    deadlock.__cause__ = psycopg.errors.DeadlockDetected("deadlock detected")
    monkeypatch.setattr(services, "submit_opinion", raise_(deadlock))
    member = UserFactory()
    member.groups.add(Group.objects.get(name="委員"))
    client.force_login(member)
    theme = SubthemeFactory()
    body = "地域の<大学>と企業が連携して、人材を育てる仕組みが必要だ。"
    data = {"body": body, "theme": theme.pk, "step": "save", "not_duplicate": "on",
            "token": "8d1c2c4e-9d7e-4d7b-9a51-0f3f0d6c2b11"}  # fmt: skip
    with caplog.at_level(logging.INFO):
        response = client.post(reverse("opinions:submit"), data)
    assert response.status_code == 409
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "同時に更新されました" in page
    assert "一時的に利用できません" not in page
    assert f'action="{reverse("opinions:submit")}"' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert 'name="body" value="地域の&lt;大学&gt;と企業が連携して' in page
    assert f'name="theme" value="{theme.pk}"' in page
    assert [r.levelname for r in caplog.records if r.name == "portal.database"] == ["WARNING"]
