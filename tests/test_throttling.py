"""The attempt counters behind the password-change pause and the submission limit."""

import pytest

from opinions import throttling

WINDOW = 900


@pytest.fixture
def clock(throttle_clock):
    """The throttles' clock (conftest.py) at the start of a window."""
    throttle_clock.now = 100 * WINDOW
    return throttle_clock


def attempts(n):
    for _ in range(n):
        throttling.record("password-change", "7", window=WINDOW)


def counted():
    return throttling.count("password-change", "7", window=WINDOW)


def test_attempts_are_counted_per_scope_and_person(clock):
    attempts(3)
    assert counted() == 3
    assert throttling.count("password-change", "8", window=WINDOW) == 0
    assert throttling.count("submit", "7", window=WINDOW) == 0


def test_attempts_just_before_a_window_ends_still_count_just_after(clock):
    clock.now = 101 * WINDOW - 1
    attempts(5)
    clock.now = 101 * WINDOW + 1  # a fixed window would start again from none
    assert counted() == 5
    assert throttling.record("password-change", "7", window=WINDOW) == 6


def test_earlier_attempts_weigh_less_as_the_window_slides_past_them(clock):
    attempts(4)  # at the start of a window
    clock.now += WINDOW + WINDOW // 2  # halfway through the next one
    assert counted() == 2
    clock.now += WINDOW // 2  # a whole window later
    assert counted() == 0


def test_an_unavailable_cache_allows_the_action(clock, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    assert throttling.record("submit", "7", window=WINDOW) == 0
    assert throttling.count("submit", "7", window=WINDOW) == 0
