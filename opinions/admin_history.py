"""The admin's history pages, readable by 管理者: values as the forms show them (choice
labels, times in the portal's time zone, はい／いいえ), and an empty value as empty."""

import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import ForeignKey
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper

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


class HistoryAdmin(SimpleHistoryAdmin):
    """SimpleHistoryAdmin with readable changes (see ReadableHistoryContextHelper)."""

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistoryContextHelper(self.model, historical_record)
