"""The portal's roles, and what each may do: one declared table, applied to the groups.

``MODEL_ACTIONS`` names every model of the app with the actions (Django's default
permissions: add, change, delete, view) each role has on it, and ``EXTRA`` the permissions
that are not about one model's rows. ``apply`` makes the three groups hold exactly these —
run by migration 0014 and again after every ``migrate`` (``post_migrate``, where Django
itself creates the permissions of new models), so a new model joins its roles as soon as
its migration has run. ``tests/test_roles.py`` fails when a model of the app is missing
from the table, so adding a model is a decision about who may touch it, not an omission.
"""

from __future__ import annotations

ADMINISTRATOR = "管理者"  # curates everything in the admin
SECRETARIAT = "事務局"  # browses everything incl. pending, publishes, exports
MEMBER = "委員"  # submits remarks and edits their own
ROLES = (ADMINISTRATOR, SECRETARIAT, MEMBER)

ALL = ("add", "change", "delete", "view")
VIEW = ("view",)
CURATED = {ADMINISTRATOR: ALL, SECRETARIAT: VIEW}  # curated in the admin, read by staff

MODEL_ACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "committee": CURATED,
    "meeting": CURATED,
    "sourcedocument": CURATED,
    "theme": CURATED,
    "municipalitysize": CURATED,
    "stakeholder": CURATED,
    "opinion": {**CURATED, MEMBER: ("add",)},
    "tagrule": CURATED,
    "tagsuggestion": CURATED,
    "tagmerge": CURATED,
    "synonymgroup": CURATED,
    "historicaltheme": CURATED,
    "historicalmunicipalitysize": CURATED,
    "historicalstakeholder": CURATED,
    "historicalopinion": CURATED,
    "historicaltagrule": CURATED,
    "historicalsynonymgroup": CURATED,
    # Tag membership in the history: read through the remark's history pages.
    "historicalopinion_municipality_sizes": {},
    "historicalopinion_stakeholders": {},
    # The response ledger (事務局の対応): 事務局 write and review responses and keep the
    # policy documents they point into; 管理者 also curate the 対応区分 vocabulary.
    "responsecategory": CURATED,
    "policydocument": {ADMINISTRATOR: ALL, SECRETARIAT: ("add", "change", "view")},
    "response": {ADMINISTRATOR: ALL, SECRETARIAT: ("add", "change", "view")},
    "responseremark": CURATED,
    "responsereference": CURATED,
    "historicalresponsecategory": CURATED,
    "historicalpolicydocument": CURATED,
    "historicalresponse": CURATED,
    "historicalresponseremark": CURATED,
    "historicalresponsereference": CURATED,
    # The stored text analysis: computed, read-only, but for the groups of similar remarks,
    # which staff name and merge.
    "remarkanalysis": {},
    "analysisindex": {},
    "themedigest": {ADMINISTRATOR: VIEW, SECRETARIAT: VIEW},
    "remarkgroup": {ADMINISTRATOR: ("change", "view"), SECRETARIAT: ("change", "view")},
    # A user's own saved searches: kept on マイページ, not curated by anyone.
    "savedsearch": {},
    # Kept by the database's triggers, read by the code: nobody edits them.
    "tagcount": {},
    "venuetagcount": {},
    "venuecount": {},
    "datachange": {},
}

EXTRA: dict[str, tuple[tuple[str, str], ...]] = {
    ADMINISTRATOR: (
        ("opinions", "view_unpublished_opinion"),
        ("opinions", "publish_opinion"),
        ("opinions", "export_opinion"),
        ("opinions", "view_draft_response"),
        ("opinions", "confirm_response"),
        ("opinions", "publish_response"),
        ("auth", "view_user"),
        ("auth", "view_group"),
        # API tokens for other systems (django-rest-knox: hashed, expiring).
        ("knox", "add_authtoken"),
        ("knox", "view_authtoken"),
        ("knox", "delete_authtoken"),
    ),
    SECRETARIAT: (
        ("opinions", "view_unpublished_opinion"),
        ("opinions", "publish_opinion"),
        ("opinions", "export_opinion"),
        ("opinions", "view_draft_response"),
        ("opinions", "confirm_response"),
        ("opinions", "publish_response"),
    ),
    MEMBER: (("opinions", "change_own_opinion"),),
}

# Who is told that a remark waits for review: holders of this permission.
REVIEWS = "opinions.publish_opinion"


def permissions(role: str) -> set[tuple[str, str]]:
    """(app label, codename) of everything ``role`` may do."""
    granted = {
        ("opinions", f"{action}_{model}")
        for model, by_role in MODEL_ACTIONS.items()
        for action in by_role.get(role, ())
    }
    return granted | set(EXTRA.get(role, ()))


def apply(apps=None) -> None:
    """Give each group exactly the permissions of its role (creating the group if needed).
    ``apps`` is a migration's app registry, or the project's."""
    if apps is None:
        from django.apps import apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role in ROLES:
        wanted = permissions(role)
        found = [
            permission
            for permission in Permission.objects.filter(
                content_type__app_label__in={app for app, _ in wanted},
                codename__in={codename for _, codename in wanted},
            ).select_related("content_type")
            if (permission.content_type.app_label, permission.codename) in wanted
        ]
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.set(found)


def holders(permission: str):
    """Active users who hold ``permission`` ("app_label.codename") through a group or
    their own grant. Superusers hold every permission implicitly and are not included:
    a superuser is an operator's account, not a reviewer's."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    app_label, codename = permission.split(".")
    granted = Q(
        groups__permissions__content_type__app_label=app_label,
        groups__permissions__codename=codename,
    ) | Q(
        user_permissions__content_type__app_label=app_label,
        user_permissions__codename=codename,
    )
    return get_user_model().objects.filter(granted, is_active=True).distinct()
