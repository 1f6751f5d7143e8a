"""Migration operations shared by several migrations."""

from django.db import migrations


class PostgreSQLOnly(migrations.RunSQL):
    """SQL that only means something on PostgreSQL (the SQLite demo database skips it)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
