"""People in the admin, named 姓 名 as everywhere else (opinions.people.person_name).

Django's admin names a user by ``str(user)`` (the username) in list columns, read-only
fields and selects, and its history pages by ``get_full_name()`` (名 姓). A column made by
:func:`person_column` and the selects of :class:`PersonNamesMixin` use the person's name;
the history templates (``templates/admin/object_history.html``,
``templates/admin/opinions/object_history_list.html``) do the same for 変更者.
"""

from django.contrib import admin
from django.contrib.auth.base_user import AbstractBaseUser

from .people import person_name


def person_column(model, field: str):
    """A list column or read-only field showing ``model.field`` (a user) as 姓 名, titled
    with the field's own name; use it as a class attribute of a ModelAdmin."""
    verbose_name = model._meta.get_field(field).verbose_name

    @admin.display(description=verbose_name, ordering=f"{field}__last_name")
    def column(model_admin, obj):
        user = getattr(obj, field)
        return person_name(user) if user is not None else None  # the admin's empty mark

    column.__name__ = f"{field}_name"
    return column


class PersonNamesMixin:
    """Selects of users (a remark's 投稿者…) list them by 姓 名."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and issubclass(db_field.related_model, AbstractBaseUser):
            formfield.label_from_instance = person_name
        return formfield
