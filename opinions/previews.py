"""The lines of an uploaded document, kept on the server between the import's preview and
its confirmation.

The confirmation form carries only a signed id, so the upload limit is the real limit (a
signed copy of the text in the form was capped by the request size) and what is imported
is exactly what was previewed. Files live in ``IMPORT_PREVIEW_DIR`` (a directory every
worker of the host shares) and are removed once imported or after ``MAX_AGE``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.core import signing

SALT = "opinions.previews"
MAX_AGE = 60 * 60


class PreviewExpired(Exception):
    """The preview is gone (expired, imported already, or never existed)."""


class PreviewInvalid(Exception):
    """The id was not one this portal signed."""


def _directory() -> Path:
    configured = getattr(settings, "IMPORT_PREVIEW_DIR", "")
    directory = Path(configured or Path(tempfile.gettempdir()) / "portal-import-previews")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def _path(key: str) -> Path:
    return _directory() / f"{uuid.UUID(key).hex}.json"


def store(payload: dict) -> str:
    """Keep ``payload`` (JSON-serialisable) and return the signed id to fetch it by."""
    _sweep()
    key = uuid.uuid4().hex
    path = _path(key)
    temporary = path.with_suffix(".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, ensure_ascii=False)
    os.replace(temporary, path)
    return signing.dumps(key, salt=SALT)


def load(signed: str) -> dict:
    """The payload ``store`` kept under ``signed``."""
    try:
        key = signing.loads(signed, salt=SALT, max_age=MAX_AGE)
        path = _path(key)
    except signing.SignatureExpired as error:
        raise PreviewExpired from error
    except (signing.BadSignature, ValueError, TypeError) as error:
        raise PreviewInvalid from error
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError as error:
        raise PreviewExpired from error


def discard(signed: str) -> None:
    with contextlib.suppress(signing.BadSignature, ValueError, TypeError):
        _path(signing.loads(signed, salt=SALT)).unlink(missing_ok=True)


def _sweep() -> None:
    """Remove previews older than ``MAX_AGE`` (abandoned ones)."""
    limit = time.time() - MAX_AGE
    for path in _directory().glob("*.json"):
        try:
            if path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        except OSError:
            pass
