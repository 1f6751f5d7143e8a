"""Project-level error views."""

import sys

from django.views import defaults

from .middleware import database_unavailable, is_database_unavailable


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """Django's 500 view, except that a database outage raised outside a view (e.g. by the
    session middleware saving the session) gets the same 503 page as one raised inside it."""
    error = sys.exc_info()[1]  # Django calls handler500 while handling the exception
    if error is not None and is_database_unavailable(error):
        return database_unavailable(request, error)
    return defaults.server_error(request, template_name)
