"""Settings for the 有識者会議 意見ポータル, driven by environment variables.

See ``.env.example`` for every variable. Without ``DATABASE_URL`` the portal runs on
a SQLite file (the embedded default for trying it out); PostgreSQL is the production
backend, and PostgreSQL-only features switch on when it is the engine.
"""

import os
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
    # API tokens for other systems, hashed at rest and expiring (opinions/tokens.py).
    "knox",
    # Only for its table, whose clear-text tokens migration 0013 moved to knox's, hashed.
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

# A streaming replica for the reads of web requests (portal/replicas.py; README, Scaling
# out): the primary stays DATABASE_URL. A user who wrote reads from the primary for
# DATABASE_REPLICA_PIN_SECONDS (longer than the replica's lag). Unset: no replica, no router.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
DATABASE_REPLICA_PIN_SECONDS = int(os.environ.get("DATABASE_REPLICA_PIN_SECONDS", "15"))
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
            conn_health_checks=True,
        ),
        "OPTIONS": dict(DATABASES["default"].get("OPTIONS", {})),
        # Tests: the replica is the test database itself, through a connection of its own.
        "TEST": {"MIRROR": "default"},
    }
# Behind PgBouncer in transaction mode, consecutive transactions of one connection may go
# to different server connections, so a server-side cursor (QuerySet.iterator()) would be
# gone before its rows are fetched: client-side cursors instead.
if env_bool("DJANGO_DB_DISABLE_SERVER_SIDE_CURSORS"):
    for database in DATABASES.values():
        database["DISABLE_SERVER_SIDE_CURSORS"] = True
# Prepared statements: a statement a connection has run DJANGO_DB_PREPARE_THRESHOLD times
# is prepared (psycopg's server-side binding), so PostgreSQL plans a page's queries once per
# connection instead of on every request; planning a remark's page's ten queries cost about
# as much as running them at a million remarks (bench/results.md). 0 turns it off. Off by
# default behind PgBouncer in transaction mode (server-side cursors off), where a
# connection's next transaction may find another server connection without its statements.
DATABASE_PREPARE_THRESHOLD = int(
    os.environ.get(
        "DJANGO_DB_PREPARE_THRESHOLD",
        "0" if env_bool("DJANGO_DB_DISABLE_SERVER_SIDE_CURSORS") else "2",
    )
)
if IS_POSTGRESQL and DATABASE_PREPARE_THRESHOLD > 0:
    for database in DATABASES.values():
        database["OPTIONS"].update(
            {"server_side_binding": True, "prepare_threshold": DATABASE_PREPARE_THRESHOLD}
        )

INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS
# The tables triggers keep are never dumped, loaded or migrated (opinions/routers.py).
DATABASE_ROUTERS = ["opinions.routers.DerivedTablesRouter"]
if DATABASE_REPLICA_URL:
    DATABASE_ROUTERS.insert(0, "portal.replicas.ReplicaRouter")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ----------------------------------------------------------------------------
# Page counts and facets, keyed by a data version that database triggers renew on every
# change (opinions/browsing/caching.py): exact whatever the backend. Redis lets the gunicorn workers
# share one computation per change; without REDIS_URL (make run, SQLite) each process keeps
# its own in memory (the tests too: portal/settings_test.py).
REDIS_URL = os.environ.get("REDIS_URL", "")
# Short timeouts (seconds): a Redis that accepts connections but never answers costs this
# once, then the circuit breaker skips the cache for OPINIONS_CACHE_RETRY_SECONDS.
REDIS_SOCKET_TIMEOUT = float(os.environ.get("REDIS_SOCKET_TIMEOUT", "0.25"))
REDIS_OPTIONS = {
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
OPINIONS_CACHE_RETRY_SECONDS = int(os.environ.get("OPINIONS_CACHE_RETRY_SECONDS", "30"))
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": REDIS_OPTIONS,
        }
        if REDIS_URL
        else {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 2000},
        }
    )
}
OPINIONS_CACHE = "default"
# Whole pages for anonymous visitors, under the same data version.
OPINIONS_PAGE_CACHE = env_bool("OPINIONS_PAGE_CACHE", default=True)
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
    # Cache-Control: private, no-store for signed-in users and tokens (portal/middleware.py).
    "portal.middleware.PrivateResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A NUL character in the address or a field is a 400 page, for every view.
    "portal.middleware.MalformedInputMiddleware",
    # Idle and absolute session lifetimes (portal/middleware.py).
    "portal.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Records who made each change in the history (django-simple-history).
    "simple_history.middleware.HistoryRequestMiddleware",
    # The database being away is a 503 with Retry-After, not a 500 (portal/middleware.py).
    "portal.middleware.DatabaseUnavailableMiddleware",
    # Login throttling (django-axes): last, as its documentation asks.
    "axes.middleware.AxesMiddleware",
]
if DATABASE_REPLICA_URL:
    # Where each request reads, and read-your-own-writes (portal/replicas.py): inside
    # SessionMiddleware, which reads the session inside it and saves it after it.
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
        "portal.replicas.ReadYourWritesMiddleware",
    )

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
                "opinions.review.pending_count_context",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": int(os.environ.get("DJANGO_PASSWORD_MIN_LENGTH", "12"))},
    },
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
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# While developing and testing, serve straight from the app and static/ directories.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG

# --- Security (production values come from the environment) ---------------------------

SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The client's address (login lockout, throttling, logs): with N trusted proxies in front,
# each appending the address it saw to X-Forwarded-For, the client is the N-th entry from
# the right; anything left of it was written by the client and is ignored. Without a
# proxy, the connection's own address (a forged header counts for nothing).
PROXY_HOPS = int(os.environ.get("DJANGO_PROXY_HOPS", "1" if BEHIND_PROXY else "0"))
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
# The name as typed, cut to what a username can be (django-axes stores it, in 255
# characters: a 10,000-character name was a 500 on the login form).
AXES_USERNAME_CALLABLE = "portal.auth.attempted_username"
AXES_IPWARE_PROXY_COUNT = 1 if env_bool("DJANGO_BEHIND_PROXY", default=False) else 0
# django-ipware reads the address; its proxy count is the proxies listed in the header
# after the client, i.e. all but the last one (whose address is REMOTE_ADDR). Not strict:
# a client that sends its own X-Forwarded-For is still found at its position.
if PROXY_HOPS:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    AXES_IPWARE_PROXY_COUNT = PROXY_HOPS - 1
else:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
    AXES_IPWARE_PROXY_COUNT = None
IPWARE_STRICT = False
# The lockout log names the real client address (the username stays masked).
AXES_SENSITIVE_PARAMETERS = ["username"]

# Sessions: signed out after DJANGO_SESSION_IDLE_MINUTES without a request, and
# DJANGO_SESSION_MAX_HOURS after signing in whatever the activity
# (portal.middleware.SessionTimeoutMiddleware); the cookie ends with the browser.
SESSION_IDLE_SECONDS = int(os.environ.get("DJANGO_SESSION_IDLE_MINUTES", "30")) * 60
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_MAX_HOURS", "12")) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Wrong current passwords on the password-change form before 15 minutes' pause.
PASSWORD_CHANGE_FAILURE_LIMIT = int(os.environ.get("DJANGO_PASSWORD_CHANGE_FAILURE_LIMIT", "5"))

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
    # Standard error, so that what a management command prints is its output alone
    # (manage.py dumpdata > backup.json makes a file loaddata reads).
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": os.environ.get("DJANGO_LOG_FORMAT", "text" if DEBUG else "json"),
        }
    },
    "root": {"handlers": ["stderr"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
}

# --- Read API (Django REST framework, schema by drf-spectacular) -------------------------

REST_FRAMEWORK = {
    # Reading needs no account; what each caller sees is decided by the querysets
    # (Opinion.objects.visible_to), so 事務局 or 管理者 — signed in, or sending their token
    # as "Authorization: Token …" from another system — see unpublished remarks too.
    # Token first: a refused token is then a 401 with WWW-Authenticate, not a bare 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "opinions.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# API tokens (django-rest-knox): the lifetime of a token issued in the admin, unless chosen.
API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
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
# A search finding more remarks than this shows its total and facets as estimates (「約」),
# from a sample of the table; at most this many are counted exactly (browsing/estimates.py).
OPINIONS_EXACT_COUNTS_UP_TO = int(os.environ.get("OPINIONS_EXACT_COUNTS_UP_TO", "5000"))
# Submissions a member may make in an hour (a script, not a person, would make more).
OPINIONS_SUBMISSIONS_PER_HOUR = int(os.environ.get("OPINIONS_SUBMISSIONS_PER_HOUR", "30"))
# Threads the embedding model (opinions/analysis/vectors.py) runs on. One: a web process
# embeds one text at a time, and on a machine whose cores are busy OpenMP's second thread
# made each embedding wait for the slower one (a 135-character text: 0.24–0.49 s median
# with one thread, 1.6–2.6 s with two, on this 2-core host under other load).
OPINIONS_EMBED_THREADS = int(os.environ.get("OPINIONS_EMBED_THREADS", "1"))
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
