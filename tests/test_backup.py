"""Backup and restore with pg_dump / pg_restore, as the README documents."""

import shutil
import subprocess
import uuid

import pytest
from django.db import connection

from opinions.models import MunicipalitySize, Opinion, Stakeholder, Theme

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="pg_dump / pg_restore not installed"),
]

COUNTED = {
    "opinions_opinion": Opinion,
    "opinions_theme": Theme,
    "opinions_stakeholder": Stakeholder,
    "opinions_municipalitysize": MunicipalitySize,
    "opinions_opinion_stakeholders": Opinion.stakeholders.through,
    "opinions_historicalopinion": Opinion.history.model,
}


def test_a_dump_restores_into_a_fresh_database_with_the_same_counts(on_postgresql, tmp_path):
    from opinions.management.commands.load_seed import load_seed_fixture

    load_seed_fixture()
    opinion = Opinion.objects.get(position=1)
    opinion.status = Opinion.Status.HIDDEN
    opinion.save()  # some history too
    expected = {table: model.objects.count() for table, model in COUNTED.items()}

    db = connection.settings_dict
    common = [
        "-h",
        db["HOST"] or "127.0.0.1",
        "-p",
        str(db["PORT"] or 5432),
        "-U",
        db["USER"] or "postgres",
    ]
    dump = tmp_path / "portal.dump"
    fresh = f"restore_{uuid.uuid4().hex[:8]}"
    subprocess.run(["pg_dump", *common, "-Fc", "-f", str(dump), db["NAME"]], check=True)
    subprocess.run(["createdb", *common, fresh], check=True)
    try:
        subprocess.run(["pg_restore", *common, "--no-owner", "-d", fresh, str(dump)], check=True)
        for table, count in expected.items():
            result = subprocess.run(
                ["psql", *common, "-d", fresh, "-tAc", f"SELECT count(*) FROM {table}"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            assert int(result.stdout) == count, table
        assert expected["opinions_opinion"] == 68
    finally:
        subprocess.run(["dropdb", *common, "--if-exists", fresh], check=True)


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return (
        f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
        f"/{db['NAME']}"
    )


def test_dumpdata_into_a_file_loads_back_as_it_was(tmp_path, on_postgresql):
    """``manage.py dumpdata > backup.json`` as an administrator types it: what the command
    prints is the data alone (its log lines go to standard error), and ``loaddata`` takes
    the file back into an empty database, counts and search included."""
    import os
    import sys
    from pathlib import Path

    from django.core.management import call_command

    from opinions import dbobjects
    from opinions.management.commands.load_seed import load_seed_fixture
    from tests.test_counts import assert_exact

    load_seed_fixture()
    opinion = Opinion.objects.get(position=1)
    opinion.status = Opinion.Status.HIDDEN
    opinion.save()
    expected = {table: model.objects.count() for table, model in COUNTED.items()}
    backup = tmp_path / "backup.json"
    env = {**os.environ, "DATABASE_URL": database_url(), "DJANGO_LOG_LEVEL": "INFO"}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # manage.py's own settings, as a user runs it
    with backup.open("wb") as out:
        subprocess.run(
            [sys.executable, "manage.py", "dumpdata", "opinions", "--natural-foreign"],
            cwd=Path(__file__).resolve().parent.parent, env=env, stdout=out, check=True,
        )  # fmt: skip
    # Empty the app's tables (accounts stay, as on the server a backup returns to).
    from django.apps import apps

    tables = [
        connection.ops.quote_name(model._meta.db_table)
        for model in apps.get_app_config("opinions").get_models(include_auto_created=True)
        if model._meta.managed
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
    assert Opinion.objects.count() == 0
    call_command("loaddata", str(backup), verbosity=0)
    assert {table: model.objects.count() for table, model in COUNTED.items()} == expected
    assert_exact()
    assert Opinion.objects.filter(search_text__contains="地方創生").exists()
    assert dbobjects.differences(connection) == []
