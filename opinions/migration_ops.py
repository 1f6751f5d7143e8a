"""Migration operations shared by several migrations."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_permissions_now(apps) -> None:
    """Create every app's permissions at this point of the migration history (Django
    normally creates them after all migrations ran), so a data migration can grant them."""
    for app_config in apps.get_app_configs():
        # A migration's historical apps have no models module, which create_permissions
        # takes for "no models here". Put back what was there: called with the project's
        # own registry, a None left behind would make every later create_permissions and
        # create_contenttypes skip every app.
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = previous or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = previous


class PostgreSQLOnly(migrations.RunSQL):
    """SQL that only means something on PostgreSQL (the SQLite demo database skips it)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
