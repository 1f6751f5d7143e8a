"""WSGI entry point: ``gunicorn portal.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402 - after the application has set Django up
from django.core.exceptions import ImproperlyConfigured  # noqa: E402

if settings.SECRET_KEY == settings.INSECURE_SECRET_KEY and not settings.DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Set it (see .env.example) or set DJANGO_DEBUG=1 "
        "for local development."
    )
