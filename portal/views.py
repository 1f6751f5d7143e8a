"""Project-level error views."""

import sys

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.utils.translation import gettext as _
from django.views import defaults

from opinions import throttling

from .middleware import database_unavailable, is_database_unavailable


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """Django's 500 view, except that a database outage raised outside a view (e.g. by the
    session middleware saving the session) gets the same 503 page as one raised inside it."""
    error = sys.exc_info()[1]  # Django calls handler500 while handling the exception
    if error is not None and is_database_unavailable(error):
        return database_unavailable(request, error)
    return defaults.server_error(request, template_name)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, refusing further tries for a while after
    ``PASSWORD_CHANGE_FAILURE_LIMIT`` wrong current passwords (otherwise a stolen session
    could guess the password at machine speed, out of django-axes' sight)."""

    WINDOW = 15 * 60

    def post(self, request, *args, **kwargs):
        ident = str(request.user.pk)
        if throttling.count("password-change", ident, window=self.WINDOW) >= (
            settings.PASSWORD_CHANGE_FAILURE_LIMIT
        ):
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                _(
                    "現在のパスワードの誤りが続いたため、しばらく変更できません。15分ほど待ってからもう一度お試しください。"
                ),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        if "old_password" in form.errors:
            throttling.record("password-change", str(self.request.user.pk), window=self.WINDOW)
        return super().form_invalid(form)
