"""What a worker does once, before its first request: load what every request uses, then
keep it out of the garbage collector's way.

Python's full collection (generation 2) walks every container object the process holds,
long-lived or not, and runs every few requests here. At a million remarks those pauses were
the pages' slow tail: caches emptied before each request, the API list took 36 ms at p50 and
117 ms at p95, a theme page 71 and 145 (bench/results.md, "Garbage collection pauses").
``gc.freeze()`` moves every object that exists at that moment — Django, the URLconf and
the views it imports, the compiled templates — into the permanent generation, which no
collection walks; what requests create is collected as before. (The technique of
gc.freeze's documentation, used here for the pauses rather than for copy-on-write.)

Some of what every request uses is only set up by the first one: the language's catalogues,
the URL reverser's tables, the form renderer's templates, psycopg's adapters. That cost the
first visitor of each worker about 55 ms (the list at a million remarks: 150 ms against 80 to
95 for the next first visits, caches emptied before each). :func:`settle` therefore serves one
request through the application before any visitor's (``WARM_UP_PATH``, a public page with
few queries), then freezes.
"""

from __future__ import annotations

import gc
import io
import logging
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.template import engines
from django.urls import get_resolver

logger = logging.getLogger(__name__)

WARM_UP_PATH = "/themes/"


def _template_names() -> list[str]:
    """Every page template of the project's template directories."""
    names = []
    for directory in settings.TEMPLATES[0].get("DIRS", []):
        root = Path(directory)
        names += [str(path.relative_to(root)) for path in sorted(root.rglob("*.html"))]
    return names


def _host() -> str:
    """A name the site answers to (ALLOWED_HOSTS), for the warm-up request."""
    for host in settings.ALLOWED_HOSTS:
        if host != "*":
            return host.lstrip(".")
    return "localhost"


def warm_up(application: Callable, path: str = WARM_UP_PATH) -> int:
    """Serve ``path`` once through the WSGI ``application``, as a visitor would reach it
    (a name of ALLOWED_HOSTS; HTTPS where the site insists on it), and close the database
    connection it opened: this thread serves no visitor. The status, logged if not 200; a
    failure (the database not up yet) costs the first visitor the set-up, nothing more."""
    host, secure = _host(), settings.SECURE_SSL_REDIRECT
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": host,
        "SERVER_PORT": "443" if secure else "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "HTTP_ACCEPT_LANGUAGE": settings.LANGUAGE_CODE,
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "https" if secure else "http",
    }
    if secure and settings.SECURE_PROXY_SSL_HEADER:
        header, value = settings.SECURE_PROXY_SSL_HEADER
        environ[header] = value
    statuses = []

    def start_response(status, headers, exc_info=None):
        statuses.append(int(status.split()[0]))

    try:
        response = application(environ, start_response)
        for _chunk in response:
            pass
        getattr(response, "close", lambda: None)()
    finally:
        connections.close_all()
    if statuses != [200]:
        logger.warning("warm-up request %s answered %s", path, statuses)
    return statuses[0] if statuses else 0


def settle(application: Callable | None = None) -> int:
    """Import every view, compile every template, serve the warm-up request through
    ``application`` if given, then freeze what the process holds; the number of objects
    frozen. A template that does not compile stops the worker here, not its first
    visitor."""
    get_resolver().url_patterns  # noqa: B018 - imports the views behind every URL
    engine = engines["django"]
    for name in _template_names():
        engine.get_template(name)  # compiled once, kept by the cached loader
    if application is not None:
        warm_up(application)
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
