"""Cached page data, invalidated exactly by a data version the database keeps.

Every write to a table that pages count or show — remarks, their tag memberships, tags,
themes, documents, meetings, committees, synonym groups — fires a database trigger that
gives ``opinions_dataversion`` a new random token (migration 0006). Triggers catch every
path: ``save()``, ``QuerySet.update()``, ``bulk_create``, cascades, raw SQL, COPY and the
admin's bulk actions alike, so no code path can forget to invalidate.

A request reads the token once (one small query) and keys everything it caches with it.
After a change commits, every request reads the new token, so nothing computed before
the change can be served: invalidation is exact, whichever cache backend holds the
entries and however many processes share it. The token is random rather than a counter
so that a rolled-back transaction never leaves entries under a token a later change
could be given again.

Keys also hold who is asking (public, staff, or a member who also sees their own
remarks) and the language, since labels are translated.

A table added later whose rows a page shows needs the same trigger (see
``TRIGGERED_TABLES`` in the migration).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.utils.translation import get_language

T = TypeVar("T")
logger = logging.getLogger(__name__)
_MISSING = object()
_REQUEST_ATTRIBUTE = "_opinions_data_version"


def data_version() -> str:
    """The current token (``"-"`` if the table is missing, e.g. mid-migration)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM opinions_dataversion WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else "-"


def audience(user) -> str:
    """Who sees what: the part of a key that depends on the user."""
    if user.has_perm("opinions.view_unpublished_opinion"):
        return "staff"
    if user.is_authenticated:
        return f"member-{user.pk}"  # published remarks plus their own
    return "public"


def cached(request, name: str, parts, compute: Callable[[], T]) -> T:
    """``compute()``, or what it returned for the same ``name`` and ``parts`` since the
    last change to the data."""
    version = getattr(request, _REQUEST_ATTRIBUTE, None)
    if version is None:
        version = data_version()
        setattr(request, _REQUEST_ATTRIBUTE, version)
    digest = hashlib.sha256(repr((audience(request.user), get_language(), parts)).encode())
    key = f"opinions:{name}:{version}:{digest.hexdigest()[:32]}"
    cache = caches[settings.OPINIONS_CACHE]
    try:
        value = cache.get(key, _MISSING)
    except Exception:  # the cache server is down: slower pages, never broken ones
        logger.warning("cache unavailable", exc_info=True)
        return compute()
    if value is _MISSING:
        value = compute()
        try:
            cache.set(key, value, settings.OPINIONS_CACHE_SECONDS)
        except Exception:
            logger.warning("cache unavailable", exc_info=True)
    return value


def query_parts(request, *, ignore=("page", "sort")) -> tuple:
    """The request's parameters that decide a result, in a canonical order."""
    return tuple(
        sorted(
            (key, tuple(sorted(values))) for key, values in request.GET.lists() if key not in ignore
        )
    )
