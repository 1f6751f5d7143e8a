"""Counting attempts per user over a sliding window, in the shared cache.

For actions that must not be repeated at machine speed — wrong current passwords on the
password-change form, submissions — rather than for sign-in, which django-axes guards.
Counts live in the default cache (Redis in production, shared by every worker). If the
cache is unavailable the action is allowed: these limits slow abuse down, they do not
decide who may do what.

Each scope keeps one counter per fixed window; a count is this window's plus the previous
window's weighted by the part of it the last ``window`` seconds still cover (the
sliding-window counter). Fixed windows alone allowed the limit just before a boundary and
the limit again just after it: twice the limit within seconds.
"""

import hashlib
import logging
import math
import time

from django.core.cache import caches

logger = logging.getLogger(__name__)


def _counters(scope: str, ident: str, window: int) -> tuple[str, str, float]:
    """The keys of this window's counter and the previous one's, and how far into this
    window we are (0–1)."""
    digest = hashlib.sha256(f"{scope}:{ident}".encode()).hexdigest()[:32]
    slot, into = divmod(time.time(), window)
    prefix = f"throttle:{scope}:{digest}:"
    return f"{prefix}{int(slot)}", f"{prefix}{int(slot) - 1}", into / window


def _estimate(current: int, previous: int, elapsed: float) -> int:
    """Attempts within the last window: this window's, and the previous window's share
    that the last ``window`` seconds still cover (rounded up: never fewer)."""
    return current + math.ceil(previous * (1 - elapsed))


def count(scope: str, ident: str, *, window: int) -> int:
    """How many times ``ident`` was recorded under ``scope`` within the last ``window``
    seconds (the sliding-window estimate)."""
    key, previous_key, elapsed = _counters(scope, ident, window)
    try:
        found = caches["default"].get_many([key, previous_key])
    except Exception as error:
        logger.warning("throttle unavailable: %s: %s", type(error).__name__, error)
        return 0
    return _estimate(int(found.get(key, 0)), int(found.get(previous_key, 0)), elapsed)


def record(scope: str, ident: str, *, window: int) -> int:
    """Count one more; the new count within the last window (0 if the cache is
    unavailable). A counter is kept for two windows: the next one still weighs it."""
    key, previous_key, elapsed = _counters(scope, ident, window)
    cache = caches["default"]
    try:
        cache.add(key, 0, 2 * window)
        try:
            current = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, 2 * window)
            current = 1
        previous = int(cache.get(previous_key, 0))
    except Exception as error:
        logger.warning("throttle unavailable: %s: %s", type(error).__name__, error)
        return 0
    return _estimate(current, previous, elapsed)
