"""Settings for the 有識者会議 意見ポータル, driven by environment variables.

See ``.env.example`` for every variable. Without ``DATABASE_URL`` the portal runs on
a SQLite file (the embedded default for trying it out); PostgreSQL is the production
backend, and PostgreSQL-only features switch on when it is the engine.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", default=False)
TESTING = "pytest" in sys.modules

# Management commands (migrate, makemigrations, shell…) work without a key; the web
# entry points (portal/wsgi.py, portal/asgi.py) refuse to start with this placeholder
# unless DJANGO_DEBUG=1, and `check --deploy` flags it (security.W009).
INSECURE_SECRET_KEY = "django-insecure-local-development-only"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or INSECURE_SECRET_KEY

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- Applications ----------------------------------------------------------------------

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",  # whitenoise serves static files under runserver too
    "django.contrib.staticfiles",
]
THIRD_PARTY_APPS = [
    "django_filters",
    "simple_history",
    "csp",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc served from our static files, no CDN
    # API tokens for other systems (one per user, issued and revoked by 管理者 in the admin).
    "rest_framework.authtoken",
]
LOCAL_APPS = [
    "opinions",
]

# --- Database --------------------------------------------------------------------------

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        # A connection that died while idle (database restart) is replaced, not reused.
        conn_health_checks=True,
    )
}
IS_POSTGRESQL = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
if IS_POSTGRESQL:
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": int(os.environ.get("DJANGO_DB_CONNECT_TIMEOUT", "5")),
            "application_name": "iken-portal",
            # work_mem: a search for a frequent term marks ~400k of a million remarks in a
            # bitmap; at the default 4 MB it turns lossy and every row of a lossy page is
            # re-checked through opinions_bigrams() (35 s instead of 1.3 s). JIT compiling
            # costs ~85 ms on such queries and saves less than it costs here.
            "options": (
                f"-c work_mem={os.environ.get('DJANGO_DB_WORK_MEM', '32MB')}"
                f" -c jit={os.environ.get('DJANGO_DB_JIT', 'off')}"
            ),
        }
    )
    DJANGO_APPS.append("django.contrib.postgres")

INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
# Page counts and facets, keyed by a data version that database triggers renew on every
# change (opinions/caching.py): exact whatever the backend. Redis lets the gunicorn workers
# share one computation per change; without REDIS_URL (make run, SQLite) each process keeps
# its own in memory. Tests always use memory, so they never depend on a server.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL and not TESTING
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    )
}
OPINIONS_CACHE = "default"
# Whole pages for anonymous visitors, under the same data version. Off in tests, which read
# response.context (test_caching.py turns it on).
OPINIONS_PAGE_CACHE = env_bool("OPINIONS_PAGE_CACHE", default=not TESTING)
# Entries each process also keeps in its own memory in front of the shared cache (a cached
# list page is ~65 KB: 256 entries stay under 20 MB).
OPINIONS_LOCAL_CACHE_ENTRIES = int(os.environ.get("OPINIONS_LOCAL_CACHE_ENTRIES", "256"))
OPINIONS_CACHE_RELEASE = os.environ.get("OPINIONS_CACHE_RELEASE", "")  # default: code mtimes
OPINIONS_CACHE_SECONDS = int(os.environ.get("OPINIONS_CACHE_SECONDS", str(24 * 3600)))

# --- Request handling ------------------------------------------------------------------

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Japanese unless chosen otherwise with the language switch (not from Accept-Language).
    "portal.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Records who made each change in the history (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    # The database being away is a 503 with Retry-After, not a 500 (portal/middleware.py).
    "portal.middleware.DatabaseUnavailableMiddleware",
    # Login throttling (django-axes): last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Language --------------------------------------------------------------------------

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
# locale/<lang>/LC_MESSAGES/django.po, compiled to .mo by `make install` (see README, Languages).
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language switch posts to set_language, which keeps the choice in this cookie for a
# year; nothing in the page reads it.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# --- Static files ----------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production; plain files while developing and testing,
        # so neither needs collectstatic first.
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# While developing and testing, serve straight from the app and static/ directories.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG or TESTING

# --- Security (production values come from the environment) ---------------------------

SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
if env_bool("DJANGO_BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (django-csp): everything from this origin, nothing inline, no
# frames. The portal has no inline script or style, and no third-party asset.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Login throttling (django-axes): after 5 failures for a username from one address, that
# pair is locked for 15 minutes and the login page says so.
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = 1 if env_bool("DJANGO_BEHIND_PROXY", default=False) else 0

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "opinions:opinion-list"
LOGOUT_REDIRECT_URL = "opinions:opinion-list"

# --- Logging: one line per record on stdout ---------------------------------------------

# One JSON object per line (python-json-logger), so log collectors parse it as it is;
# DJANGO_LOG_FORMAT=text for a human-readable line while developing.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": os.environ.get("DJANGO_LOG_FORMAT", "text" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["stdout"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

# --- Read API (Django REST framework, schema by drf-spectacular) -------------------------

REST_FRAMEWORK = {
    # Reading needs no account; what each caller sees is decided by the querysets
    # (Opinion.objects.visible_to), so 事務局 or 管理者 — signed in, or sending their token
    # as "Authorization: Token …" from another system — see unpublished remarks too.
    # Token first: a refused token is then a 401 with WWW-Authenticate, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "有識者会議 意見ポータル API",
    "DESCRIPTION": (
        "有識者会議の意見（公開分）を、テーマ・自治体規模・関係者・資料・会議で絞り込んで"
        "読み出す API です。読み取り専用。事務局・管理者としてログインしているか、"
        "そのユーザーのトークンを Authorization: Token … で送ると、"
        "確認待ち・非公開の意見も含まれます。"
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- The portal ------------------------------------------------------------------------

OPINIONS_PAGE_SIZE = 50
# Where the portal is reached, for links in notification mails.
PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")

# --- Mail: notifications go through Django's mail framework (console unless configured) ---

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "iken-portal@localhost")

# The import preview (opinions/previews.py) keeps the uploaded document's lines here between
# the preview and the confirmation; a directory every worker of the host can read.
IMPORT_PREVIEW_DIR = os.environ.get("DJANGO_IMPORT_PREVIEW_DIR", "")
# The import's confirmation posts a choice per remark that needs one (at most two per remark
# of the 10,000 a document may have); Django's default of 1,000 fields would refuse it.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 21_000
