"""Site-wide middleware.

- ChosenLanguageMiddleware: Japanese unless the user chose another language.
- MalformedInputMiddleware: a NUL character anywhere in the address, the query or a form
  field is a 400 page, for every view (PostgreSQL refuses NUL in text, so any view, the
  admin's and third-party ones included, would otherwise answer 500).
- DatabaseUnavailableMiddleware: when the database is unavailable (restart, failover,
  network), a 503 page, not a 500; when a write met another one and lost even after the
  service's retries (a deadlock or serialization failure, opinions.concurrency), a 409 page
  that keeps what the user sent — the database is fine, so this is no outage.
- PrivateResponseMiddleware: nothing answered to a signed-in user or a token is kept by a
  browser's or a proxy's cache; a Permissions-Policy that allows no browser feature.
- SessionTimeoutMiddleware: a session ends after 30 idle minutes or 12 hours in all.

DatabaseUnavailableMiddleware, more: while PostgreSQL is away every page that reads the database raises ``OperationalError`` (no
  connection) or ``InterfaceError`` (a connection that died under the request). Those are not bugs
  in the page: the right answer is "come back shortly" — 503 with ``Retry-After``, never cached —
  and one log line with the cause instead of a traceback per request. The page is rendered
  without the request's context, because ``base.html`` reads the user and so the database.
"""

import logging
import time
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.signals import user_logged_out
from django.db import InterfaceError, OperationalError, connections
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.deprecation import MiddlewareMixin
from django.utils.functional import SimpleLazyObject, empty
from django.utils.translation import gettext as _

from opinions.concurrency import is_conflict

logger = logging.getLogger("portal.database")

RETRY_AFTER_SECONDS = 30
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer", "autoplay", "camera", "display-capture", "encrypted-media",
        "fullscreen", "geolocation", "gyroscope", "magnetometer", "microphone", "midi",
        "payment", "picture-in-picture", "publickey-credentials-get", "screen-wake-lock",
        "sync-xhr", "usb", "xr-spatial-tracking", "interest-cohort", "browsing-topics",
    )
)  # fmt: skip


def is_database_unavailable(error: BaseException) -> bool:
    """Django's OperationalError / InterfaceError, or the driver's own: Django does not wrap
    every driver call (closing the server-side cursor of ``QuerySet.iterator()``, which form
    choices use, raises ``psycopg.OperationalError`` when the server went away)."""
    if isinstance(error, (OperationalError, InterfaceError)):
        return True
    return any(
        isinstance(
            error, (connection.Database.OperationalError, connection.Database.InterfaceError)
        )
        for connection in connections.all(initialized_only=True)
    )


def write_conflict(request, error: Exception) -> HttpResponse:
    """The 409 page: the user's input, ready to be sent again with one click."""
    logger.warning(
        "write conflict, 409 for %s %s: %s",
        request.method,
        request.path,
        " ".join(str(error).split())[:300],
    )
    fields = [
        (name, value)
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken"
        for value in values
    ]
    page = render_to_string(
        "409.html", {"fields": fields, "action": request.get_full_path()}, request=request
    )
    response = HttpResponse(page, status=409)
    add_never_cache_headers(response)
    response._has_been_logged = True
    return response


def database_unavailable(request, error: Exception) -> HttpResponse:
    """The 503 page, logged once with the cause."""
    logger.error(
        "database unavailable, 503 for %s %s: %s: %s",
        request.method,
        request.path,
        type(error).__name__,
        " ".join(str(error).split())[:300],
    )
    page = render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
    response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    add_never_cache_headers(response)
    # Django's own "Service Unavailable: /path" line would only repeat the one above.
    response._has_been_logged = True
    return response


class DatabaseUnavailableMiddleware:
    """Turns a database outage raised by a view (or its template) into the 503 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_conflict(exception):
            return write_conflict(request, exception)
        if is_database_unavailable(exception):
            return database_unavailable(request, exception)
        return None


def has_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    sources = [request.GET]
    if request.method == "POST" and request.content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        sources.append(request.POST)
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for source in sources
        for key, values in source.lists()
    )


class MalformedInputMiddleware:
    """Input no page can mean anything by gets the 400 page before any view sees it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": _("リクエストに使えない文字（NUL）が含まれています。")},
                    status=400,
                    json_dumps_params={"ensure_ascii": False},
                )
            return render(request, "400.html", status=400)
        return self.get_response(request)


class ChosenLanguageMiddleware(MiddlewareMixin):
    """Japanese, unless the user chose another language with the switch in the header.

    Django's LocaleMiddleware would also follow the browser's Accept-Language, so an office
    PC or a test browser set up in English would get English without anyone asking for it.
    Here only the cookie that ``set_language`` sets counts; anything else is Japanese.
    """

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or settings.LANGUAGE_CODE
        try:
            language = translation.get_supported_language_variant(chosen)
        except LookupError:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


class PrivateResponseMiddleware:
    """``Cache-Control: private, no-store`` on every response to a signed-in user or to a
    request with credentials in ``Authorization`` (API tokens), and ``Vary: Authorization``
    on the API, whose answers depend on the token.

    Such pages hold unpublished remarks, names and CSRF tokens: a shared proxy must not
    serve them to the next visitor, nor a browser keep them on disk after logout. Anonymous
    pages are left cacheable (``Vary: Cookie`` keeps them apart from signed-in ones).
    Installed after the authentication middleware; the user is read on the way out, when a
    token authenticated by the API has been set on the request too.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if self.is_private(request):
            patch_cache_control(response, private=True, no_store=True)
        if request.path_info.startswith("/api/"):
            patch_vary_headers(response, ["Authorization"])
        # No page of the portal uses these browser features; a script injected some day
        # cannot either.
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response

    @staticmethod
    def is_private(request) -> bool:
        """Credentials sent (a token, a session cookie), or a user signed in by this very
        request — decided without reading the user, which would query the database even for
        the 503 page of an outage."""
        if "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return True
        user = request.__dict__.get("user")
        if isinstance(user, SimpleLazyObject):
            user = None if user._wrapped is empty else user._wrapped
        return user is not None and user.is_authenticated


class SessionTimeoutMiddleware:
    """Signs out a session idle for ``SESSION_IDLE_SECONDS`` or older than
    ``SESSION_COOKIE_AGE`` since sign-in, whatever its activity.

    Django's own expiry is renewed whenever the session is saved, so it bounds neither.
    The sign-in time and the last request's time are kept in the session; the latter is
    written at most once a minute, not on every request.
    """

    STARTED, SEEN = "_portal_session_started", "_portal_session_seen"
    SEEN_RESOLUTION = 60

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if hasattr(request, "user"):
            # Checked when the user is first read, as Django reads it lazily: a page that never
            # looks at the user (the 503 page while the database is away) queries nothing.
            request.user = SimpleLazyObject(partial(self.checked_user, request, request.user))
        return self.get_response(request)

    def checked_user(self, request, user):
        if user.is_authenticated and self.expired(request.session, time.time()):
            request.session.flush()
            user_logged_out.send(sender=type(user), request=request, user=user)
            messages.info(
                request,
                translation.gettext(
                    "一定時間操作がなかったか、ログインから時間が経ったため、ログアウトしました。もう一度ログインしてください。"
                ),
            )
            return AnonymousUser()
        return user

    def expired(self, session, now: float) -> bool:
        """Whether the session outlived a limit; otherwise notes this request's time."""
        started = session.setdefault(self.STARTED, now)
        seen = session.get(self.SEEN, now)
        if (
            now - started > settings.SESSION_COOKIE_AGE
            or now - seen > settings.SESSION_IDLE_SECONDS
        ):
            return True
        if now - seen >= self.SEEN_RESOLUTION or self.SEEN not in session:
            session[self.SEEN] = now
        return False
