"""The count tables (opinions/sql/postgresql/counts.sql, opinions/counts.py) stay exact through every kind of
write, and the pages' counts read from them equal the counts of the remarks themselves."""

import io
import random
from collections import Counter

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from opinions import services
from opinions.browsing import counts, crosstab, facets, themes
from opinions.browsing.filters import OpinionFilter
from opinions.generators import generate_opinions
from opinions.models import (
    Meeting,
    MunicipalitySize,
    Opinion,
    SourceDocument,
    Stakeholder,
    Theme,
    visible_statuses,
)

from .factories import MeetingFactory, OpinionFactory, UserFactory

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def _postgresql(on_postgresql):
    """The tables exist on PostgreSQL only (SQLite counts the remarks)."""


def expected_cells() -> Counter:
    """What the finer table must hold, computed from the remarks through the ORM."""
    sizes, stakeholders = {}, {}
    for field, into in (("municipality_sizes", sizes), ("stakeholders", stakeholders)):
        through = Opinion._meta.get_field(field).remote_field.through
        column = f"{Opinion._meta.get_field(field).m2m_reverse_field_name()}_id"
        for opinion_id, tag_id in through.objects.values_list("opinion_id", column):
            into.setdefault(opinion_id, []).append(tag_id)
    cells = Counter()
    for pk, status, theme, document, meeting in Opinion.objects.values_list(
        "pk", "status", "theme_id", "source_document_id", "meeting_id"
    ):
        key = (
            status,
            theme,
            document or 0,
            meeting or 0,
            tuple(sorted(sizes.get(pk, []))),
            tuple(sorted(stakeholders.get(pk, []))),
        )
        cells[key] += 1
    return cells


COLUMNS = {
    counts.VENUE_TABLE: "status, theme_id, source_document_id, meeting_id, size_ids, stakeholder_ids",
    counts.TAG_TABLE: "status, theme_id, size_ids, stakeholder_ids",
    counts.VENUE_ONLY_TABLE: "status, source_document_id, meeting_id",
}


def stored_cells(table: str = counts.VENUE_TABLE) -> Counter:
    columns = COLUMNS[table]
    with connection.cursor() as cursor:
        # Each change adds delta rows; a cell is their sum.
        cursor.execute(
            f"SELECT {columns}, sum(n) FROM {table} GROUP BY {columns} HAVING sum(n) <> 0"
        )
        rows = cursor.fetchall()
    assert all(row[-1] > 0 for row in rows), "a negative count"
    return Counter(
        {tuple(tuple(v) if isinstance(v, list) else v for v in row[:-1]): row[-1] for row in rows}
    )


def assert_exact():
    expected = expected_cells()
    assert stored_cells() == expected
    coarse, venues = Counter(), Counter()
    for (status, theme, document, meeting, sizes, stakeholders), n in expected.items():
        coarse[(status, theme, sizes, stakeholders)] += n
        venues[(status, document, meeting)] += n
    assert stored_cells(counts.TAG_TABLE) == coarse
    assert stored_cells(counts.VENUE_ONLY_TABLE) == venues


def test_the_seed_is_counted(seed):
    assert sum(stored_cells().values()) == 68
    assert_exact()


def test_every_kind_of_write_keeps_the_tables_exact(seed):
    women = Stakeholder.objects.get(slug="women")
    youth = Stakeholder.objects.get(slug="youth")
    small = MunicipalitySize.objects.get(slug="small-municipality")
    subtheme = Theme.objects.filter(level=Theme.Level.SUBTHEME).first()
    opinion = Opinion.objects.first()

    created = OpinionFactory(theme=subtheme, status=Opinion.Status.PENDING)  # save()
    created.stakeholders.add(women, youth)  # a tag table insert
    assert_exact()
    created.stakeholders.remove(youth)  # a delete
    created.municipality_sizes.set([small])
    assert_exact()
    created.status = Opinion.Status.PUBLISHED  # the key changes
    created.save()
    created.body = "本文だけの修正。"  # the key stays
    created.save()
    assert_exact()

    Opinion.objects.filter(theme=opinion.theme).update(theme=subtheme)  # no signal sent
    Opinion.objects.filter(pk__in=[opinion.pk, created.pk]).update(status="hidden")
    assert_exact()

    meeting = MeetingFactory()
    Opinion.objects.filter(pk=created.pk).update(meeting=meeting)
    assert_exact()

    # A tag row moved to another tag by UPDATE (raw SQL: Django never does this itself).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE opinions_opinion_stakeholders SET stakeholder_id = %s"
            " WHERE stakeholder_id = %s AND opinion_id NOT IN"
            " (SELECT opinion_id FROM opinions_opinion_stakeholders WHERE stakeholder_id = %s)",
            [youth.pk, women.pk, youth.pk],
        )
    assert_exact()

    # Merging tags (their rows move, the merged tag is deleted) and deleting remarks.
    services.merge_tags(keep=women, merge=[youth])
    Opinion.objects.filter(pk=created.pk).delete()
    assert_exact()

    # TRUNCATE of a tag table rebuilds both tables (after the deferred foreign-key checks,
    # which TRUNCATE cannot run with).
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE opinions_opinion_municipality_sizes")
    assert_exact()


def test_random_writes_keep_the_tables_exact(seed):
    """Two hundred writes of every kind, in a random (seeded) order."""
    rng = random.Random(8)
    themes = list(Theme.objects.all())
    sizes = list(MunicipalitySize.objects.all())
    stakeholders = list(Stakeholder.objects.all())
    meetings = [MeetingFactory(), MeetingFactory()]
    statuses = list(Opinion.Status.values)

    def some_opinions():
        ids = list(Opinion.objects.values_list("pk", flat=True))
        return Opinion.objects.filter(pk__in=rng.sample(ids, min(len(ids), rng.randint(1, 5))))

    writes = [
        lambda: OpinionFactory(theme=rng.choice(themes), status=rng.choice(statuses)),
        lambda: some_opinions().update(status=rng.choice(statuses)),
        lambda: some_opinions().update(theme=rng.choice(themes)),
        lambda: some_opinions().update(meeting=rng.choice([*meetings, None])),
        lambda: some_opinions().first().stakeholders.add(*rng.sample(stakeholders, 2)),
        lambda: some_opinions().first().stakeholders.remove(rng.choice(stakeholders)),
        lambda: some_opinions().first().municipality_sizes.set(rng.sample(sizes, 2)),
        lambda: some_opinions().first().municipality_sizes.clear(),
        lambda: (
            Opinion.objects.filter(source_document=None)
            .filter(pk__in=some_opinions().values("pk"))
            .delete()
        ),
    ]
    for step in range(200):
        rng.choice(writes)()
        if step % 25 == 24:
            assert_exact()
    assert_exact()


def test_the_generator_leaves_the_tables_exact(seed):
    generate_opinions(300, seed=3)
    assert_exact()
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('opinions.counts_suspended', true)")
        assert cursor.fetchone()[0] == "off", "the count triggers were left off"
    OpinionFactory(theme=Theme.objects.first())  # counted by the triggers again
    assert_exact()


@pytest.mark.parametrize("table", [counts.VENUE_TABLE, counts.TAG_TABLE, counts.VENUE_ONLY_TABLE])
def test_rebuild_counts_checks_and_repairs_the_tables(seed, table):
    out = io.StringIO()
    call_command("rebuild_counts", "--check", stdout=out)
    assert "一致しています" in out.getvalue()
    with connection.cursor() as cursor:  # a cell gone wrong (by hand: triggers never do this)
        cursor.execute(f"UPDATE {table} SET n = n + 1 WHERE ctid IN"
                       f" (SELECT ctid FROM {table} LIMIT 1)")  # fmt: skip
    with pytest.raises(CommandError, match="一致しません"):
        call_command("rebuild_counts", "--check")
    call_command("rebuild_counts", stdout=out)
    assert_exact()
    call_command("rebuild_counts", "--check", stdout=out)


def test_rebuild_gives_what_the_triggers_kept(seed):
    OpinionFactory(theme=Theme.objects.last()).stakeholders.add(Stakeholder.objects.first())
    kept = stored_cells()
    counts.rebuild()
    assert stored_cells() == kept


def test_a_rebuild_leaves_the_planner_the_statistics_of_the_refilled_tables(seed):
    """Without them the planner took a section's 71,000 cells for 46 and sorted on disk."""
    counts.rebuild()
    with connection.cursor() as cursor:
        tables = [counts.TAG_TABLE, counts.VENUE_TABLE, counts.VENUE_ONLY_TABLE]
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname = ANY(%s)", [tables]
        )
        planned = dict(cursor.fetchall())
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            rows[table] = cursor.fetchone()[0]
    assert planned == rows and all(rows.values())


# --- The pages' counts --------------------------------------------------------------------


def staff_user():
    user = UserFactory()
    user.groups.add(Group.objects.get(name="事務局"))
    return user


PARAMS = [
    {},
    {"theme": "mirai-gijutsu"},
    {"stakeholder": ["government", "women"]},
    {"size": ["small-municipality"], "stakeholder": ["government"]},
    {"theme": "dai1ki-hyoka", "size": ["tokyo-area", "core-city"]},
    {"theme": "no-such-theme", "stakeholder": ["women", "unknown"]},  # invalid values dropped
    {"document": "document"},
    {"meeting": "meeting"},
    {"document": "document", "stakeholder": ["industry"]},
    # The remarks without a tag of a kind (規模を問わない, 関係者の指定なし), alone or with tags.
    {"size": ["_none"]},
    {"stakeholder": ["women"], "size": ["small-municipality", "_none"]},
    {"theme": "dai1ki-hyoka", "stakeholder": ["_none"]},
    {"document": "document", "size": ["_none"], "stakeholder": ["_none"]},
    {"meeting": "meeting", "stakeholder": ["_none", "government"]},
    {"q": "地方", "size": ["_none"]},
    # Searches: counted from one pass over their matches.
    {"q": "地方"},
    {"q": "若者 女性"},
    {"q": "ＳＤＧｓ", "theme": "dai2ki-theme"},
    {"q": "自治体", "stakeholder": ["government"], "size": ["small-municipality"]},
    {"q": "自治体", "meeting": "meeting"},
    {"q": "存在しない語"},
    {"q": "\x00", "stakeholder": ["women"]},  # an invalid search is dropped, as in the list
]


def resolve(params: dict) -> dict:
    """Put the seed's real document slug and a real meeting id in the parameters."""
    resolved = dict(params)
    if "document" in params:
        resolved["document"] = SourceDocument.objects.first().slug
    if "meeting" in params:
        resolved["meeting"] = str(Meeting.objects.order_by("number").last().pk)
    return resolved


@pytest.mark.parametrize(
    ("params", "table"),
    [
        ({}, counts.VENUE_ONLY_TABLE),
        ({"document": "document"}, counts.VENUE_ONLY_TABLE),
        ({"meeting": "meeting"}, counts.VENUE_ONLY_TABLE),
        ({"theme": "mirai-gijutsu"}, counts.VENUE_TABLE),
        ({"document": "document", "stakeholder": ["industry"]}, counts.VENUE_TABLE),
    ],
)
def test_the_venue_facets_read_the_smallest_table_that_answers(seed, params, table):
    """Chosen by nothing but a venue, the document and meeting facets need no theme or tag:
    the venue table alone (about 600 cells at a million remarks, against 140,000)."""
    request = RequestFactory().get("/opinions/", resolve(params))
    filterset = OpinionFilter(request.GET, queryset=Opinion.objects.published())
    with CaptureQueriesContext(connection) as queries:
        facets.list_counts(filterset.selection(), filterset.queryset, ("published",))
    venue_reads = [q["sql"] for q in queries.captured_queries if "GROUP BY meeting_id" in q["sql"]]
    assert venue_reads and all(f"FROM {table} " in sql for sql in venue_reads)


@pytest.mark.parametrize("who", ["public", "staff"])
@pytest.mark.parametrize("params", PARAMS, ids=[str(p) for p in PARAMS])
def test_list_counts_from_the_tables_equal_counts_of_the_remarks(seed, who, params):
    # Unpublished remarks, and ones outside the document (a meeting's own), to tell the
    # audiences and venues apart.
    submitted = Opinion.objects.order_by("pk")[:6]
    Opinion.objects.filter(pk__in=[o.pk for o in submitted[:3]]).update(status="pending")
    Opinion.objects.filter(pk__in=[o.pk for o in submitted[3:]]).update(status="hidden")
    OpinionFactory(meeting=Meeting.objects.order_by("number").last(), theme=Theme.objects.last())

    user = staff_user() if who == "staff" else AnonymousUser()
    request = RequestFactory().get("/opinions/", resolve(params))
    filterset = OpinionFilter(request.GET, queryset=Opinion.objects.visible_to(user))

    selection, visible = filterset.selection(), filterset.queryset
    total, options = facets.list_counts(selection, visible, visible_statuses(user))
    assert total == filterset.qs.count()
    assert (total, options) == facets.list_counts(selection, visible)  # from the remarks
    if "存在しない語" not in params.get("q", ""):
        assert total and any(option.count for option in options.stakeholder)


@pytest.mark.parametrize("who", ["public", "staff"])
def test_theme_pages_and_crosstab_from_the_tables_equal_counts_of_the_remarks(seed, who):
    Opinion.objects.filter(pk__in=Opinion.objects.order_by("pk")[:5].values("pk")).update(
        status="pending"
    )
    user = staff_user() if who == "staff" else AnonymousUser()
    visible, scope = Opinion.objects.visible_to(user), counts.visible_scope(user)

    assert counts.theme_counts(visible, scope) == counts.theme_counts(visible)
    for theme in Theme.objects.filter(level__lte=2):
        from_tables = themes.theme_summary(theme, visible, scope)
        from_remarks = themes.theme_summary(theme, visible)
        assert [n.count for n in from_tables.subtree] == [n.count for n in from_remarks.subtree]
        assert from_tables.size_bars == from_remarks.size_bars
        assert from_tables.stakeholder_bars == from_remarks.stakeholder_bars
    document = SourceDocument.objects.first()
    meeting = Meeting.objects.order_by("number").last()
    OpinionFactory(meeting=meeting, theme=Theme.objects.last())
    for axis in crosstab.CROSSTAB_AXES:
        for restriction in ({}, {"document": document}, {"meeting": meeting}):
            from_tables = crosstab.crosstab(visible, axis, scope, **restriction)
            from_remarks = crosstab.crosstab(visible, axis, **restriction)
            assert [[c for c, _ in cells] for _, cells in from_tables.rows] == [
                [c for c, _ in cells] for _, cells in from_remarks.rows
            ]
            assert (from_tables.row_totals, from_tables.column_totals, from_tables.total) == (
                from_remarks.row_totals,
                from_remarks.column_totals,
                from_remarks.total,
            )
            assert from_tables.column_totals[-1]  # remarks without a tag of the kind


@pytest.mark.parametrize("params", PARAMS, ids=[str(p) for p in PARAMS])
def test_the_api_total_is_the_lists(client, seed, params):
    params = resolve(params)
    if params.get("q") == "\x00":
        return  # the API refuses an invalid filter (400) instead of dropping it
    response = client.get("/api/opinions/", params)
    if response.status_code == 400:  # the API is strict about unknown values
        assert any(key in params for key in ("theme", "stakeholder"))
        return
    request = RequestFactory().get("/opinions/", params)
    filterset = OpinionFilter(request.GET, queryset=Opinion.objects.published())
    assert response.json()["count"] == filterset.qs.count()
