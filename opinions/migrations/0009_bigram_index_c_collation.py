"""The bigram GIN index in byte order (COLLATE "C").

Which bigrams a text contains does not depend on collation, but building the index
sorts every bigram of every remark: with the database's C.UTF-8 collation each
comparison goes through strcoll(), in byte order it is a memcmp. 100,000 remarks:
35.9 s -> 16.7 s (bench/results.md). search.py asks with the same collation.
"""

from django.db import migrations


class PostgreSQLOnly(migrations.RunSQL):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("opinions", "0008_published_partial_indexes")]

    operations = [
        PostgreSQLOnly(
            [
                "DROP INDEX IF EXISTS opinion_search_bigrams_gin",
                "CREATE INDEX opinion_search_bigrams_gin ON opinions_opinion"
                ' USING gin ((opinions_bigrams(search_text) COLLATE "C"))',
            ],
            [
                "DROP INDEX IF EXISTS opinion_search_bigrams_gin",
                "CREATE INDEX opinion_search_bigrams_gin ON opinions_opinion"
                " USING gin (opinions_bigrams(search_text))",
            ],
        ),
    ]
