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
