"""The groups' permissions from the table in opinions/roles.py (0003 and 0012 froze lists
written before SynonymGroup existed, so 管理者 could not edit synonyms). The same table is
applied again after every migrate (opinions/apps.py), so later models join their roles."""

from django.db import migrations

from opinions.migration_ops import create_permissions_now


def apply_roles(apps, schema_editor):
    from opinions import roles

    create_permissions_now(apps)
    roles.apply(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0013_declared_database_objects"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(apply_roles, migrations.RunPython.noop)]
