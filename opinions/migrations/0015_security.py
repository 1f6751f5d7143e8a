"""API tokens hashed at rest (django-rest-knox) instead of DRF's clear-text ones.

Every existing DRF token becomes a knox token with the same value — stored as its SHA-512
digest and first characters only — expiring 90 days from now, so the systems using it keep
working while their 管理者 issue new ones; the clear-text rows are then deleted. 管理者 get
knox's permissions in place of DRF's. Frozen like 0003: no model imports.
"""

from datetime import timedelta

from django.db import migrations
from django.utils import timezone

from opinions.migration_ops import create_permissions_now

KNOX = [("knox", f"{action}_authtoken") for action in ("add", "view", "delete")]
DRF = [("authtoken", f"{action}_tokenproxy") for action in ("add", "view", "delete")]
MIGRATED_TOKEN_DAYS = 90


def permissions(apps, pairs):
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in pairs
    ]


def hash_tokens(apps, schema_editor):
    from knox.crypto import hash_token
    from knox.settings import CONSTANTS

    create_permissions_now(apps)
    Group = apps.get_model("auth", "Group")
    administrators, _ = Group.objects.get_or_create(name="管理者")
    administrators.permissions.add(*permissions(apps, KNOX))
    administrators.permissions.remove(*permissions(apps, DRF))

    Token = apps.get_model("authtoken", "Token")
    AuthToken = apps.get_model("knox", "AuthToken")
    expiry = timezone.now() + timedelta(days=MIGRATED_TOKEN_DAYS)
    AuthToken.objects.bulk_create(
        AuthToken(
            digest=hash_token(token.key),
            token_key=token.key[: CONSTANTS.TOKEN_KEY_LENGTH],
            user_id=token.user_id,
            expiry=expiry,
        )
        for token in Token.objects.all()
    )
    Token.objects.all().delete()


def unhash(apps, schema_editor):
    """Tokens cannot be recovered from their digests: going back, they are revoked."""
    Group = apps.get_model("auth", "Group")
    apps.get_model("knox", "AuthToken").objects.all().delete()
    for group in Group.objects.filter(name="管理者"):
        group.permissions.remove(*permissions(apps, KNOX))
        group.permissions.add(*permissions(apps, DRF))


class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0014_roles_as_rules"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(hash_tokens, unhash)]
