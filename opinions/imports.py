"""Importing a parsed summary document: plan what it changes, then write the plan.

``plan_import`` only reads. It finds the document (by committee and title), the headings,
and for every incoming remark the stored remark it is — by its text, so that tags, history,
review state and URLs stay with the remark when a revision inserts, removes or moves
remarks:

1. the same text after normalisation (width, case and blanks folded), preferring the same
   heading;
2. a similar text under the same heading;
3. a similar text anywhere in the document;
4. the same position, only when the texts are still somewhat alike.

What is left over is 新規 (incoming) or 非公開化 (stored; hidden, never deleted). An admin
may override any match before anything is written. ``apply_import`` writes a plan in one
transaction, as quickly as it can (the planning, diffing and lookups happen before it).
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.db.models import F
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from .concurrency import retrying_atomic
from .importers import ParsedDocument, decode_text
from .models import Committee, Meeting, Opinion, SourceDocument, Theme
from .tagging import normalize

# path of a node (names from the section down, joined by " › ") -> (short label, slug)
ThemeLabels = Mapping[str, tuple[str, str]]
Path_ = tuple[str, ...]

# How alike two normalised texts must be (difflib's ratio) to be one remark revised.
SIMILAR = 0.6
# …and to be matched by position when nothing better is found.
POSITION_SIMILAR = 0.3
# …and to be flagged as a remark another document or a meeting already has.
DUPLICATE_SIMILAR = 0.85
# Pairs compared across the document at most (leftovers only): bounds the preview's time.
MAX_PAIRS = 400_000
# New remarks the preview compares by meaning at most (see _find_duplicates).
MEANING_CHECKED_AT_MOST = 100


class Method:
    """How an incoming remark was matched to a stored one."""

    EXACT = "exact"
    SIMILAR_HEADING = "similar-heading"
    SIMILAR_DOCUMENT = "similar-document"
    POSITION = "position"
    CHOSEN = "chosen"

    LABELS = {
        EXACT: _("本文が一致"),
        SIMILAR_HEADING: _("同じ見出しで本文が似ている"),
        SIMILAR_DOCUMENT: _("資料内の別の見出しで本文が似ている"),
        POSITION: _("同じ位置"),
        CHOSEN: _("管理者が指定"),
    }


class Action:
    NEW = "new"
    CHANGED = "changed"
    MOVED = "moved"
    CHANGED_MOVED = "changed-moved"
    UNCHANGED = "unchanged"
    HIDDEN = "hidden"

    LABELS = {
        NEW: _("新規"),
        CHANGED: _("修正"),
        MOVED: _("移動"),
        CHANGED_MOVED: _("修正・移動"),
        UNCHANGED: _("変更なし"),
        HIDDEN: _("非公開化"),
    }


NEW = "new"  # an override: import this remark as new, matched to nothing


def normalized(text: str) -> str:
    """What a revision's typography cannot change: width, case and blanks folded."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).casefold()


def similarity(a: str, b: str) -> float:
    """difflib's ratio of two normalised texts (0 … 1)."""
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def _bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)} or {text}


def _dice(a: set[str], b: set[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0


def character_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The change from ``old`` to ``new`` character by character, as (kind, text) runs:
    kind is "equal", "delete" or "insert"."""
    runs = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            runs.append(("equal", old[i1:i2]))
        if tag in ("delete", "replace"):
            runs.append(("delete", old[i1:i2]))
        if tag in ("insert", "replace"):
            runs.append(("insert", new[j1:j2]))
    return runs


@dataclass
class Duplicate:
    """A remark another document already has, identical or nearly so."""

    opinion_id: int
    body: str
    document: str
    url: str
    ratio: float


@dataclass
class RemarkPlan:
    """One incoming remark and what importing it does."""

    index: int  # 0-based, document order
    body: str
    speaker: str
    path: Path_
    line: int
    page: int | None
    opinion: Opinion | None = None  # the stored remark it is, if any
    method: str = ""
    ratio: float = 1.0
    candidates: list[tuple[str, float, str]] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    link: Duplicate | None = None  # linked as the same remark raised again
    linked: bool = True  # the admin's choice for a remark with duplicates
    old_path: Path_ = ()
    chosen: str = "auto"  # what the admin chose for it: "auto", NEW or a stored remark's id

    @property
    def action(self) -> str:
        if self.opinion is None:
            return Action.NEW
        changed = self.body != self.opinion.body or self.speaker != (self.opinion.speaker or "")
        moved = self.path != self.old_path
        if changed and moved:
            return Action.CHANGED_MOVED
        return Action.CHANGED if changed else Action.MOVED if moved else Action.UNCHANGED

    @property
    def needs_choice(self) -> bool:
        """Whether the preview offers to change the match: not for a remark found unchanged
        by its exact text (keeps a large document's page and form small)."""
        return not (
            self.action == Action.UNCHANGED
            and self.method == Method.EXACT
            and self.chosen == "auto"
        )

    @property
    def action_label(self) -> str:
        return str(Action.LABELS[self.action])

    @property
    def method_label(self) -> str:
        return str(Method.LABELS.get(self.method, ""))

    @property
    def diff(self) -> list[tuple[str, str]]:
        if self.opinion is None or self.opinion.body == self.body:
            return []
        return character_diff(self.opinion.body, self.body)

    @property
    def heading(self) -> str:
        return " › ".join(self.path)

    @property
    def old_heading(self) -> str:
        return " › ".join(self.old_path)


@dataclass
class ImportPlan:
    """What importing ``parsed`` into ``committee`` would do, found without writing."""

    parsed: ParsedDocument
    committee: Committee
    document: SourceDocument | None
    remarks: list[RemarkPlan]
    hidden: list[Opinion]  # stored remarks the text no longer has (published ones)
    already_hidden: int
    new_themes: list[Path_]
    theme_paths: dict[int, Path_]
    label_change: str = ""

    def counts(self) -> dict[str, int]:
        actions = [remark.action for remark in self.remarks]
        return {
            "new": actions.count(Action.NEW),
            "changed": actions.count(Action.CHANGED) + actions.count(Action.CHANGED_MOVED),
            "moved": actions.count(Action.MOVED) + actions.count(Action.CHANGED_MOVED),
            "unchanged": actions.count(Action.UNCHANGED),
            "hidden": len(self.hidden),
            "themes": len(self.new_themes),
            "duplicates": sum(1 for remark in self.remarks if remark.duplicates),
            "linked": sum(1 for remark in self.remarks if remark.link),
        }

    @property
    def changed(self) -> bool:
        counts = self.counts()
        return bool(
            self.document is None
            or self.label_change
            or counts["new"]
            or counts["changed"]
            or counts["moved"]
            or counts["hidden"]
            or counts["themes"]
        )

    def summary(self) -> str:
        """The counts in one line, as the preview and ``import_summary`` print them."""
        return str(
            _(
                "新規 %(new)s、修正 %(changed)s、移動 %(moved)s、変更なし %(unchanged)s、"
                "非公開化 %(hidden)s、テーマ新規 %(themes)s、他の資料にある意見 %(duplicates)s"
            )
            % self.counts()
        )

    def report_lines(self) -> list[str]:
        """A line per remark that changes (and per hidden one), with how it was matched."""
        lines = []
        for remark in self.remarks:
            if remark.action == Action.UNCHANGED and not remark.duplicates:
                continue
            text = f"{remark.line}行目 {remark.action_label}"
            if remark.method:
                text += f"（{remark.method_label}）"
            if remark.action in (Action.MOVED, Action.CHANGED_MOVED):
                text += f" {remark.old_heading} → {remark.heading}"
            text += f": {remark.body[:40]}"
            if remark.link:
                text += f" ／ {remark.link.document} の意見と同じ（再掲）"
            elif remark.duplicates:
                text += f" ／ {remark.duplicates[0].document} に同じ意見あり"
            lines.append(text)
        lines.extend(
            f"{Action.LABELS[Action.HIDDEN]}: {opinion.body[:40]}" for opinion in self.hidden
        )
        return lines


def _squash_title(title: str) -> str:
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", title))


def find_document(committee: Committee, title: str) -> SourceDocument | None:
    """The committee's document of this title, also when one of them was letter-spaced."""
    exact = SourceDocument.objects.filter(committee=committee, title=title).first()
    if exact is not None:
        return exact
    wanted = _squash_title(title)
    for document in SourceDocument.objects.filter(committee=committee).only("pk", "title"):
        if _squash_title(document.title) == wanted:
            return SourceDocument.objects.get(pk=document.pk)
    return None


def _theme_paths() -> tuple[dict[int, Path_], dict[Path_, int]]:
    rows = list(Theme.objects.values_list("pk", "parent_id", "name"))
    by_pk = {pk: (parent, name) for pk, parent, name in rows}
    paths: dict[int, Path_] = {}

    def path_of(pk: int) -> Path_:
        if pk not in paths:
            parent, name = by_pk[pk]
            paths[pk] = (*path_of(parent), name) if parent else (name,)
        return paths[pk]

    for pk in by_pk:
        path_of(pk)
    return paths, {path: pk for pk, path in paths.items()}


def plan_import(
    parsed: ParsedDocument,
    *,
    committee: Committee,
    matches: Mapping[int, int | str] | None = None,
    links: Mapping[int, bool] | None = None,
    duplicate_scope=None,
) -> ImportPlan:
    """What importing ``parsed`` would do, remark by remark. Reads only: nothing is
    written and no lock is taken, so it can run while others write.

    ``matches`` overrides the automatic match of an incoming remark (by index): a stored
    remark's id of this document, or ``NEW``. ``links`` says, per incoming new remark that
    another document already has, whether to link it as the same remark raised again
    (the default) or to import it as unrelated. ``duplicate_scope`` is the queryset the
    duplicates are looked for in (what the importing user may see).
    """
    matches, links = matches or {}, links or {}
    document = find_document(committee, parsed.title)
    theme_paths, theme_by_path = _theme_paths()
    node_paths = {id(node): tuple(path) for node, _parent, path in parsed.walk_tree()}
    remarks = [
        RemarkPlan(
            index=index,
            body=opinion.body,
            speaker=opinion.speaker,
            path=node_paths[id(node)],
            line=opinion.line,
            page=opinion.page,
        )
        for index, (node, opinion) in enumerate(parsed.opinions())
    ]
    stored = list(document.opinions.order_by("position")) if document else []
    _match(remarks, stored, theme_paths, matches)
    for remark in remarks:
        if remark.opinion is not None:
            remark.old_path = theme_paths.get(remark.opinion.theme_id, ())
    _find_duplicates(remarks, document, duplicate_scope, links)
    matched = {remark.opinion.pk for remark in remarks if remark.opinion is not None}
    leftovers = [opinion for opinion in stored if opinion.pk not in matched]
    new_themes = [
        path for _node, _parent, path in parsed.walk_tree() if tuple(path) not in theme_by_path
    ]
    label_change = (
        parsed.label if document and parsed.label and document.label != parsed.label else ""
    )
    return ImportPlan(
        parsed=parsed,
        committee=committee,
        document=document,
        remarks=remarks,
        hidden=[opinion for opinion in leftovers if opinion.status != Opinion.Status.HIDDEN],
        already_hidden=sum(1 for opinion in leftovers if opinion.status == Opinion.Status.HIDDEN),
        new_themes=[tuple(path) for path in new_themes],
        theme_paths=theme_paths,
        label_change=label_change,
    )


def _match(
    remarks: list[RemarkPlan],
    stored: list[Opinion],
    theme_paths: Mapping[int, Path_],
    overrides: Mapping[int, int | str],
) -> None:
    by_pk = {opinion.pk: opinion for opinion in stored}
    used: set[int] = set()
    fixed: set[int] = set()  # incoming remarks an override decided

    def assign(remark: RemarkPlan, opinion: Opinion, method: str, ratio: float) -> None:
        remark.opinion, remark.method, remark.ratio = opinion, method, ratio
        used.add(opinion.pk)

    for index, choice in overrides.items():
        if not 0 <= index < len(remarks):
            continue
        if choice == NEW:
            fixed.add(index)
            remarks[index].chosen = NEW
        elif choice in by_pk and choice not in used:
            assign(remarks[index], by_pk[choice], Method.CHOSEN, 1.0)
            fixed.add(index)
            remarks[index].chosen = str(choice)

    texts = {opinion.pk: normalized(opinion.body) for opinion in stored}
    incoming = {remark.index: normalized(remark.body) for remark in remarks}

    def open_remarks():
        return [r for r in remarks if r.opinion is None and r.index not in fixed]

    def open_stored():
        return [opinion for opinion in stored if opinion.pk not in used]

    # 1. The same text, preferring the same heading, then document order.
    by_text: dict[str, list[Opinion]] = {}
    for opinion in open_stored():
        by_text.setdefault(texts[opinion.pk], []).append(opinion)
    for remark in open_remarks():
        candidates = [o for o in by_text.get(incoming[remark.index], []) if o.pk not in used]
        if candidates:
            same_heading = [o for o in candidates if theme_paths.get(o.theme_id) == remark.path]
            assign(remark, (same_heading or candidates)[0], Method.EXACT, 1.0)

    # 2. and 3. Similar texts, best pairs first: under the same heading, then anywhere.
    def pair_up(same_heading: bool, method: str) -> None:
        left, right = open_remarks(), open_stored()
        if not left or not right:
            return
        if not same_heading and len(left) * len(right) > MAX_PAIRS:
            return
        grams = {o.pk: _bigrams(texts[o.pk]) for o in right}
        pairs = []
        for remark in left:
            mine = _bigrams(incoming[remark.index])
            for opinion in right:
                if same_heading and theme_paths.get(opinion.theme_id) != remark.path:
                    continue
                if _dice(mine, grams[opinion.pk]) < SIMILAR / 2:
                    continue
                ratio = similarity(incoming[remark.index], texts[opinion.pk])
                if ratio >= SIMILAR:
                    pairs.append((ratio, -remark.index, opinion.position or 0, remark, opinion))
        for ratio, _i, _p, remark, opinion in sorted(pairs, key=lambda p: p[:3], reverse=True):
            if remark.opinion is None and opinion.pk not in used:
                assign(remark, opinion, method, ratio)

    pair_up(True, Method.SIMILAR_HEADING)
    pair_up(False, Method.SIMILAR_DOCUMENT)

    # 4. The same position, when the texts are still somewhat alike.
    by_position = {opinion.position: opinion for opinion in open_stored()}
    for remark in open_remarks():
        opinion = by_position.get(remark.index + 1)
        if opinion is not None and opinion.pk not in used:
            ratio = similarity(incoming[remark.index], texts[opinion.pk])
            if ratio >= POSITION_SIMILAR:
                assign(remark, opinion, Method.POSITION, ratio)

    # What an admin may choose instead: the most alike stored remarks (of the same
    # heading only, when comparing with all of them would take too long).
    grams = {o.pk: _bigrams(texts[o.pk]) for o in stored}
    everywhere = len(remarks) * len(stored) <= MAX_PAIRS
    by_heading: dict[Path_, list[Opinion]] = {}
    for opinion in stored:
        by_heading.setdefault(theme_paths.get(opinion.theme_id, ()), []).append(opinion)
    for remark in remarks:
        mine = _bigrams(incoming[remark.index])
        pool = stored if everywhere else by_heading.get(remark.path, [])[:200]
        ranked = sorted(pool, key=lambda o: _dice(mine, grams[o.pk]), reverse=True)[:5]
        if remark.opinion is not None and remark.opinion not in ranked:
            ranked.insert(0, remark.opinion)
        remark.candidates = [
            (str(o.pk), round(_dice(mine, grams[o.pk]), 2), o.body[:60]) for o in ranked
        ]


def _find_duplicates(
    remarks: list[RemarkPlan],
    document: SourceDocument | None,
    scope,
    links: Mapping[int, bool],
) -> None:
    """Flag each new remark that another document or a meeting already has, the same or
    nearly (``DUPLICATE_SIMILAR``): the portal's one near-duplicate search
    (``opinions.analysis.related.near_duplicates_among``), by meaning across every
    document, meeting and committee ``scope`` holds, whatever the database's locale."""
    from .analysis.related import near_duplicates_among

    new = [remark for remark in remarks if remark.opinion is None]
    if not new:
        return
    scope = scope if scope is not None else Opinion.objects.all()
    others = scope.exclude(status=Opinion.Status.WITHDRAWN)
    if document is not None:
        others = others.exclude(source_document=document)
    others = others.select_related("source_document", "meeting__committee")
    found = near_duplicates_among(
        [remark.body for remark in new],
        others,
        threshold=DUPLICATE_SIMILAR,
        limit=3,
        # Embedding costs about 0.2 s a remark: beyond this many new remarks the preview
        # compares by wording only, so that it answers within a request's time.
        by_meaning=len(new) <= MEANING_CHECKED_AT_MOST,
    )
    for remark, duplicates in zip(new, found, strict=True):
        remark.duplicates = [
            Duplicate(
                opinion_id=opinion.pk,
                body=opinion.body,
                document=_venue(opinion),
                url=opinion.get_absolute_url(),
                ratio=round(opinion.similarity, 2),
            )
            for opinion in duplicates
        ]
        remark.linked = links.get(remark.index, True)
        if remark.duplicates and remark.linked:
            remark.link = remark.duplicates[0]


def _venue(opinion: Opinion) -> str:
    """Where a remark was made, as the preview names it: its document, else its meeting."""
    if opinion.source_document_id:
        return str(opinion.source_document)
    if opinion.meeting_id:
        return f"{opinion.meeting.committee} {opinion.meeting}"
    return _("意見 %(pk)s") % {"pk": opinion.pk}


# --- Writing ------------------------------------------------------------------------------


@dataclass
class ImportResult:
    document: SourceDocument
    plan: ImportPlan
    document_created: bool = False
    themes_created: int = 0
    messages: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return self.plan.counts()

    @property
    def opinions_created(self) -> int:
        return self.counts["new"]

    @property
    def opinions_updated(self) -> int:
        return self.counts["changed"]

    @property
    def opinions_moved(self) -> int:
        return self.counts["moved"]

    @property
    def opinions_unchanged(self) -> int:
        return self.counts["unchanged"]

    @property
    def opinions_hidden(self) -> int:
        return self.counts["hidden"]

    @property
    def changed(self) -> bool:
        return self.document_created or self.plan.changed


def default_short_label(name: str) -> str:
    """A first short label for a heading: width-folded, without a trailing （…） note.

    未来技術（Society 5.0等） → 未来技術; curators refine labels in the admin.
    """
    label = unicodedata.normalize("NFKC", name)
    stripped = _TRAILING_NOTE.sub("", label).strip()
    return (stripped or label)[: Theme._meta.get_field("short_label").max_length]


_TRAILING_NOTE = re.compile(r"[（(][^（）()]*[）)]$")


def _unique_slug(model, wanted: str) -> str:
    base = slugify(wanted, allow_unicode=True)[:90] or model._meta.model_name
    candidate, number = base, 1
    while model.objects.filter(slug=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _sync_themes(parsed: ParsedDocument, labels: ThemeLabels, result, by) -> dict[Path_, Theme]:
    """Each heading's Theme, found by parent and name or created after its existing
    siblings — in one read and one insert per level, to keep the import's transaction
    short."""
    existing = list(Theme.objects.all())
    by_key = {(theme.parent_id, theme.name): theme for theme in existing}
    last_position: dict[int | None, int] = {}
    for theme in existing:
        key = theme.parent_id if theme.level > 1 else None
        last_position[key] = max(last_position.get(key, 0), theme.position)
    slugs = {theme.slug for theme in existing}

    def unique(wanted: str) -> str:
        base = slugify(wanted, allow_unicode=True)[:90] or "theme"
        candidate, number = base, 1
        while candidate in slugs:
            number += 1
            candidate = f"{base}-{number}"
        slugs.add(candidate)
        return candidate

    themes: dict[Path_, Theme] = {}
    for level in (1, 2, 3):
        fresh = []
        for node, parent, path in parsed.walk_tree():
            if node.level != level:
                continue
            parent_theme = themes[tuple(path[:-1])] if parent else None
            parent_pk = parent_theme.pk if parent_theme else None
            theme = by_key.get((parent_pk, node.name))
            if theme is None:
                last_position[parent_pk] = last_position.get(parent_pk, 0) + 1
                short_label, slug = labels.get(" › ".join(path)) or (
                    default_short_label(node.name),
                    "",
                )
                theme = Theme(
                    parent=parent_theme,
                    level=level,
                    name=node.name,
                    short_label=short_label,
                    slug=unique(slug or short_label),
                    position=last_position[parent_pk],
                )
                fresh.append(theme)
            themes[tuple(path)] = theme
        if fresh:
            bulk_create_with_history(fresh, Theme, default_user=by)
            result.themes_created += len(fresh)
    return themes


@dataclass(frozen=True)
class NewMeeting:
    number: int
    held_on: date | None = None


@retrying_atomic
def apply_import(
    plan: ImportPlan,
    *,
    meeting_numbers: Iterable[int] = (),
    new_meeting: NewMeeting | None = None,
    labels: ThemeLabels | None = None,
    by=None,
) -> ImportResult:
    """Write ``plan``: the document, its meetings (``new_meeting`` is created if missing),
    the headings it lacks, and each remark as the plan matched it — updated in place,
    created, or hidden (never deleted). A remark linked to another document's copy records
    it as ``repeat_of``. Idempotent: a second run of the same text changes nothing.

    The plan was made outside this transaction; if the document gained or lost remarks
    since (another import), the stale plan is refused rather than written.
    """
    labels = labels or {}
    parsed, committee = plan.parsed, plan.committee
    document = plan.document
    created = document is None
    if document is None:
        document = SourceDocument.objects.create(
            committee=committee,
            title=parsed.title,
            label=parsed.label,
            slug=_unique_slug(SourceDocument, f"{parsed.label}-{parsed.title}"),
        )
    result = ImportResult(document=document, plan=plan, document_created=created)
    if plan.label_change:
        document.label = plan.label_change
        document.save(update_fields=["label"])
        result.messages.append(f"資料番号を「{plan.label_change}」に更新しました。")

    numbers = list(meeting_numbers)
    if new_meeting is not None:
        meeting, made = Meeting.objects.get_or_create(
            committee=committee,
            number=new_meeting.number,
            defaults={"held_on": new_meeting.held_on},
        )
        if made:
            result.messages.append(f"会議「{meeting}」を追加しました。")
        numbers.append(new_meeting.number)
    document.meetings.add(
        *(
            Meeting.objects.get_or_create(committee=committee, number=number)[0]
            for number in numbers
        )
    )

    stored = list(Opinion.objects.select_for_update().filter(source_document=document))
    planned = {opinion.pk for opinion in (r.opinion for r in plan.remarks) if opinion} | {
        opinion.pk for opinion in plan.hidden
    }
    hidden_before = {o.pk for o in stored if o.status == Opinion.Status.HIDDEN}
    if {o.pk for o in stored} - hidden_before - planned or planned - {o.pk for o in stored}:
        raise StalePlan()

    themes = _sync_themes(parsed, labels, result, by)

    # Positions are unique per document: park every stored remark beyond both the old and
    # the new range, then give each its place (one statement each way).
    if stored:
        top = max(o.position or 0 for o in stored) + len(plan.remarks) + len(stored) + 1
        Opinion.objects.filter(source_document=document).update(position=F("position") + top)
    by_pk = {o.pk: o for o in stored}
    revised, moved, fresh = [], [], []
    for remark in plan.remarks:
        theme = themes[remark.path]
        position = remark.index + 1
        if remark.opinion is None:
            fresh.append(
                Opinion(
                    body=remark.body,
                    search_text=normalize(remark.body),
                    speaker=remark.speaker or None,
                    theme=theme,
                    source_document=document,
                    position=position,
                    source_page=remark.page,
                    status=Opinion.Status.PUBLISHED,
                    repeat_of_id=remark.link.opinion_id if remark.link else None,
                )
            )
            continue
        opinion = by_pk[remark.opinion.pk]
        opinion.position = position
        # Where the remark is printed: a source without pages (a text file) leaves the page a
        # PDF gave as it was.
        opinion.source_page = remark.page or opinion.source_page
        if (opinion.body, opinion.speaker or "", opinion.theme_id) != (
            remark.body,
            remark.speaker,
            theme.pk,
        ):
            opinion.body, opinion.speaker, opinion.theme = (
                remark.body,
                remark.speaker or None,
                theme,
            )
            opinion.search_text = normalize(remark.body)
            opinion.version += 1
            revised.append(opinion)
        else:
            moved.append(opinion)
    hidden_pks = {o.pk for o in plan.hidden}
    leftovers = sorted(
        (o for o in stored if o.pk not in {r.opinion.pk for r in plan.remarks if r.opinion}),
        key=lambda o: o.position or 0,
    )
    for offset, opinion in enumerate(leftovers, start=len(plan.remarks) + 1):
        opinion.position = offset
        if opinion.pk in hidden_pks:
            opinion.status = Opinion.Status.HIDDEN
            opinion.version += 1
            revised.append(opinion)
        else:
            moved.append(opinion)

    fields = [
        "body",
        "search_text",
        "speaker",
        "theme",
        "position",
        "source_page",
        "status",
        "version",
    ]
    if revised:
        bulk_update_with_history(revised, Opinion, fields, batch_size=1000, default_user=by)
    if moved:
        Opinion.objects.bulk_update(moved, ["position", "source_page"], batch_size=1000)
    if fresh:
        bulk_create_with_history(fresh, Opinion, batch_size=2000, default_user=by)
    return result


class StalePlan(Exception):
    """The document changed between the preview and the import."""


def import_summary_document(
    parsed: ParsedDocument,
    *,
    committee: Committee,
    meeting_numbers: Iterable[int] = (),
    labels: ThemeLabels | None = None,
    by=None,
) -> ImportResult:
    """Plan and write in one go, matching automatically (``import_summary`` without a
    preview)."""
    return apply_import(
        plan_import(parsed, committee=committee),
        meeting_numbers=meeting_numbers,
        labels=labels,
        by=by,
    )


# --- Labels files -------------------------------------------------------------------------

LABEL_COLUMNS = ["path", "short_label", "slug"]


class LabelsError(ValueError):
    """A labels file that can't be read; the message names the line."""


def parse_theme_labels(text: str) -> dict[str, tuple[str, str]]:
    """A curated labels file: a header ``path``, ``short_label``, ``slug`` and one row per
    heading, tab-separated (fixtures/source/theme_labels.tsv). ``path`` is the heading's
    full name under its parents, joined with " › "; an empty ``slug`` is derived."""
    rows = csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter="\t")
    header = [cell.strip() for cell in next(rows, [])]
    if header != LABEL_COLUMNS:
        raise LabelsError(
            _("1行目: 見出しの行は path、short_label、slug の3列（タブ区切り）にしてください。")
        )
    labels = {}
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(LABEL_COLUMNS) or not row[0].strip() or not row[1].strip():
            raise LabelsError(
                _("%(line)s行目: path と short_label を入れた3列（タブ区切り）にしてください。")
                % {"line": number}
            )
        labels[row[0].strip()] = (row[1].strip(), row[2].strip())
    return labels


def read_theme_labels(path: Path) -> dict[str, tuple[str, str]]:
    """``parse_theme_labels`` of a file (UTF-8 or Shift_JIS, as documents are read)."""
    return parse_theme_labels(decode_text(path.read_bytes()))
