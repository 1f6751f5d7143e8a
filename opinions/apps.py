from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def apply_roles(sender, apps=None, **kwargs):
    """After every migrate, once Django has created the permissions of new models: the
    groups hold exactly what opinions/roles.py declares."""
    from . import roles

    roles.apply(apps)


class OpinionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "opinions"
    verbose_name = _("意見")

    def ready(self):
        post_migrate.connect(apply_roles, sender=self, dispatch_uid="opinions.apply_roles")
        from . import checks  # noqa: F401 -- registers the deploy checks
        from .analysis import hooks

        hooks.connect()
