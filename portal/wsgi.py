"""WSGI entry point: ``gunicorn portal.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after the application has set Django up
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

from opinions.checks import secret_key_problem  # noqa: E402

if not settings.DEBUG:
    if settings.SECRET_KEY == settings.INSECURE_SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (see .env.example) or set DJANGO_DEBUG=1 "
            "for local development."
        )
    # A key written in the repository (the .env.example placeholder…) is no secret.
    if problem := secret_key_problem():
        raise ImproperlyConfigured(problem)

# Views imported, templates compiled, one request served, and all of it kept out of the
# collector's way (portal/warmup.py), before the first visitor's request.
from portal.warmup import settle  # noqa: E402

settle(application)
