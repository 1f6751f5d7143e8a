"""Keeps each remark's stored analysis current: after a transaction that saved remarks
commits, their analysis is recomputed in one batch (an import of 200 remarks embeds
once, not 200 times).

A signal rather than a call in each service: remarks are saved by the submission and
review services, the importer, the admin and ``load_seed``; the analysis is derived data
that none of them should have to know about. Bulk writes that bypass save() (the
benchmark generator's COPY) are covered by ``manage.py analyse``, which computes whatever
is missing. A failure is logged and never fails the save.
"""

from __future__ import annotations

import logging
import threading

from django.db import connection, transaction
from django.db.models.signals import post_save

logger = logging.getLogger(__name__)
_local = threading.local()
_WATCHED = {"body", "status"}


def _remark_saved(sender, instance, created, raw, update_fields, **kwargs):
    if raw:  # loaddata: fixtures are analysed by ``manage.py analyse``
        return
    if update_fields is not None and not _WATCHED & set(update_fields):
        return
    key = id(connection.atomic_blocks[0]) if connection.in_atomic_block else None
    pending = getattr(_local, "pending", None)
    if pending is not None and pending[0] == key and key is not None:
        pending[1].add(instance.pk)
        return
    # A new outermost transaction (a set left by a rolled-back one is dropped); outside
    # one, on_commit runs the flush at once.
    _local.pending = (key, {instance.pk})
    transaction.on_commit(_flush)


def _flush():
    _key, ids = getattr(_local, "pending", (None, set()))
    _local.pending = None
    if not ids:
        return
    from . import vectors

    try:
        vectors.refresh(ids)
    except Exception:
        logger.exception("analysis of remarks %s failed", sorted(ids)[:10])


def connect():
    post_save.connect(_remark_saved, sender="opinions.Opinion", dispatch_uid="analysis-refresh")
