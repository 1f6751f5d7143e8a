"""管理者 issue and revoke API tokens (rest_framework.authtoken) in the admin.

A token acts as its user: a 事務局 member's token reads what they read. Frozen like 0003.
"""

from django.db import migrations

from opinions.migration_ops import create_permissions_now

PERMISSIONS = [("authtoken", f"{action}_tokenproxy") for action in ("add", "view", "delete")]


def grant(apps, schema_editor):
    create_permissions_now(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrators, _ = Group.objects.get_or_create(name="管理者")
    for app_label, codename in PERMISSIONS:
        administrators.permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="管理者"):
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="authtoken",
                codename__in=[codename for _, codename in PERMISSIONS],
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0011_count_tables"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
