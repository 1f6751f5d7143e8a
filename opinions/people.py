"""How the portal names a person: family name first (姓 名), as Japanese readers expect."""

from django.contrib.auth.models import AbstractBaseUser


def person_name(user: AbstractBaseUser | None) -> str:
    """「姓 名」 from the account's names, the username when both are empty, ``""`` for no one.

    Django's ``get_full_name()`` puts the given name first (「太郎 田中」), which reads wrong in
    Japanese; every page and mail names people through this instead.
    """
    if user is None:
        return ""
    family = (getattr(user, "last_name", "") or "").strip()
    given = (getattr(user, "first_name", "") or "").strip()
    return " ".join(part for part in (family, given) if part) or user.get_username()
