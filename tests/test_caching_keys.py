"""What the cache is keyed on and what it may hold (opinions/caching.py): the values a page
actually reads, in canonical form, so that no visitor can add entries at will, and a Redis
that hangs costs milliseconds, not seconds."""

import logging
import socket
import threading
import time

import pytest
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opinions.browsing import caching
from tests.factories import OpinionFactory, StakeholderFactory, ThemeFactory

pytestmark = pytest.mark.django_db

LIST = reverse("opinions:opinion-list")


@pytest.fixture
def page_cache(settings):
    settings.OPINIONS_PAGE_CACHE = True


@pytest.fixture
def two_themes():
    """Theme A with one remark, theme B with three."""
    a, b = ThemeFactory(slug="theme-a"), ThemeFactory(slug="theme-b")
    OpinionFactory(theme=a, body="Aの意見")
    OpinionFactory.create_batch(3, theme=b, body="Bの意見")
    return a, b


def stored_keys() -> set[str]:
    return set(caches["default"]._cache)  # the tests' local-memory backend


def rows_and_count(response) -> tuple[int, int]:
    return len(response.context["object_list"]), response.context["paginator"].count


def test_junk_parameters_add_no_cache_entries(client, two_themes, page_cache):
    client.get(LIST, {"theme": "theme-b"})
    before = stored_keys()
    for n in range(30):
        response = client.get(LIST, {"theme": "theme-b", f"junk{n}": "x" * 200})
        assert response.status_code == 200
    assert stored_keys() == before


def test_a_junk_parameter_is_served_the_canonical_page(client, two_themes, page_cache):
    first = client.get(LIST, {"theme": "theme-b"})
    with CaptureQueriesContext(connection) as queries:
        junk = client.get(LIST, {"theme": "theme-b", "utm_source": "mail"})
    assert junk.content == first.content
    assert len(queries.captured_queries) == 1  # the data version only


def test_a_page_asked_for_with_junk_is_never_stored_for_others(client, two_themes, page_cache):
    """The page repeats its own query string (pagination, language switch): one visitor's
    parameter must not reach the next visitor's page."""
    client.get(LIST, {"theme": "theme-b", "evil": "被害者への文言"})
    clean = client.get(LIST, {"theme": "theme-b"}).content.decode()
    assert "evil" not in clean and "被害者への文言" not in clean


def test_unknown_filter_values_add_no_cache_entries(client, two_themes, page_cache):
    client.get(LIST)
    before = stored_keys()
    for n in range(20):
        client.get(LIST, {"stakeholder": f"nope-{n}"})
        client.get(LIST, {"theme": f"nope-{n}"})
    assert stored_keys() == before


@pytest.mark.parametrize("cached_pages", [False, True], ids=["counts cache", "page cache"])
def test_a_repeated_single_parameter_is_read_as_the_view_reads_it(
    client, two_themes, settings, cached_pages
):
    """?theme=A&theme=B is theme B's page (the last value, as the form reads it), and
    ?theme=B&theme=A theme A's, whichever was asked for first; count and rows agree."""
    settings.OPINIONS_PAGE_CACHE = cached_pages
    for _round in range(2):
        b = client.get(f"{LIST}?theme=theme-a&theme=theme-b")
        a = client.get(f"{LIST}?theme=theme-b&theme=theme-a")
        if b.context is not None:
            assert rows_and_count(b) == (3, 3)
            assert rows_and_count(a) == (1, 1)
        assert b.content.decode().count("Bの意見") == 3 and "Aの意見" not in b.content.decode()
        assert a.content.decode().count("Aの意見") == 1 and "Bの意見" not in a.content.decode()


def test_permuted_tag_alternatives_share_one_entry(client, page_cache):
    women, youth = StakeholderFactory(slug="women"), StakeholderFactory(slug="youth")
    OpinionFactory().stakeholders.add(women)
    OpinionFactory().stakeholders.add(youth)
    first = client.get(f"{LIST}?stakeholder=women&stakeholder=youth")
    assert rows_and_count(first) == (2, 2)
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{LIST}?stakeholder=youth&stakeholder=women&stakeholder=youth")
    assert len(queries.captured_queries) == 1


def test_the_scheme_is_part_of_the_page_key(client, page_cache):
    """The page links to itself absolutely (permalink): an https visitor must not get the
    http page."""
    opinion = OpinionFactory()
    url = opinion.get_absolute_url()
    assert "http://testserver/" in client.get(url).content.decode()
    secure = client.get(url, secure=True).content.decode()
    assert "https://testserver/" in secure and "http://testserver/" not in secure


def test_every_entry_expires(client, two_themes, page_cache, settings):
    settings.OPINIONS_CACHE_SECONDS = 60
    client.get(LIST, {"theme": "theme-b"})
    expiries = caches["default"]._expire_info.values()
    assert expiries and all(at is not None and at <= time.time() + 60 for at in expiries)


# --- A Redis that accepts connections and never answers ---------------------------------


@pytest.fixture
def hung_redis(settings):
    """A server that accepts every connection and never sends a byte, as the cache."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held, stop = [], threading.Event()

    def accept():
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    settings.CACHES = {
        **settings.CACHES,
        "hung": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{listener.getsockname()[1]}/0",
            "OPTIONS": settings.REDIS_OPTIONS,
        },
    }
    settings.OPINIONS_CACHE = "hung"
    yield
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


@pytest.mark.serial  # timed
def test_a_hung_cache_costs_one_timeout_not_one_per_call(client, two_themes, hung_redis, settings):
    settings.OPINIONS_PAGE_CACHE = False  # every request computes, asking the hung cache
    started = time.monotonic()
    for _ in range(5):
        response = client.get(LIST, {"theme": "theme-b"})
        assert rows_and_count(response) == (3, 3)
        client.get(reverse("opinions:theme-index"))
    # Five list pages and five theme indexes, about ten cache calls each: at 0.25 s each
    # that would be well over ten seconds.
    assert time.monotonic() - started < 3


@pytest.mark.serial  # timed
def test_healthz_reports_a_hung_cache_as_degraded_but_stays_up(client, db, hung_redis):
    started = time.monotonic()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "degraded"}
    assert time.monotonic() - started < 1


def test_healthz_reports_a_working_cache(client, db):
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "cache": "ok"}


def test_a_cache_outage_is_logged_once_without_a_traceback(client, two_themes, hung_redis, caplog):
    with caplog.at_level(logging.WARNING, logger=caching.logger.name):
        for _ in range(3):
            client.get(LIST, {"theme": "theme-b"})
    records = [r for r in caplog.records if r.name == caching.logger.name]
    assert len(records) == 1
    assert records[0].exc_info is None and "cache unavailable" in records[0].getMessage()


def test_the_cache_is_used_again_once_it_answers(db, settings):
    settings.OPINIONS_CACHE_RETRY_SECONDS = 0
    caching.breaker.failed(TimeoutError("hung"))
    assert caching.breaker.is_open
    assert caching.cache_status() == "ok" and not caching.breaker.is_open
