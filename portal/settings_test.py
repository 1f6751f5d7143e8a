"""The test suite's settings (pyproject.toml: DJANGO_SETTINGS_MODULE): the portal's own,
with what a test run must not depend on or must see replaced. Everything else — the
anonymous page cache included — is as in production, so the tests meet what users meet."""

from portal.settings import *  # noqa: F403

# Each process's memory, never a Redis server (the tests clear it between tests).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }
}
# Static files from the app and static/ directories, without collectstatic first.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = True
# The test client speaks plain HTTP.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = False
# A second connection to the test database, standing for a replica (Django's test mirror):
# tests/test_replica_routing.py turns the router and its middleware on where it tests them;
# elsewhere nothing reads it, whatever DATABASE_REPLICA_URL the environment has.
DATABASES["replica"] = {  # noqa: F405
    **DATABASES["default"],  # noqa: F405
    "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),  # noqa: F405
    "TEST": {"MIRROR": "default"},
}
DATABASE_ROUTERS = [r for r in DATABASE_ROUTERS if r != "portal.replicas.ReplicaRouter"]  # noqa: F405
MIDDLEWARE = [m for m in MIDDLEWARE if m != "portal.replicas.ReadYourWritesMiddleware"]  # noqa: F405
