"""Curation by 管理者 and 事務局: tags on remarks, tag merges, the theme tree's order,
remark status, and tag suggestions decided. Each runs in one transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.db.models import Max
from django.utils import timezone

from ..concurrency import retrying_atomic
from ..models import (
    MunicipalitySize,
    Opinion,
    Stakeholder,
    TagMerge,
    TagRule,
    TagSuggestion,
    Theme,
)

# --- Tags -------------------------------------------------------------------------------

Tag = MunicipalitySize | Stakeholder


def _tag_relation(opinion: Opinion, tag: Tag):
    return getattr(opinion, type(tag).opinion_field)


def add_tag(opinions: Iterable[Opinion], tag: Tag, *, by=None) -> int:
    """Add ``tag`` to each remark that lacks it (one history record each); returns how many."""
    return _set_membership([opinion.pk for opinion in opinions], tag, present=True, by=by)


def remove_tag(opinions: Iterable[Opinion], tag: Tag, *, by=None) -> int:
    """Remove ``tag`` from each remark that has it (one history record each); returns how many."""
    return _set_membership([opinion.pk for opinion in opinions], tag, present=False, by=by)


def _locked_in_order(pks: Iterable[int]):
    """The remarks, read and locked in primary-key order (the order every writer locks in)."""
    return Opinion.objects.filter(pk__in=list(pks)).order_by("pk").select_for_update()


@retrying_atomic
def _set_membership(pks: list[int], tag: Tag, *, present: bool, by) -> int:
    changed = 0
    for opinion in _locked_in_order(pks):
        relation = _tag_relation(opinion, tag)
        if relation.filter(pk=tag.pk).exists() != present:
            opinion._history_user = by
            (relation.add if present else relation.remove)(tag)
            changed += 1
    return changed


def set_status(opinions: Iterable[Opinion], status: str, *, by=None) -> int:
    """Publish or hide remarks one by one, so each change is in the history."""
    return _set_status([opinion.pk for opinion in opinions], status, by=by)


@retrying_atomic
def _set_status(pks: list[int], status: str, *, by) -> int:
    changed = 0
    for opinion in _locked_in_order(pks):
        if opinion.status != status:
            opinion.status = status
            opinion._history_user = by
            opinion.save(update_fields=["status", "updated_at"])
            changed += 1
    return changed


@retrying_atomic
def merge_tags(*, keep: Tag, merge: Iterable[Tag], by=None) -> list[TagMerge]:
    """Fold each tag of ``merge`` into ``keep``: its remarks, rules and open suggestions move
    to ``keep``, the merge is recorded, and the merged tag is deleted."""
    model = type(keep)
    records = []
    for tag in merge:
        if type(tag) is not model:
            raise ValueError("種類の違うタグは統合できません。")
        if tag.pk == keep.pk:
            continue
        moved = list(tag.opinions.all())
        for opinion in moved:
            opinion._history_user = by
            relation = _tag_relation(opinion, keep)
            relation.add(keep)
            relation.remove(tag)
        for rule in TagRule.objects.filter(**{model.rule_field: tag}):
            setattr(rule, model.rule_field, keep)
            rule._history_user = by
            rule.save()
        already = TagSuggestion.objects.filter(**{model.rule_field: keep}).values("opinion")
        TagSuggestion.objects.filter(**{model.rule_field: tag}).exclude(opinion__in=already).update(
            **{model.rule_field: keep}
        )
        records.append(
            TagMerge.objects.create(
                axis=TagMerge.Axis.SIZE if model is MunicipalitySize else TagMerge.Axis.STAKEHOLDER,
                kept_name=keep.name,
                kept_slug=keep.slug,
                merged_name=tag.name,
                merged_slug=tag.slug,
                opinions_moved=len(moved),
                merged_by=by,
            )
        )
        tag._history_user = by
        tag.delete()
    return records


@retrying_atomic
def move_theme(theme: Theme, offset: int, *, by=None) -> bool:
    """Swap ``theme`` with its previous (offset -1) or next (+1) sibling; False at an end."""
    siblings = Theme.objects.filter(parent=theme.parent_id, level=theme.level)
    if offset < 0:
        neighbour = siblings.filter(position__lt=theme.position).order_by("-position").first()
    else:
        neighbour = siblings.filter(position__gt=theme.position).order_by("position").first()
    if neighbour is None:
        return False
    # Sibling positions are unique, so park one row on a free position during the swap.
    free = (Theme.objects.aggregate(last=Max("position"))["last"] or 0) + 1
    mine, theirs = theme.position, neighbour.position
    for node, position in ((theme, free), (neighbour, mine), (theme, theirs)):
        node.position = position
        node._history_user = by
        node.save(update_fields=["position"])
    return True


@retrying_atomic
def move_theme_to(theme: Theme, place: int, *, by=None) -> int:
    """Put ``theme`` at ``place`` (1 = first) among its siblings in one step, shifting the
    others; returns the place it got (a place past the end is the last)."""
    siblings = list(
        Theme.objects.select_for_update()
        .filter(parent=theme.parent_id, level=theme.level)
        .order_by("position")
    )
    theme = next(node for node in siblings if node.pk == theme.pk)  # the locked row
    others = [node for node in siblings if node.pk != theme.pk]
    place = max(1, min(place, len(others) + 1))
    ordered = [*others[: place - 1], theme, *others[place - 1 :]]
    positions = sorted(node.position for node in siblings)
    # Sibling positions are unique: park every moving row past the largest first.
    free = (Theme.objects.aggregate(last=Max("position"))["last"] or 0) + 1
    moving = [
        (node, position)
        for node, position in zip(ordered, positions, strict=True)
        if node.position != position
    ]
    for offset, (node, _position) in enumerate(moving):
        node.position = free + offset
        node._history_user = by
        node.save(update_fields=["position"])
    for node, position in moving:
        node.position = position
        node._history_user = by
        node.save(update_fields=["position"])
    return place


@retrying_atomic
def apply_suggestions(opinion: Opinion, suggested: Mapping[Tag, str], *, by=None) -> list[Tag]:
    """Record a pending TagSuggestion for each suggested tag the remark lacks; return them.

    The tag itself is put on the remark only when a curator approves
    (:func:`decide_suggestion`): until then it counts nowhere — lists, facets, the count
    tables' triggers, exports and the API all read the remark's tags. Never removes a tag,
    and never suggests again a tag already suggested for this remark (so a rejected
    suggestion stays rejected).
    """
    recorded = []
    for tag, reason in suggested.items():
        field = type(tag).rule_field
        if _tag_relation(opinion, tag).filter(pk=tag.pk).exists():
            continue
        if TagSuggestion.objects.filter(opinion=opinion, **{field: tag}).exists():
            continue
        TagSuggestion.objects.create(opinion=opinion, reason=reason[:200], **{field: tag})
        recorded.append(tag)
    return recorded


@retrying_atomic
def decide_suggestion(suggestion: TagSuggestion, *, approve: bool, by=None) -> None:
    """Approve (put the tag on the remark) or reject a pending suggestion.

    Rejecting also takes the tag off if it is there: suggestions recorded before approval
    was required put their tag on straight away.
    """
    if suggestion.status != TagSuggestion.Status.PENDING:
        return
    if approve:
        add_tag([suggestion.opinion], suggestion.tag, by=by)
    else:
        remove_tag([suggestion.opinion], suggestion.tag, by=by)
    suggestion.status = TagSuggestion.Status.APPROVED if approve else TagSuggestion.Status.REJECTED
    suggestion.decided_at = timezone.now()
    suggestion.decided_by = by
    suggestion.save(update_fields=["status", "decided_at", "decided_by"])
