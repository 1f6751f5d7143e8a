import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
application = get_wsgi_application()

from portal.warmup import settle  # noqa: E402 - as portal/wsgi.py, once Django is set up

settle(application)
