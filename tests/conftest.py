from pathlib import Path

import pytest

from opinions.management.commands.load_seed import load_seed_fixture
from opinions.models import Opinion

ROOT = Path(__file__).resolve().parent.parent
SEED_PATH = ROOT / "fixtures" / "source" / "000_7e59f9f179f907ca.txt"


@pytest.fixture(scope="session")
def seed_text() -> str:
    """The committee's document, as extracted from its PDF (kept byte-for-byte)."""
    return SEED_PATH.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _empty_caches():
    """Each test starts with nothing cached (the data version alone would do; this keeps
    one test's entries from hiding another's mistakes)."""
    from django.core.cache import cache

    from opinions.browsing import caching

    cache.clear()
    caching.clear_local()
    caching.breaker.reset()


@pytest.fixture(autouse=True)
def _japanese():
    """Each test starts in the portal's language. A request leaves the language it was
    served in active in its thread (LocaleMiddleware does not put it back), so after an
    English page, code called outside a request (a service's messages) would speak English
    in whichever test ran next on that process."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        yield


@pytest.fixture
def throttle_clock(monkeypatch):
    """The throttles' clock, held still until a test moves it (``throttle_clock.now``), so
    a test of a limit reads the same count wherever in a window it runs
    (opinions/throttling.py; with fixed windows, a test straddling a 15-minute boundary
    once saw its count start again)."""
    from types import SimpleNamespace

    from opinions import throttling

    clock = SimpleNamespace(now=throttling.time.time())
    monkeypatch.setattr(throttling, "time", SimpleNamespace(time=lambda: clock.now))
    return clock


@pytest.fixture
def seed(db):
    """The seed fixtures loaded into the test database."""
    load_seed_fixture()
    return Opinion.objects.all()


@pytest.fixture
def on_postgresql(settings):
    if not settings.IS_POSTGRESQL:
        pytest.skip("needs PostgreSQL")
