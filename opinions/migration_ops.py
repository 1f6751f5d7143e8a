"""Migration operations shared by several migrations."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_permissions_now(apps) -> None:
    """Create every app's permissions at this point of the migration history (Django
    normally creates them after all migrations ran), so a data migration can grant them."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


class PostgreSQLOnly(migrations.RunSQL):
    """SQL that only means something on PostgreSQL (the SQLite demo database skips it)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
