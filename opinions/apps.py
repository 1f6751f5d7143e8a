from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpinionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "opinions"
    verbose_name = _("意見")

    def ready(self):
        from .analysis import hooks

        hooks.connect()
