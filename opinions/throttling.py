"""Counting attempts per user in fixed windows, in the shared cache.

For actions that must not be repeated at machine speed — wrong current passwords on the
password-change form, submissions — rather than for sign-in, which django-axes guards.
Counts live in the default cache (Redis in production, shared by every worker). If the
cache is unavailable the action is allowed: these limits slow abuse down, they do not
decide who may do what.
"""

import hashlib
import logging
import time

from django.core.cache import caches

logger = logging.getLogger(__name__)


def _key(scope: str, ident: str, window: int) -> str:
    digest = hashlib.sha256(f"{scope}:{ident}".encode()).hexdigest()[:32]
    return f"throttle:{scope}:{digest}:{int(time.time() // window)}"


def count(scope: str, ident: str, *, window: int) -> int:
    """How many times ``ident`` was recorded under ``scope`` in the current window."""
    try:
        return int(caches["default"].get(_key(scope, ident, window), 0))
    except Exception as error:
        logger.warning("throttle unavailable: %s: %s", type(error).__name__, error)
        return 0


def record(scope: str, ident: str, *, window: int) -> int:
    """Count one more; the new count (0 if the cache is unavailable)."""
    key = _key(scope, ident, window)
    cache = caches["default"]
    try:
        cache.add(key, 0, window)
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1
    except Exception as error:
        logger.warning("throttle unavailable: %s: %s", type(error).__name__, error)
        return 0
