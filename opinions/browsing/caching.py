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
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.contrib import messages
from django.core.cache import caches
from django.db import connections, router
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
    """The current version (``"-"`` if the database has none yet, e.g. mid-migration),
    read where the request's other reads go (a replica: portal/replicas.py), so that it is
    never newer than the rows cached under it."""
    from ..models import DataChange

    connection = connections[router.db_for_read(DataChange)]
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


class _CircuitBreaker:
    """After a shared-cache call fails, leave the cache alone for a while.

    Redis calls have short timeouts (``REDIS_SOCKET_TIMEOUT``), but a server that accepts
    connections and never answers would still cost that timeout on every call of every
    page. Once a call has failed, the breaker is open: for ``OPINIONS_CACHE_RETRY_SECONDS``
    pages compute what they need and skip the shared cache at no cost; then one call tries
    again, and success closes the breaker. One log line per opening, not a traceback per
    call. Per process, shared by its threads.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._opened = False

    def allows(self) -> bool:
        """Whether to call the cache now. While open, one caller per period gets to try
        (the others keep skipping), so a hung server costs one timeout per period, not one
        per thread."""
        if not self._opened:
            return True
        with self._lock:
            now = time.monotonic()
            if now < self._open_until:
                return False
            self._open_until = now + settings.OPINIONS_CACHE_RETRY_SECONDS
            return True

    @property
    def is_open(self) -> bool:
        return self._opened

    def failed(self, error: BaseException) -> None:
        with self._lock:
            self._open_until = time.monotonic() + settings.OPINIONS_CACHE_RETRY_SECONDS
            self._opened = True
        logger.warning(
            "cache unavailable, not used for %ss: %s: %s",
            settings.OPINIONS_CACHE_RETRY_SECONDS,
            type(error).__name__,
            " ".join(str(error).split())[:200],
        )

    def succeeded(self) -> None:
        if self._opened:
            with self._lock:
                was_open, self._opened, self._open_until = self._opened, False, 0.0
            if was_open:
                logger.info("cache available again")

    def reset(self) -> None:
        with self._lock:
            self._opened, self._open_until = False, 0.0


breaker = _CircuitBreaker()


def _shared_get(key: str):
    if not breaker.allows():
        return _MISSING
    try:
        value = caches[settings.OPINIONS_CACHE].get(key, _MISSING)
    except Exception as error:  # the cache server is down or hung: slower pages, never broken
        breaker.failed(error)
        return _MISSING
    breaker.succeeded()
    return value


def _shared_set(key: str, value) -> None:
    if not breaker.allows():
        return
    try:
        caches[settings.OPINIONS_CACHE].set(key, value, settings.OPINIONS_CACHE_SECONDS)
    except Exception as error:
        breaker.failed(error)
    else:
        breaker.succeeded()


def cache_status() -> str:
    """For /healthz: "ok", or "degraded" when the shared cache does not answer (pages are
    then computed every time, still correct)."""
    _shared_get("opinions:healthz")  # free while the breaker is open, else one round trip
    return "degraded" if breaker.is_open else "ok"


def _key(request, name: str, parts) -> str:
    version = getattr(request, _REQUEST_ATTRIBUTE, None)
    if version is None:
        version = data_version()
        setattr(request, _REQUEST_ATTRIBUTE, version)
    digest = hashlib.sha256(repr((audience(request.user), get_language(), parts)).encode())
    return f"opinions:{name}:{release()}:{version}:{digest.hexdigest()[:32]}"


def _lookup(key: str):
    # First this process's own memory (no round trip, no unpickling), then the shared cache.
    value = _recall(key)
    if value is _MISSING:
        value = _shared_get(key)
        if value is not _MISSING:
            _remember(key, value)
    return value


def _store(key: str, value) -> None:
    _shared_set(key, value)
    _remember(key, value)


def cached(request, name: str, parts, compute: Callable[[], T]) -> T:
    """``compute()``, or what it returned for the same ``name`` and ``parts`` since the
    last change to the data. ``parts`` must come from values the computation actually
    uses (validated, canonical), never from raw request parameters: anything a visitor
    can vary freely would add entries at will."""
    key = _key(request, name, parts)
    value = _lookup(key)
    if value is _MISSING:
        value = compute()
        _store(key, value)
    return value


def page_query(data, parameters: Mapping[str, int]) -> tuple[tuple, bool] | None:
    """The query of a page as its view reads it, in canonical form: ``(key part,
    shareable)``, or None when the page must not be cached at all.

    ``parameters`` maps each parameter the view reads to how many values it reads: 1 for
    a single value (a form field reads the last one, as ``QueryDict`` gives it), more for
    a set of up to that many alternatives (order and repetition do not matter; more than
    that many and the view reads only the first ones, so order would: not cached).
    Unknown parameters are left out of the key, so junk added to an address is served
    the canonical page and adds nothing. A request is *shareable* — its page may be
    stored for others — only if it has nothing but what the key holds (no unknown
    parameter, no repeated single value): the page repeats its own query string in its
    links and language switch, which must not carry one visitor's junk to the next.
    """
    parts, shareable = [], True
    for name, values in data.lists():
        most = parameters.get(name)
        if most is None:
            shareable = False
        elif most == 1:
            parts.append((name, values[-1]))
            shareable = shareable and len(values) == 1
        elif len(values) > most:
            return None
        else:
            parts.append((name, tuple(sorted(set(values)))))
    return tuple(sorted(parts)), shareable


class CachedPageMixin:
    """Serve anonymous visitors a page rendered once per data version.

    The public sees the same page for the same address, language and data, so its HTML
    is cached whole under the data version (rendering fifty remarks and a hundred facet
    options costs more than the rest of the request). The key holds the scheme, host,
    path and the parameters the view reads (``page_cache_parameters``, see
    :func:`page_query`). Not cached: signed-in users (their pages name them and carry a
    CSRF token), requests with messages to show (notices about ignored parameters are per
    request), and anything but a 200; nothing is stored for them either.
    """

    page_cache_name: str
    # Parameter → how many values the view reads (see page_query); others are ignored.
    page_cache_parameters: Mapping[str, int] = {}

    def dispatch(self, request, *args, **kwargs):
        query = None
        if (
            settings.OPINIONS_PAGE_CACHE
            and request.method == "GET"
            and not request.user.is_authenticated
            and not len(messages.get_messages(request))
        ):
            query = page_query(request.GET, self.page_cache_parameters)
        if query is None:
            return super().dispatch(request, *args, **kwargs)
        parts, shareable = query
        key = _key(
            request, self.page_cache_name, (request.scheme, request.get_host(), request.path, parts)
        )
        cached_page = _lookup(key)
        if cached_page is not _MISSING:
            content, content_type = cached_page
            return HttpResponse(content, content_type=content_type)
        response = super().dispatch(request, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
        if (
            shareable
            and response.status_code == 200
            and not len(messages.get_messages(request))
            # The page holds this visitor's CSRF token: sharing it would break others' forms.
            and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        ):
            _store(key, (response.content, response["Content-Type"]))
        return response
