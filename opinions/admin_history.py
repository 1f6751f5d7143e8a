"""The admin's history pages, readable by 管理者: values as the forms show them (choice
labels, times in the portal's time zone, はい／いいえ), and an empty value as empty."""

import datetime

from django.contrib.admin.utils import unquote
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.models import ForeignKey
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

from .admin_people import PersonNamesMixin
from .people import person_name


class ReadableHistoryContextHelper(HistoricalRecordContextHelper):
    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if value is None or value == "":
            return ""
        if isinstance(field, ForeignKey) and isinstance(value, DeletedObject):
            # An empty foreign key reads "deleted user (pk=None)" otherwise.
            return "" if value.pk is None else _("削除済み（%(pk)s）") % {"pk": value.pk}
        if getattr(field, "choices", None) and not field.many_to_many:
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, datetime.datetime):
            return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
        if isinstance(value, AbstractBaseUser):
            return person_name(value)
        if isinstance(value, bool):
            return _("はい") if value else _("いいえ")
        return super().prepare_delta_change_value(change, value)


class HistoryAdmin(PersonNamesMixin, SimpleHistoryAdmin):
    """SimpleHistoryAdmin with readable changes (see ReadableHistoryContextHelper) and
    変更者 named 姓 名, answering 404 for an address that names no record (it looks up
    whatever the URL holds: a non-numeric id was a 500)."""

    object_history_list_template = "admin/opinions/object_history_list.html"

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistoryContextHelper(self.model, historical_record)

    def _is_pk(self, value, model) -> bool:
        try:
            model._meta.pk.to_python(value)
        except ValidationError:
            return False
        return True

    def history_view(self, request, object_id, extra_context=None):
        if not self._is_pk(unquote(object_id), self.model):
            raise Http404
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        history = self.model.history.model
        if not self._is_pk(unquote(object_id), self.model) or not self._is_pk(version_id, history):
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context)
