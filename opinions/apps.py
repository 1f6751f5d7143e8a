from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def apply_roles(sender, apps=None, **kwargs):
    """After every migrate, once Django has created the permissions of new models: the
    groups hold exactly what opinions/roles.py declares."""
    from . import roles

    roles.apply(apps)


def reinstall_sqlite_triggers(sender, using="default", **kwargs):
    """SQLite rebuilds a table to alter it, which drops its triggers: after every migrate the
    data-version triggers of sql/sqlite/ are put back (the files only create what is
    missing). PostgreSQL keeps triggers through ALTER TABLE, and its are checked instead
    (opinions.dbobjects.differences)."""
    from django.db import OperationalError, connections

    from . import dbobjects

    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for name in dbobjects.FILES["sqlite"]:
            for statement in connection.ops.prepare_sql_script(dbobjects.source("sqlite", name)):
                try:
                    cursor.execute(statement)
                except OperationalError:  # a table a later migration creates (partial migrate)
                    continue


class OpinionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "opinions"
    verbose_name = _("意見")

    def ready(self):
        post_migrate.connect(apply_roles, sender=self, dispatch_uid="opinions.apply_roles")
        post_migrate.connect(
            reinstall_sqlite_triggers, sender=self, dispatch_uid="opinions.sqlite_triggers"
        )
        from . import checks  # noqa: F401 -- registers the deploy checks
        from .analysis import hooks

        hooks.connect()
