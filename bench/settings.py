"""The portal's settings, plus the benchmark's own pages (bench/urls.py).

Production values otherwise (DEBUG off unless DJANGO_DEBUG says so): what is measured is
what would be served.
"""

import os

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# The in-process measurements use Django's test client, which calls itself testserver.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405
# Request logging would measure the terminal.
LOGGING = {"version": 1, "disable_existing_loggers": False}
# First visits against gunicorn without Redis (bench/server.py): nothing cached, since a
# per-process cache could not be emptied from outside.
if os.environ.get("BENCH_CACHE") == "dummy":
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
