"""Authentication helpers for django-axes (settings.AXES_USERNAME_CALLABLE)."""

from django.contrib.auth import get_user_model


def attempted_username(request, credentials=None) -> str | None:
    """The username a login attempt gave, cut to the longest a username can be: no account
    has a longer one, and axes stores it in 255 characters."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    username = source.get(get_user_model().USERNAME_FIELD) if source else None
    if username is None:
        return None
    limit = get_user_model()._meta.get_field(get_user_model().USERNAME_FIELD).max_length
    return str(username)[:limit]
