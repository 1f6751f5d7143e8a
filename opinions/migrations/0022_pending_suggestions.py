"""Pending tag suggestions stop counting: the tags they put on remarks are taken off again.

Until tag suggestions waited for approval (services.apply_suggestions), ``suggest_tags
--apply`` put the suggested tag on the remark at once, so a database from before holds tag
rows for suggestions nobody has approved yet, and those remarks count under the tag in the
public list, its facets, the theme charts and the cross-tab. This removes those rows; the
suggestions stay pending, and approving one puts its tag back (services.decide_suggestion).

Only rows the old code wrote are removed: the tag was on the remark when the suggestion was
recorded (its last historical record at that moment has the tag). ``apply_suggestions``
never records a suggestion for a tag the remark already has, so a tag on at that moment
was put on by the suggestion itself, whereas a curator who added the same tag by hand later
keeps it. A remark with no history from before its suggestion cannot tell: the row is
removed, since a tag nobody approved must not count in public.

The count tables follow by themselves (their triggers on the tag tables); each remark gets
a historical record saying why its tags changed. Going back changes nothing: the code
this runs with already waits for approval, and putting the rows on again would bring the
leak back.
Frozen like 0003: no model imports.
"""

from django.db import migrations
from django.utils import timezone

REASON = "承認待ちのタグ提案を外しました（承認されるまで数えない）"  # history_change_reason ≤ 100
# (the suggestion's field, the remark's relation, the tag's column in the relation's tables)
KINDS = (
    ("municipality_size", "municipality_sizes", "municipalitysize"),
    ("stakeholder", "stakeholders", "stakeholder"),
)


def _tag_was_on_when_suggested(apps, suggestion, kind, relation, column) -> bool:
    HistoricalOpinion = apps.get_model("opinions", "HistoricalOpinion")
    before = (
        HistoricalOpinion.objects.filter(
            id=suggestion.opinion_id, history_date__lte=suggestion.created_at
        )
        .order_by("-history_date", "-history_id")
        .first()
    )
    if before is None:
        return True
    snapshot = apps.get_model("opinions", f"HistoricalOpinion_{relation}")
    return snapshot.objects.filter(
        history_id=before.history_id, **{f"{column}_id": getattr(suggestion, f"{kind}_id")}
    ).exists()


def _record_history(apps, opinion_ids) -> None:
    """One historical record per remark, with its tags as they now are (what
    django-simple-history writes on a change of tags, which a migration's frozen models do
    not trigger)."""
    Opinion = apps.get_model("opinions", "Opinion")
    HistoricalOpinion = apps.get_model("opinions", "HistoricalOpinion")
    copied = [
        field.attname
        for field in HistoricalOpinion._meta.concrete_fields
        if not field.name.startswith("history_")
    ]
    now = timezone.now()
    for opinion in Opinion.objects.filter(pk__in=opinion_ids).order_by("pk"):
        record = HistoricalOpinion.objects.create(
            **{name: getattr(opinion, name) for name in copied},
            history_date=now,
            history_type="~",
            history_change_reason=REASON,
            history_user=None,
        )
        for _kind, relation, column in KINDS:
            snapshot = apps.get_model("opinions", f"HistoricalOpinion_{relation}")
            through = Opinion._meta.get_field(relation).remote_field.through
            snapshot.objects.bulk_create(
                snapshot(history=record, id=pk, opinion_id=opinion.pk, **{f"{column}_id": tag_id})
                for pk, tag_id in through.objects.filter(opinion_id=opinion.pk).values_list(
                    "pk", f"{column}_id"
                )
            )


def take_off_pending_tags(apps, schema_editor):
    Opinion = apps.get_model("opinions", "Opinion")
    TagSuggestion = apps.get_model("opinions", "TagSuggestion")
    changed = set()
    for kind, relation, column in KINDS:
        through = Opinion._meta.get_field(relation).remote_field.through
        pending = TagSuggestion.objects.filter(status="pending", **{f"{kind}__isnull": False})
        for suggestion in pending.order_by("opinion_id", "pk"):
            rows = through.objects.filter(
                opinion_id=suggestion.opinion_id,
                **{f"{column}_id": getattr(suggestion, f"{kind}_id")},
            )
            if not rows.exists():
                continue
            if _tag_was_on_when_suggested(apps, suggestion, kind, relation, column):
                rows.delete()
                changed.add(suggestion.opinion_id)
    _record_history(apps, changed)


class Migration(migrations.Migration):
    dependencies = [
        ("opinions", "0021_one_tag_sync_function"),
    ]

    operations = [
        migrations.RunPython(take_off_pending_tags, migrations.RunPython.noop),
    ]
