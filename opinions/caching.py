"""Cached page data, invalidated exactly by a data version the database keeps.

Every write to a table that pages count or show — remarks, their tag memberships, tags,
themes, documents, meetings, committees, synonym groups — fires a statement trigger that
gives the data version a new value once the writing transaction commits
(``opinions/sql/postgresql/data_version.sql``; ``sqlite/data_version.sql`` on SQLite).
Triggers catch every path: ``save()``, ``QuerySet.update()``, ``bulk_create``, cascades,
raw SQL, COPY and the admin's bulk actions alike, so no code path can forget to invalidate.
On PostgreSQL each writing transaction adds a row of its own instead of updating a shared
one, so writers do not queue behind each other for it, and a value is only visible once
the data it stands for is.

A request reads the version once (one small query) and keys everything it caches with it.
After a change commits, every request reads the new version, so nothing computed before
the change can be served: invalidation is exact, whichever cache backend holds the
entries and however many processes share it. Entries computed after a change under the
version read before it hold newer data, never older.

Keys also hold who is asking (public, staff, or a member who also sees their own
remarks) and the language, since labels are translated.

A table added later whose rows a page shows needs the same trigger (data_version.sql).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.db import connection
from django.http import HttpResponse
from django.utils.translation import get_language

T = TypeVar("T")
logger = logging.getLogger(__name__)
_MISSING = object()
_REQUEST_ATTRIBUTE = "_opinions_data_version"


@functools.cache
def release() -> str:
    """This deployment's code: cached pages from an older release are not served after a
    deploy (Redis outlives processes). The newest modification time of the templates,
    the app, the static files and the translations; OPINIONS_CACHE_RELEASE overrides it."""
    if settings.OPINIONS_CACHE_RELEASE:
        return settings.OPINIONS_CACHE_RELEASE
    base = Path(settings.BASE_DIR)
    newest = max(
        (path.stat().st_mtime for folder in ("templates", "opinions", "static", "portal", "locale")
         for path in (base / folder).rglob("*") if path.is_file()),
        default=0,
    )  # fmt: skip
    return f"{newest:.0f}"


# Entries are only ever looked up under the current data version, so old ones are never
# served; they are just evicted, the least recently used first. Shared by the threads of a
# gunicorn gthread worker (make serve), hence the lock.
_local: OrderedDict[str, object] = OrderedDict()
_local_lock = threading.Lock()


def _recall(key: str):
    with _local_lock:
        value = _local.get(key, _MISSING)
        if value is not _MISSING:
            _local.move_to_end(key)
        return value


def _remember(key: str, value) -> None:
    with _local_lock:
        _local[key] = value
        _local.move_to_end(key)
        while len(_local) > settings.OPINIONS_LOCAL_CACHE_ENTRIES:
            _local.popitem(last=False)


def clear_local() -> None:
    """Forget this process's copies (tests, and the benchmark's uncached series)."""
    with _local_lock:
        _local.clear()


def data_version() -> str:
    """The current version (``"-"`` if the database has none yet, e.g. mid-migration)."""
    sql = (
        "SELECT opinions_data_version()"
        if connection.vendor == "postgresql"
        else "SELECT token FROM opinions_dataversion WHERE id = 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
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
    key = f"opinions:{name}:{release()}:{version}:{digest.hexdigest()[:32]}"
    # First this process's own memory (no round trip, no unpickling), then the shared cache.
    value = _recall(key)
    if value is not _MISSING:
        return value
    cache = caches[settings.OPINIONS_CACHE]
    try:
        value = cache.get(key, _MISSING)
    except Exception:  # the cache server is down: slower pages, never broken ones
        logger.warning("cache unavailable", exc_info=True)
        value = _MISSING
    if value is _MISSING:
        value = compute()
        try:
            cache.set(key, value, settings.OPINIONS_CACHE_SECONDS)
        except Exception:
            logger.warning("cache unavailable", exc_info=True)
    _remember(key, value)
    return value


def query_parts(request, *, ignore=("page", "sort")) -> tuple:
    """The request's parameters that decide a result, in a canonical order."""
    return tuple(
        sorted(
            (key, tuple(sorted(values))) for key, values in request.GET.lists() if key not in ignore
        )
    )


class CachedPageMixin:
    """Serve anonymous visitors a page rendered once per data version.

    The public sees the same page for the same address, language and data, so its HTML
    is cached whole under the data version (rendering fifty remarks and a hundred facet
    options costs more than the rest of the request). Not cached: signed-in users (their
    pages name them and carry a CSRF token), requests with messages to show (notices about
    ignored parameters are per request), and anything but a 200.
    """

    page_cache_name: str

    def dispatch(self, request, *args, **kwargs):
        if (
            not settings.OPINIONS_PAGE_CACHE
            or request.method != "GET"
            or request.user.is_authenticated
            or len(messages.get_messages(request))
        ):
            return super().dispatch(request, *args, **kwargs)
        parts = (request.get_host(), request.path, query_parts(request, ignore=()))
        rendered = {}

        def render():
            response = super(CachedPageMixin, self).dispatch(request, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            rendered["response"] = response
            if (
                response.status_code != 200
                or len(messages.get_messages(request))
                # The page holds this visitor's CSRF token: sharing it would break others' forms.
                or request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
            ):
                return None  # nothing to share
            return (response.content, response["Content-Type"])

        cached_page = cached(request, self.page_cache_name, parts, render)
        if cached_page is None:  # not cacheable: the response rendered just now, if any
            return rendered.get("response") or super().dispatch(request, *args, **kwargs)
        if "response" in rendered:
            return rendered["response"]
        content, content_type = cached_page
        return HttpResponse(content, content_type=content_type)
