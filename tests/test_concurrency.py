"""Writers on real PostgreSQL, at the same time, in threads (each with its own connection):
nobody waits on an unrelated writer, nothing is lost or doubled, and the counts stay exact."""

import contextlib
import os
import random
import statistics
import threading
import time
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, connections, transaction

from opinions import imports, roles, services
from opinions.browsing import caching
from opinions.concurrency import is_conflict
from opinions.importers import parse_summary
from opinions.management.commands.load_seed import load_seed_fixture
from opinions.models import Committee, MunicipalitySize, Opinion, Stakeholder, Theme

from .factories import OpinionFactory, StakeholderFactory, UserFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.serial,  # latencies of writers racing each other (make test runs it alone)
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

# An unrelated write waited 3.2 s behind an open remark edit when every writer updated one
# shared row; without it a write takes milliseconds.
PROMPT = 0.3


@pytest.fixture(autouse=True)
def _postgresql_only(on_postgresql):
    roles.apply()  # the groups as declared, whatever the test before left of them
    load_seed_fixture()


def in_thread(target, *args):
    """Run ``target`` in a thread with its own database connection; its error, if any, is
    kept for the test to raise."""
    outcome = {}

    def run():
        try:
            outcome["value"] = target(*args)
        except BaseException as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def hold_open_transaction(started: threading.Event, release: threading.Event, write):
    with transaction.atomic():
        write()
        started.set()
        release.wait(timeout=10)


def time_while_another_transaction_is_open(open_write, write, *, tries: int = 3) -> float:
    """How long ``write`` takes while ``open_write``'s transaction is held open (up to 10 s):
    the median of ``tries``, each against a new open transaction. A write that waited for the
    other would take as long as it is held; the median keeps one write that lost the CPU
    for a moment on two shared cores from passing for a wait."""
    return statistics.median(_timed_once(open_write, write) for _ in range(tries))


def _timed_once(open_write, write) -> float:
    started, release = threading.Event(), threading.Event()
    thread, outcome = in_thread(hold_open_transaction, started, release, open_write)
    try:
        assert started.wait(timeout=10), outcome.get("error")
        began = time.perf_counter()
        write()
        return time.perf_counter() - began
    finally:
        release.set()
        thread.join(timeout=10)
        if "error" in outcome:
            raise outcome["error"]


def test_an_unrelated_write_does_not_wait_for_an_open_remark_edit():
    opinion = Opinion.objects.first()
    committee = Committee.objects.first()
    elapsed = time_while_another_transaction_is_open(
        lambda: Opinion.objects.filter(pk=opinion.pk).update(body="編集中の本文です。"),
        lambda: Committee.objects.filter(pk=committee.pk).update(name="会議体名の修正"),
    )
    assert elapsed < PROMPT


def test_two_remarks_in_the_same_count_cell_do_not_wait_for_each_other():
    """Same status, theme and tags: the same cell of the count tables."""
    theme = Theme.objects.filter(level=Theme.Level.SUBTHEME).first()
    elapsed = time_while_another_transaction_is_open(
        lambda: OpinionFactory(theme=theme, status=Opinion.Status.PENDING),
        lambda: OpinionFactory(theme=theme, status=Opinion.Status.PENDING),
    )
    assert elapsed < PROMPT


def test_a_tag_change_does_not_wait_for_an_edit_of_another_remark():
    first, second = Opinion.objects.all()[:2]
    women = Stakeholder.objects.get(slug="women")
    elapsed = time_while_another_transaction_is_open(
        lambda: first.stakeholders.add(women),
        lambda: second.stakeholders.add(women),
    )
    assert elapsed < PROMPT


def test_nobody_else_sees_a_new_data_version_before_the_commit():
    before = caching.data_version()
    seen_inside = {}

    def write():
        Committee.objects.update(name="会議体名の修正")
        seen_inside["version"] = caching.data_version()

    started, release = threading.Event(), threading.Event()
    thread, outcome = in_thread(hold_open_transaction, started, release, write)
    assert started.wait(timeout=10), outcome.get("error")
    assert caching.data_version() == before  # not committed yet
    release.set()
    thread.join(timeout=10)
    assert seen_inside["version"] not in (before, caching.data_version())
    assert caching.data_version() != before


def test_a_deadlock_is_run_again_by_the_service(django_assert_num_queries):
    """Two transactions that lock two remarks in opposite orders: PostgreSQL aborts one of
    them, and the service it belongs to runs it again instead of failing."""
    first, second = Opinion.objects.order_by("pk")[:2]
    locked_first = threading.Event()
    attempts = []

    def lock_second_then_first():
        with transaction.atomic():
            Opinion.objects.select_for_update().get(pk=second.pk)
            locked_first.set()
            time.sleep(0.3)
            Opinion.objects.select_for_update().get(pk=first.pk)
            time.sleep(0.3)

    from opinions.concurrency import retrying_atomic

    @retrying_atomic
    def lock_first_then_second():
        attempts.append(1)
        Opinion.objects.select_for_update().get(pk=first.pk)
        if len(attempts) == 1:
            locked_first.wait(timeout=5)
            time.sleep(0.1)
        Opinion.objects.select_for_update().get(pk=second.pk)
        return "done"

    thread, outcome = in_thread(lock_second_then_first)
    result = lock_first_then_second()
    thread.join(timeout=10)
    # Either side may be the one PostgreSQL aborts; the service's side never fails.
    assert result == "done"
    if "error" in outcome:
        assert is_conflict(outcome["error"])
    else:
        assert len(attempts) == 2


class Load:
    """Members, the secretariat and an administrator writing at once, for a few seconds."""

    def __init__(self, seconds: float):
        self.deadline = time.monotonic() + seconds
        self.errors: list[BaseException] = []
        self.submitted: dict[int, str] = {}  # remark id → its last body, as its author saw
        self.lock = threading.Lock()
        self.themes = list(Theme.objects.filter(level=Theme.Level.SUBTHEME))
        self.sizes = list(MunicipalitySize.objects.all())
        self.stakeholders = list(Stakeholder.objects.filter(is_active=True))
        self.secretariat = UserFactory(username="jimukyoku")
        self.secretariat.groups.add(Group.objects.get(name="事務局"))
        self.admin = UserFactory(username="kanrisha", is_staff=True, is_superuser=True)

    def running(self) -> bool:
        return time.monotonic() < self.deadline

    def guarded(self, work):
        def run():
            try:
                while self.running():
                    work()
            except BaseException as error:
                self.errors.append(error)
            finally:
                connections.close_all()

        return run

    def member(self, number: int):
        author = UserFactory(username=f"iin{number}")
        author.groups.add(Group.objects.get(name="委員"))
        rng = random.Random(number)

        def work():
            theme = rng.choice(self.themes)
            body = f"委員{number}の意見、{uuid.uuid4().hex}について。"
            opinion, created = services.submit_opinion(
                author=author,
                token=uuid.uuid4(),
                body=body,
                theme=theme,
                municipality_sizes=rng.sample(self.sizes, 1),
                stakeholders=rng.sample(self.stakeholders, 2),
            )
            assert created
            with self.lock:
                self.submitted[opinion.pk] = body
            revised = f"{body}（修正）"
            try:
                services.revise_opinion(
                    opinion.pk,
                    by=author,
                    expected_version=opinion.version,
                    body=revised,
                    theme=rng.choice(self.themes),
                    municipality_sizes=rng.sample(self.sizes, 1),
                    stakeholders=rng.sample(self.stakeholders, 1),
                    meeting=None,
                )
            except (services.EditConflict, services.NotEditable):
                return  # 事務局 reviewed it first: the author is told, nothing is lost
            with self.lock:
                self.submitted[opinion.pk] = revised

        return work

    def reviewer(self):
        def work():
            pending = list(Opinion.objects.filter(status=Opinion.Status.PENDING).order_by("?")[:3])
            for opinion in pending[:2]:
                # The author may have edited it meanwhile: the reviewer sees the new version.
                with contextlib.suppress(services.EditConflict, services.NotEditable):
                    services.review_opinion(
                        opinion.pk,
                        by=self.secretariat,
                        expected_version=opinion.version,
                        publish=True,
                    )
            services.set_status(pending[2:], Opinion.Status.PUBLISHED, by=self.secretariat)
            time.sleep(0.01)

        return work

    def curator(self):
        rng = random.Random(0)

        def work():
            keep = StakeholderFactory()
            merged = StakeholderFactory()
            remarks = list(Opinion.objects.order_by("?")[:6])
            services.add_tag(remarks[:3], keep, by=self.admin)
            services.add_tag(remarks[2:], merged, by=self.admin)
            services.merge_tags(keep=keep, merge=[merged], by=self.admin)
            services.remove_tag(remarks[rng.randrange(6) :], keep, by=self.admin)

        return work

    def importer(self):
        committee = Committee.objects.first()
        revision = iter(range(10_000))

        def work():
            number = next(revision)
            text = f"同時更新の確認資料{number % 3}\n【章】\n○テーマ\n" + "".join(
                f"・取り込む意見{number}の{i}番目です。\n" for i in range(5)
            )
            imports.import_summary_document(parse_summary(text), committee=committee)

        return work


def test_members_secretariat_and_admins_writing_at_once_lose_nothing():
    # make concurrency runs it longer and with more members (CONCURRENCY_SECONDS, _MEMBERS).
    load = Load(seconds=float(os.environ.get("CONCURRENCY_SECONDS", 6)))
    members = int(os.environ.get("CONCURRENCY_MEMBERS", 3))
    workers = [load.guarded(load.member(n)) for n in range(members)]
    workers += [load.guarded(load.reviewer()), load.guarded(load.curator())]
    workers += [load.guarded(load.importer())]
    threads = [threading.Thread(target=work, daemon=True) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=load.deadline - time.monotonic() + 60)
    assert not any(thread.is_alive() for thread in threads), "a writer hung"
    assert load.errors == []
    assert len(load.submitted) >= members  # every member got through, however busy the host
    # Every submission once, with the last body its author saved.
    stored = dict(
        Opinion.objects.filter(author__username__startswith="iin").values_list("pk", "body")
    )
    assert stored == load.submitted
    call_command("rebuild_counts", "--check")
    connection.close()
