"""Create the 管理者 / 事務局 / 委員 groups with their permissions.

The permission lists are frozen here on purpose: a later change of roles is a new
migration, not an edit of this one.
"""

from django.db import migrations

from opinions.migration_ops import create_permissions_now

OPINION_MODELS = [
    "committee",
    "meeting",
    "sourcedocument",
    "theme",
    "municipalitysize",
    "stakeholder",
    "opinion",
    "tagrule",
    "tagsuggestion",
    "tagmerge",
    "historicaltheme",
    "historicalmunicipalitysize",
    "historicalstakeholder",
    "historicalopinion",
    "historicaltagrule",
]

ROLES = {
    "管理者": [
        *[
            ("opinions", f"{action}_{model}")
            for model in OPINION_MODELS
            for action in ("add", "change", "delete", "view")
        ],
        ("opinions", "view_unpublished_opinion"),
        ("opinions", "publish_opinion"),
        ("opinions", "export_opinion"),
        ("auth", "view_user"),
        ("auth", "view_group"),
    ],
    "事務局": [
        *[("opinions", f"view_{model}") for model in OPINION_MODELS],
        ("opinions", "view_unpublished_opinion"),
        ("opinions", "publish_opinion"),
        ("opinions", "export_opinion"),
    ],
    "委員": [
        ("opinions", "add_opinion"),
        ("opinions", "change_own_opinion"),
    ],
}


def create_roles(apps, schema_editor):
    create_permissions_now(apps)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in codenames
        ]
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("opinions", "0002_tags_history_suggestions"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
