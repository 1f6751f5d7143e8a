"""What the database derives from a remark — its search text, its version, the count tables
and the data version — holds however the remark is written (PostgreSQL: one set of
triggers, opinions/sql/postgresql/), and what is installed is what is declared."""

import pytest
from django.db import connection
from django.utils import timezone

from opinions import dbobjects
from opinions.browsing import caching
from opinions.browsing.search import filter_queryset, parse_query
from opinions.models import Opinion, Theme
from opinions.tagging import normalize

from .factories import OpinionFactory
from .test_counts import assert_exact

pytestmark = pytest.mark.postgres

BODY = "ＡＩ人材の育成を、５Ｇの整備とあわせて進めるべき。"


@pytest.fixture
def remark(seed, on_postgresql):
    return Opinion.objects.filter(status=Opinion.Status.PUBLISHED).first()


def found(word: str) -> set[int]:
    return set(
        filter_queryset(Opinion.objects.all(), parse_query(word)).values_list("pk", flat=True)
    )


def assert_derived(pk: int, *, version: int):
    opinion = Opinion.objects.get(pk=pk)
    assert opinion.search_text == normalize(opinion.body)
    assert opinion.version == version
    assert pk in found("ai人材") and pk in found("5g")
    assert_exact()


def test_save(remark):
    remark.body = BODY
    remark.save()
    assert_derived(remark.pk, version=2)


def test_queryset_update(remark):
    Opinion.objects.filter(pk=remark.pk).update(body=BODY)
    assert_derived(remark.pk, version=2)


def test_bulk_update(remark):
    remark.body = BODY
    Opinion.objects.bulk_update([remark], ["body"])
    assert_derived(remark.pk, version=2)


def test_bulk_create(seed, on_postgresql):
    theme = Theme.objects.filter(level=Theme.Level.SUBTHEME).first()
    [created] = Opinion.objects.bulk_create([Opinion(body=BODY, theme=theme, status="published")])
    assert_derived(created.pk, version=1)


def test_raw_sql(remark):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE opinions_opinion SET body = %s WHERE id = %s", [BODY, remark.pk])
    assert_derived(remark.pk, version=2)


def test_copy(seed, on_postgresql):
    theme = Theme.objects.filter(level=Theme.Level.SUBTHEME).first()
    with connection.cursor() as cursor:
        columns = "body, theme_id, status, version, review_comment, created_at, updated_at"
        with cursor.copy(f"COPY opinions_opinion ({columns}) FROM STDIN") as copy:
            copy.write_row([BODY, theme.pk, "published", 1, "", timezone.now(), timezone.now()])
    created = Opinion.objects.get(body=BODY)
    assert_derived(created.pk, version=1)


def test_a_change_of_tags_or_status_alone_is_not_a_new_text(remark):
    """The version counts edits of the content; the tag ids the database writes on the row
    for counting are not content."""
    women = remark.stakeholders.model.objects.get(slug="women")
    remark.stakeholders.add(women)
    assert Opinion.objects.get(pk=remark.pk).version == 1
    Opinion.objects.filter(pk=remark.pk).update(status="hidden")
    assert Opinion.objects.get(pk=remark.pk).version == 2


def test_every_path_renews_the_data_version(remark):
    before = caching.data_version()
    Opinion.objects.filter(pk=remark.pk).update(body=BODY)
    after_update = caching.data_version()
    with connection.cursor() as cursor:
        cursor.execute("UPDATE opinions_opinion SET body = body || '。' WHERE id = %s", [remark.pk])
    assert len({before, after_update, caching.data_version()}) == 3


def test_what_is_installed_is_what_is_declared(on_postgresql, db):
    assert dbobjects.differences(connection) == []


def test_an_undeclared_or_altered_object_is_reported(on_postgresql, db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION opinions_stray() RETURNS int LANGUAGE sql AS 'SELECT 1'")
        cursor.execute(
            "CREATE OR REPLACE FUNCTION opinions_search_text(body text) RETURNS text"
            " LANGUAGE sql IMMUTABLE AS 'SELECT lower(body)'"
        )
        cursor.execute("DROP TRIGGER opinions_theme_data_version ON opinions_theme")
    assert dbobjects.differences(connection) == [
        "function opinions_search_text differs from its declaration",
        "function opinions_stray is installed but not declared",
        "trigger ('opinions_theme', 'opinions_theme_data_version') is declared but not installed",
    ]


def test_the_declarations_are_what_the_migrations_show(on_postgresql, db):
    """Every declared file is loaded by a migration, and ``sqlmigrate`` prints it as it runs
    (no SQL assembled in Python)."""
    from io import StringIO

    from django.core.management import call_command
    from django.db.migrations.loader import MigrationLoader

    loads = {}
    for (app, name), migration in MigrationLoader(connection).disk_migrations.items():
        for operation in migration.operations:
            if app == "opinions" and isinstance(operation, dbobjects.LoadSQL):
                loads[(operation.vendor, operation.name)] = name
    for vendor, names in dbobjects.FILES.items():
        for name in names:
            assert (vendor, name) in loads, f"{vendor}/{name}.sql is loaded by no migration"
    for name in dbobjects.FILES["postgresql"]:
        out = StringIO()
        call_command("sqlmigrate", "opinions", loads[("postgresql", name)], stdout=out)
        assert dbobjects.source("postgresql", name).strip() in out.getvalue()


def test_a_remark_made_by_the_factory_is_searchable_at_once(seed, on_postgresql):
    theme = Theme.objects.filter(level=Theme.Level.SUBTHEME).first()
    created = OpinionFactory(body=BODY, theme=theme, status="published")
    assert created.pk in found("ai人材")
