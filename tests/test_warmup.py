"""A worker's start (portal/wsgi.py): every view imported, every template compiled, and
what the process then holds frozen out of the garbage collector's full collections."""

import gc

import pytest
from django.urls import get_resolver

from portal import warmup


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_worker_compiles_every_template_and_freezes_what_it_holds(unfrozen):
    names = warmup._template_names()
    assert "opinions/opinion_list.html" in names and "base.html" in names
    resolver = get_resolver()
    assert any(found is resolver for found in gc.get_objects())
    # What was frozen (an object of it freed since leaves the permanent generation).
    assert warmup.settle() > 10_000
    # The URLconf is among them: no collection walks it any more.
    assert not any(found is resolver for found in gc.get_objects())


def test_what_requests_create_afterwards_is_still_collected(unfrozen):
    warmup.settle()

    class Node:
        pass

    first, second = Node(), Node()
    first.other, second.other = second, first  # a cycle: only the collector frees it
    del first, second
    assert gc.collect() >= 2


class Recording:
    """The portal's WSGI application, noting the path and status of what it serves."""

    def __init__(self):
        from django.core.wsgi import get_wsgi_application

        self.application, self.served = get_wsgi_application(), []

    def __call__(self, environ, start_response):
        def note(status, headers, exc_info=None):
            self.served.append((environ["PATH_INFO"], status))
            return start_response(status, headers, exc_info)

        return self.application(environ, note)


# Transactional: the warm-up closes the connection, which a test's transaction would not
# survive; restored rather than flushed, or the roles the flush takes would clash with the
# next transactional test's restore.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_serves_one_page_before_its_first_visitor_and_lets_go_of_the_database(
    unfrozen,
):
    from django.db import connection

    application = Recording()
    warmup.settle(application)
    assert application.served == [(warmup.WARM_UP_PATH, "200 OK")]
    # The starting thread serves nobody: its connection is closed (SQLite keeps an in-memory
    # test database open, as closing it would lose it).
    if connection.vendor == "postgresql":
        assert connection.connection is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_warm_up_request_is_served_where_the_site_insists_on_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = [".iken.example.go.jp"]
    assert warmup.warm_up(Recording()) == 200  # not the redirect to https


def test_a_warm_up_that_fails_is_logged_and_the_worker_starts(caplog):
    def unavailable(environ, start_response):
        start_response("503 Service Unavailable", [])
        return [b""]

    assert warmup.warm_up(unavailable) == 503
    assert "warm-up request /themes/ answered [503]" in caplog.text
