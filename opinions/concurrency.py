"""Write transactions that survive a deadlock or a serialization failure.

Writers lock as little as they can (the data version and the count tables take no shared
row, see opinions/sql/postgresql/), and lock rows in one order (by primary key). Two writers
can still meet on the same remarks — two curators merging tags over the same remarks, an
author's edit and a bulk publish — and PostgreSQL then aborts one of them. Such a failure
says nothing about the input: the same transaction, run again, succeeds. ``@retrying_atomic``
runs a service in a transaction and runs it again (a bounded number of times, after a short
random pause) when PostgreSQL reports a deadlock or a serialization failure. The services
are written to be run again: they read what they change inside the transaction, and
submissions are idempotent by their form token.

A failure that outlasts the retries reaches the user as a page that says so and keeps their
input (portal.middleware), never as the outage page.
"""

from __future__ import annotations

import functools
import logging
import random
import time

from django.db import OperationalError, connection, transaction

logger = logging.getLogger(__name__)

ATTEMPTS = 4
# deadlock_detected, serialization_failure (PostgreSQL's SQLSTATE codes).
CONFLICT_STATES = frozenset({"40P01", "40001"})


def is_conflict(error: BaseException) -> bool:
    """A deadlock or serialization failure, as Django or the driver raised it."""
    for candidate in (error, error.__cause__):
        if getattr(candidate, "sqlstate", None) in CONFLICT_STATES:
            return True
    return False


def retrying_atomic(func):
    """``transaction.atomic``, run again on a deadlock or serialization failure.

    Only a transaction of its own can be run again: called inside another one (a view's or
    another service's), the caller's transaction is already lost when PostgreSQL aborts, so
    the error goes up to whoever opened it.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        if connection.in_atomic_block:
            with transaction.atomic():
                return func(*args, **kwargs)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                with transaction.atomic():
                    return func(*args, **kwargs)
            except OperationalError as error:
                if attempt == ATTEMPTS or not is_conflict(error):
                    raise
                logger.info(
                    "%s: %s, running it again (attempt %d of %d)",
                    func.__qualname__,
                    getattr(error.__cause__, "sqlstate", ""),
                    attempt + 1,
                    ATTEMPTS,
                )
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
        raise AssertionError("unreachable")

    return wrapper
