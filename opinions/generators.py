"""Synthetic remarks at scale, for benchmarks: bodies recombined from the seed's sentences.

Every synthetic remark copies a *template*, one of the seed document's curated remarks
picked at random: its theme, its curated tags (so the joint distribution of themes, sizes
and stakeholders is the seed's) and its number of sentences (so lengths are the seed's).
The body is that many sentences drawn from the seed, mostly from remarks of the same
theme, so that a search for a word of the theme finds roughly the share it would in real
data. A few tags are perturbed so that combinations beyond the seed's 68 occur.

The same ``seed`` gives the same rows. On PostgreSQL the rows go in through COPY (tens of
thousands per second); elsewhere through batched ``bulk_create``.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from .browsing import counts
from .models import (
    Committee,
    Meeting,
    MunicipalitySize,
    Opinion,
    SourceDocument,
    Stakeholder,
    Theme,
)
from .tagging import normalize

SEED_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "seed.json"
_SENTENCE = re.compile(r"[^。！？]+[。！？]?")

# Shares of statuses among synthetic remarks (the rest published).
PENDING_SHARE = 0.06
HIDDEN_SHARE = 0.03
# Remarks submitted at a meeting rather than printed in its summary document.
MEETING_ONLY_SHARE = 0.2
REMARKS_PER_MEETING = 10_000
MAX_MEETINGS = 200
# Before a load this large (relative to the rows already there) the secondary indexes are
# dropped and rebuilt afterwards: building a GIN index once is far cheaper than updating it
# row by row (see bench/results.md).
REBUILD_INDEXES_FROM = 50_000


@dataclass(frozen=True)
class Template:
    theme: str  # slug
    sizes: tuple[str, ...]  # slugs
    stakeholders: tuple[str, ...]
    sentences: int


@dataclass
class Corpus:
    """What the generator draws from: the seed's remarks as templates, and its sentences."""

    templates: list[Template]
    sentences: list[str]
    by_theme: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_fixture(cls, path: Path = SEED_FIXTURE) -> Corpus:
        objects = json.loads(path.read_text(encoding="utf-8"))
        slugs = {
            model: {o["pk"]: o["fields"]["slug"] for o in objects if o["model"] == model}
            for model in ("opinions.theme", "opinions.municipalitysize", "opinions.stakeholder")
        }
        templates, sentences, by_theme = [], [], {}
        for obj in objects:
            if obj["model"] != "opinions.opinion" or obj["fields"]["status"] != "published":
                continue
            fields = obj["fields"]
            theme = slugs["opinions.theme"][fields["theme"]]
            parts = split_sentences(fields["body"])
            templates.append(
                Template(
                    theme=theme,
                    sizes=tuple(
                        slugs["opinions.municipalitysize"][pk]
                        for pk in fields["municipality_sizes"]
                    ),
                    stakeholders=tuple(
                        slugs["opinions.stakeholder"][pk] for pk in fields["stakeholders"]
                    ),
                    sentences=len(parts),
                )
            )
            sentences.extend(parts)
            by_theme.setdefault(theme, []).extend(parts)
        return cls(templates, sentences, by_theme)


def split_sentences(body: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(body) if s.strip()]


@dataclass
class Row:
    """One synthetic remark, with ids resolved."""

    id: int
    body: str
    theme_id: int
    source_document_id: int | None
    meeting_id: int | None
    position: int | None
    status: str
    created_at: dt.datetime
    size_ids: tuple[int, ...]
    stakeholder_ids: tuple[int, ...]


@dataclass
class Plan:
    """The ids the rows refer to: themes and tags by slug, the synthetic meetings."""

    themes: dict[str, int]
    sizes: dict[str, int]
    stakeholders: dict[str, int]
    meetings: list[tuple[int, int, dt.date]]  # (meeting id, its document id, held on)
    first_id: int
    first_positions: dict[int, int]  # document id -> next free position


def generate_rows(corpus: Corpus, plan: Plan, count: int, *, seed: int) -> Iterator[Row]:
    """``count`` synthetic remarks, the same ones for the same ``seed``."""
    rng = random.Random(seed)
    size_ids, stakeholder_ids = list(plan.sizes.values()), list(plan.stakeholders.values())
    positions = dict(plan.first_positions)
    per_meeting = max(1, -(-count // len(plan.meetings)))
    for index in range(count):
        template = rng.choice(corpus.templates)
        same_theme = corpus.by_theme[template.theme]
        # Lengths vary around the template's: one sentence more or less now and then.
        n = max(1, template.sentences + rng.choice((-1, 0, 0, 0, 1)))
        body = "".join(
            rng.choice(same_theme if rng.random() < 0.7 else corpus.sentences) for _ in range(n)
        )
        sizes = {plan.sizes[slug] for slug in template.sizes}
        stakeholders = {plan.stakeholders[slug] for slug in template.stakeholders}
        roll = rng.random()
        if roll < 0.1:
            stakeholders.add(rng.choice(stakeholder_ids))
        elif roll < 0.15 and stakeholders:
            stakeholders.discard(rng.choice(sorted(stakeholders)))
        elif roll < 0.18:
            sizes.add(rng.choice(size_ids))
        roll = rng.random()
        status = (
            Opinion.Status.PENDING
            if roll < PENDING_SHARE
            else Opinion.Status.HIDDEN
            if roll < PENDING_SHARE + HIDDEN_SHARE
            else Opinion.Status.PUBLISHED
        )
        # Remarks come meeting after meeting, in order, as a committee's would.
        meeting_id, document_id, held_on = plan.meetings[
            min(index // per_meeting, len(plan.meetings) - 1)
        ]
        created_at = dt.datetime.combine(held_on, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(
            seconds=index % per_meeting
        )
        if rng.random() < MEETING_ONLY_SHARE:
            document_id, position = None, None
        else:
            meeting_id = None
            position = positions.get(document_id, 1)
            positions[document_id] = position + 1
        yield Row(
            id=plan.first_id + index,
            body=body,
            theme_id=plan.themes[template.theme],
            source_document_id=document_id,
            meeting_id=meeting_id,
            position=position,
            status=status,
            created_at=created_at,
            size_ids=tuple(sorted(sizes)),
            stakeholder_ids=tuple(sorted(stakeholders)),
        )


# --- Writing ----------------------------------------------------------------------------


SYNTHETIC_COMMITTEE = "synthetic-benchmark"


def _meetings(count: int, seed: int) -> list[tuple[int, int, dt.date]]:
    """Synthetic meetings of a synthetic committee, each with its summary document."""
    committee, _ = Committee.objects.get_or_create(
        slug=SYNTHETIC_COMMITTEE,
        defaults={"name": "合成データ用の有識者会議（ベンチマーク）"},
    )
    first = (
        committee.meetings.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    n = min(MAX_MEETINGS, max(1, count // REMARKS_PER_MEETING))
    start = dt.date(2019, 1, 1)
    result = []
    for number in range(first, first + n):
        meeting = Meeting.objects.create(
            committee=committee, number=number, held_on=start + dt.timedelta(days=14 * number)
        )
        document = SourceDocument.objects.create(
            committee=committee,
            title=f"第{number}回における主なご意見（合成 seed={seed}）",
            label="参考資料",
            slug=f"synthetic-{number}-seed-{seed}",
        )
        document.meetings.add(meeting)
        result.append((meeting.pk, document.pk, meeting.held_on))
    return result


def _reserve_ids(count: int) -> int:
    """The first of ``count`` consecutive opinion ids no one else will be given."""
    if connection.vendor != "postgresql":
        last = Opinion.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        return last + 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('opinions_opinion', 'id')")
        (sequence,) = cursor.fetchone()
        cursor.execute("LOCK TABLE opinions_opinion IN SHARE ROW EXCLUSIVE MODE")
        # nextval() also covers ids handed out and rolled back since the last max(id).
        cursor.execute(
            "SELECT setval(%s, GREATEST((SELECT coalesce(max(id), 0) FROM opinions_opinion),"
            " nextval(%s)) + %s)",
            [sequence, sequence, count],
        )
        (last,) = cursor.fetchone()
    return last - count + 1


def make_plan(count: int, *, seed: int) -> Plan:
    themes = dict(Theme.objects.values_list("slug", "pk"))
    corpus_slugs = {t.theme for t in Corpus.from_fixture().templates}
    missing = corpus_slugs - themes.keys()
    if missing:
        raise LookupError(
            "シードのテーマがありません（先に manage.py load_seed を実行してください）: "
            + ", ".join(sorted(missing))
        )
    return Plan(
        themes=themes,
        sizes=dict(MunicipalitySize.objects.values_list("slug", "pk")),
        stakeholders=dict(Stakeholder.objects.values_list("slug", "pk")),
        meetings=_meetings(count, seed),
        first_id=0,
        first_positions={},
    )


# Secondary indexes a big load drops and rebuilds: (table, index name). Their definitions
# are read from pg_indexes before dropping, so they come back exactly as they were.
_LOAD_TABLES = (
    "opinions_opinion",
    "opinions_opinion_municipality_sizes",
    "opinions_opinion_stakeholders",
)


def _droppable_indexes(cursor) -> list[tuple[str, str]]:
    """(name, CREATE statement) of indexes on the loaded tables that back no constraint."""
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        ORDER BY i.indexname
        """,
        [list(_LOAD_TABLES)],
    )
    return cursor.fetchall()


# What the data-version triggers do for a writing transaction
# (opinions/sql/postgresql/data_version.sql).
RENEW_DATA_VERSION = "INSERT INTO opinions_datachange DEFAULT VALUES"


def _is_superuser(cursor) -> bool:
    cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    row = cursor.fetchone()
    return bool(row and row[0])


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return str(value)


def _copy_array(ids) -> str:
    return "{" + ",".join(str(pk) for pk in sorted(ids)) + "}"


def _copy_lines(rows) -> str:
    return "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows)


def _load_postgresql(rows: Iterator[Row], count: int, progress: Callable[[int], None]) -> None:
    opinion_sql = (
        "COPY opinions_opinion (id, body, search_text, theme_id, source_document_id, meeting_id,"
        " position, status, created_at, updated_at, version, review_comment,"
        " size_ids, stakeholder_ids) FROM STDIN"
    )
    sizes_sql = (
        "COPY opinions_opinion_municipality_sizes (opinion_id, municipalitysize_id) FROM STDIN"
    )
    stakeholders_sql = "COPY opinions_opinion_stakeholders (opinion_id, stakeholder_id) FROM STDIN"
    # Three COPY streams can't be open at once on one connection, so the tag pairs are
    # buffered as text (a few tens of MB for a million remarks) and copied after.
    size_lines, stakeholder_lines = [], []
    with connection.cursor() as cursor, cursor.cursor.copy(opinion_sql) as copy:
        batch = []
        for row in rows:
            batch.append(
                (
                    row.id,
                    row.body,
                    normalize(row.body),
                    row.theme_id,
                    row.source_document_id,
                    row.meeting_id,
                    row.position,
                    row.status,
                    row.created_at,
                    row.created_at,
                    1,  # Opinion.version: the first version (a Django default, not the table's)
                    "",  # review_comment
                    # The tag ids the database keeps on the row for counting (opinions/sql/postgresql/counts.sql).
                    _copy_array(row.size_ids),
                    _copy_array(row.stakeholder_ids),
                )
            )
            size_lines.extend(f"{row.id}\t{tag}\n" for tag in row.size_ids)
            stakeholder_lines.extend(f"{row.id}\t{tag}\n" for tag in row.stakeholder_ids)
            if len(batch) == 5000:
                copy.write(_copy_lines(batch))
                progress(len(batch))
                batch = []
        copy.write(_copy_lines(batch))
        progress(len(batch))
    with connection.cursor() as cursor:
        for sql, lines in ((sizes_sql, size_lines), (stakeholders_sql, stakeholder_lines)):
            with cursor.cursor.copy(sql) as copy:
                for start in range(0, len(lines), 100_000):
                    copy.write("".join(lines[start : start + 100_000]))


def _load_orm(rows: Iterator[Row], count: int, progress: Callable[[int], None]) -> None:
    through_sizes = Opinion.municipality_sizes.through
    through_stakeholders = Opinion.stakeholders.through
    batch: list[Row] = []

    def flush():
        Opinion.objects.bulk_create(
            Opinion(
                id=row.id,
                body=row.body,
                search_text=normalize(row.body),
                theme_id=row.theme_id,
                source_document_id=row.source_document_id,
                meeting_id=row.meeting_id,
                position=row.position,
                status=row.status,
            )
            for row in batch
        )
        # auto_now_add stamps every row with now(); bulk_update puts the meeting's date back.
        Opinion.objects.bulk_update(
            [
                Opinion(id=row.id, created_at=row.created_at, updated_at=row.created_at)
                for row in batch
            ],
            ["created_at", "updated_at"],
        )
        through_sizes.objects.bulk_create(
            through_sizes(opinion_id=row.id, municipalitysize_id=tag)
            for row in batch
            for tag in row.size_ids
        )
        through_stakeholders.objects.bulk_create(
            through_stakeholders(opinion_id=row.id, stakeholder_id=tag)
            for row in batch
            for tag in row.stakeholder_ids
        )
        progress(len(batch))
        batch.clear()

    for row in rows:
        batch.append(row)
        if len(batch) == 500:
            flush()
    flush()


def generate_opinions(
    count: int,
    *,
    seed: int = 0,
    progress: Callable[[int], None] = lambda n: None,
    log: Callable[[str], None] = lambda message: None,
) -> int:
    """Create ``count`` synthetic remarks (with their meetings and documents); returns the
    number created. The seed data (themes, tags) must be loaded first."""
    if count <= 0:
        return 0
    corpus = Corpus.from_fixture()
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic():
        plan = make_plan(count, seed=seed)
        plan.first_id = _reserve_ids(count)
        rows = generate_rows(corpus, plan, count, seed=seed)
        if not postgresql:
            _load_orm(rows, count, progress)
            return count
        existing = Opinion.objects.count()
        rebuild = count >= REBUILD_INDEXES_FROM and count > existing
        dropped = []
        with connection.cursor() as cursor:
            if rebuild:
                dropped = _droppable_indexes(cursor)
                for name, _definition in dropped:
                    cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
                log(f"索引 {len(dropped)} 件を外して読み込みます。")
            trusted = rebuild and _is_superuser(cursor)
            if trusted:
                # Every id the rows refer to was read or created in this transaction, so
                # the foreign-key checks (three per remark, two per tag: 35 s for a
                # million) can't fail: skip them, as pg_restore does. This also silences
                # the data-version triggers, so the version is renewed by hand below.
                cursor.execute("SET LOCAL session_replication_role = replica")
        with counts.suspended():
            _load_postgresql(rows, count, progress)
        with connection.cursor() as cursor:
            if trusted:
                cursor.execute("SET LOCAL session_replication_role = DEFAULT")
                cursor.execute(RENEW_DATA_VERSION)
            if dropped:
                # The foreign keys are checked at commit; an index can't be built while those
                # checks are pending, so run them now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                # Building a GIN index sorts in memory: give it room (this transaction only).
                cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
                for name, definition in dropped:
                    started = time.perf_counter()
                    cursor.execute(definition)
                    log(f"索引を再作成: {name}（{time.perf_counter() - started:.1f} 秒）")
    if postgresql:
        # Fresh statistics for the planner, and (outside a transaction) the visibility map
        # that index-only scans need.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in _LOAD_TABLES:
                cursor.execute(f"{command} {table}")
    return count
