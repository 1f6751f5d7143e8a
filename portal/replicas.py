"""Reads on a streaming replica, writes on the primary, and a user's own writes read back.

Installed only when ``DATABASE_REPLICA_URL`` is set (portal/settings.py adds the replica as
``DATABASES["replica"]``, the router and the middleware); without it nothing here runs.
With it, :class:`ReplicaRouter` sends every write to ``default`` (the primary) and the
reads of a web request to the replica when :class:`ReadYourWritesMiddleware` allows it:

- only a request with a safe method (GET, HEAD, OPTIONS, TRACE): a POST reads what it
  validates and the rows its service is about to change from the primary;
- not for a browser that wrote less than ``DATABASE_REPLICA_PIN_SECONDS`` ago: a request
  with an unsafe method, or a safe one that wrote, answers with a signed cookie that pins the
  browser's reads to the primary that long (longer than the replica's lag), so a member who
  has just submitted sees the remark on the very next page, whichever app server serves it;
- not once the request itself has written, nor inside a transaction on the primary;
- never outside a request: management commands, migrations and the tests read the primary,
  as they do without a replica.

The data version that cached pages and counts are keyed with (opinions/browsing/caching.py) is read
through this router too, so from the replica when the request's other reads are: a version
read from the primary could be newer than the replica's rows, and those older rows would be
cached, and served to everyone, under the newer version until the next change. Read from
the replica, the version is never newer than what is read after it.
"""

from __future__ import annotations

import contextlib
import contextvars

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
COOKIE = "iken_primary"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class _Reads:
    """Where this request may read: ``replica`` as the middleware decided, until a write."""

    __slots__ = ("replica", "wrote")

    def __init__(self, *, replica: bool):
        self.replica = replica
        self.wrote = False


# Per request: gunicorn's threads serve one request each, and a context variable set in a
# thread is seen by that thread only (and reset when the request ends).
_reads: contextvars.ContextVar[_Reads | None] = contextvars.ContextVar(
    "portal_replica_reads", default=None
)


@contextlib.contextmanager
def reads(*, replica: bool):
    """Route the reads inside to the replica (``replica=True``) or to the primary; what
    :class:`ReadYourWritesMiddleware` wraps each request in. Yields the state, whose
    ``wrote`` says afterwards whether anything inside asked for the primary to write."""
    state = _Reads(replica=replica)
    token = _reads.set(state)
    try:
        yield state
    finally:
        _reads.reset(token)


class ReplicaRouter:
    """Reads to ``replica`` where the request allows it (see the module), all else to the
    primary. Always an explicit alias: left to Django, a related object's read or an
    instance's ``save()`` would follow the instance to the database it was read from."""

    def db_for_read(self, model, **hints):
        state = _reads.get()
        if (
            state is not None
            and state.replica
            and not state.wrote
            # A transaction reads what it is about to change, and its own uncommitted rows.
            and not connections[DEFAULT_DB_ALIAS].in_atomic_block
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        state = _reads.get()
        if state is not None:
            state.wrote = True  # the rest of this request reads back from the primary
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The same rows on both: a remark read from the replica may point at a theme
        # read from the primary.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A replica is read-only; it gets the schema by replaying the primary's.
        return False if db == REPLICA else None


class ReadYourWritesMiddleware:
    """Decide where each request reads (see the module) and pin a browser that wrote.

    Listed right after SessionMiddleware: the session is read lazily, inside this, so from
    where the request reads; its save comes after this, so that saving the session's
    activity time is not taken for a write of the user's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        seconds = settings.DATABASE_REPLICA_PIN_SECONDS
        # Signed with its time: an old or forged cookie pins nothing.
        pinned = request.get_signed_cookie(COOKIE, None, salt=COOKIE, max_age=seconds)
        safe = request.method in SAFE_METHODS
        with reads(replica=safe and pinned is None) as state:
            response = self.get_response(request)
        if not safe or state.wrote:
            response.set_signed_cookie(
                COOKIE, "1", salt=COOKIE, max_age=seconds,
                secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax",
            )  # fmt: skip
        return response
