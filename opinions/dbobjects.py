"""The database objects the portal installs besides Django's own tables and indexes.

They are declared in SQL files, one per concern, under ``opinions/sql/<vendor>/``:

- ``postgresql/search.sql``: the bigram function of the search index, and the trigger that
  derives ``search_text`` and ``version`` on every write of a remark;
- ``postgresql/counts.sql``: the count tables and the triggers that keep them exact;
- ``postgresql/data_version.sql``: the data version the caches key with, and the compaction
  of the tables above;
- ``postgresql/responses.sql``, ``analysis.sql``: the data-version triggers of the response
  ledger's and the text analysis's tables
  (a feature whose tables come later declares its triggers in a file of its own, loaded by
  the migration that creates the tables);
- ``sqlite/*.sql``: the same data version on the embedded SQLite database.

SQL files rather than triggers declared on the models (django-pgtrigger): half of these
objects are plain functions and tables, which that library does not declare, the triggers on
the tag tables sit on Django's auto-created many-to-many tables, and three statement
triggers share one function. A file shows each object once, as it runs; a migration loads it
with :class:`LoadSQL` (so ``sqlmigrate`` prints it), and :func:`differences` — run by the
test suite (tests/test_derived_data.py) — compares what is installed with
what the files declare, body by body. The files can be loaded again at any time: they
create or replace.

The count tables and the token's table are known to the ORM too, as unmanaged models
(``TagCount``, ``VenueTagCount``, ``DataChange`` in models.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.db import migrations

SQL_DIR = Path(__file__).resolve().parent / "sql"
FILES = {
    "postgresql": ("search", "counts", "data_version", "responses", "analysis"),
    "sqlite": ("data_version", "responses", "analysis"),
}

_FUNCTION = re.compile(
    r"CREATE (?:OR REPLACE )?FUNCTION (\w+)\(.*?\bAS \$(\w*)\$(.*?)\$\2\$", re.DOTALL
)
_TRIGGER = re.compile(r"^(CREATE (?:OR REPLACE )?TRIGGER (\w+) .*? ON (\w+) .*?);$", re.MULTILINE)
_TABLE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)")
_COLUMN = re.compile(r"ALTER TABLE (\w+)\s+((?:ADD COLUMN.*?)+);", re.DOTALL)
_ADDED_COLUMN = re.compile(r"ADD COLUMN (?:IF NOT EXISTS )?(\w+)")


def path(vendor: str, name: str) -> Path:
    return SQL_DIR / vendor / f"{name}.sql"


@cache
def source(vendor: str, name: str) -> str:
    return path(vendor, name).read_text(encoding="utf-8")


class LoadSQL(migrations.RunSQL):
    """Run one declared file, on its database vendor only (``sqlmigrate`` shows it)."""

    def __init__(self, vendor: str, name: str, **kwargs):
        self.vendor, self.name = vendor, name
        sql = source(vendor, name)
        # PostgreSQL takes the file as one script; SQLite's driver runs one statement at a
        # time, and Django splits a string (sqlparse keeps CREATE TRIGGER … END together).
        super().__init__([sql] if vendor == "postgresql" else sql, migrations.RunSQL.noop, **kwargs)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == self.vendor:
            super().database_backwards(app_label, schema_editor, from_state, to_state)


@dataclass
class Objects:
    functions: dict[str, str] = field(default_factory=dict)  # name → body
    triggers: dict[tuple[str, str], str] = field(default_factory=dict)  # (table, name) → def
    tables: set[str] = field(default_factory=set)
    columns: set[tuple[str, str]] = field(default_factory=set)  # added to Django's tables


def _canonical_trigger(definition: str) -> str:
    definition = definition.replace("CREATE OR REPLACE TRIGGER", "CREATE TRIGGER")
    definition = definition.replace(" ON public.", " ON ").replace("FUNCTION public.", "FUNCTION ")
    return " ".join(definition.split()).rstrip(";")


def declared(vendor: str = "postgresql") -> Objects:
    """What the files of ``vendor`` declare."""
    objects = Objects()
    for name in FILES[vendor]:
        text = source(vendor, name)
        for function, _tag, body in _FUNCTION.findall(text):
            objects.functions[function] = body
        for definition, trigger, table in _TRIGGER.findall(text):
            objects.triggers[(table, trigger)] = _canonical_trigger(definition)
        objects.tables.update(_TABLE.findall(text))
        for table, additions in _COLUMN.findall(text):
            objects.columns.update((table, column) for column in _ADDED_COLUMN.findall(additions))
    return objects


def installed(connection) -> Objects:
    """What the PostgreSQL database of ``connection`` holds that Django's models do not
    declare: functions and triggers named for the app, tables and columns the models lack."""
    from django.apps import apps

    known_tables, known_columns = set(), set()
    for model in apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            known_tables.add(model._meta.db_table)
            known_columns.update(
                (model._meta.db_table, f.column) for f in model._meta.local_concrete_fields
            )
    objects = Objects()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            r" WHERE n.nspname = current_schema() AND p.proname LIKE 'opinions\_%%'"
        )
        objects.functions = dict(cursor.fetchall())
        cursor.execute(
            "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t"
            " JOIN pg_class c ON c.oid = t.tgrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            r" WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
        )
        objects.triggers = {
            (table, name): _canonical_trigger(definition)
            for table, name, definition in cursor.fetchall()
        }
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            r" WHERE table_schema = current_schema() AND table_name LIKE 'opinions\_%%'"
        )
        for table, column in cursor.fetchall():
            if table not in known_tables:
                objects.tables.add(table)
            elif (table, column) not in known_columns:
                objects.columns.add((table, column))
    return objects


def differences(connection) -> list[str]:
    """Every way the installed objects differ from the declared ones (empty: they agree)."""
    want, have = declared(connection.vendor), installed(connection)
    problems = []
    for kind in ("functions", "triggers"):
        wanted, present = getattr(want, kind), getattr(have, kind)
        problems += [
            f"{kind[:-1]} {name} is declared but not installed"
            for name in wanted.keys() - present.keys()
        ]
        problems += [
            f"{kind[:-1]} {name} is installed but not declared"
            for name in present.keys() - wanted.keys()
        ]
        problems += [
            f"{kind[:-1]} {name} differs from its declaration"
            for name in wanted.keys() & present.keys()
            if wanted[name].strip() != present[name].strip()
        ]  # fmt: skip
    for kind in ("tables", "columns"):
        wanted, present = getattr(want, kind), getattr(have, kind)
        problems += [
            f"{kind[:-1]} {name} is declared but not installed" for name in wanted - present
        ]
        problems += [
            f"{kind[:-1]} {name} is installed but not declared" for name in present - wanted
        ]
    return sorted(problems)
