"""``make concurrency`` (second half): how many writes a second the portal's services take
from several threads at once, with the database's triggers and without them.

In its own database (recreated): migrate, load the seed, then for each round run
``--threads`` writers for ``--seconds``, each submitting a remark and revising it through
the services (opinions.services), and count the writes that committed. Rounds alternate
between triggers on (as in production) and off (``session_replication_role = replica``:
no search text, version, count or data-version triggers — the floor the triggers cost
against), so both are measured on the same machine in the same run. Also measured: how
long an unrelated write (a committee's name) takes while another transaction holds an
open remark edit — 3.2 s when every writer updated one shared row.

Prints medians and their ratio as Markdown, for bench/results.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench_writers"


def setup(database_url: str) -> None:
    sys.path.insert(0, str(ROOT))
    from bench.run import drop_database

    drop_database(database_url, create=True)
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_DEBUG="1",
        DJANGO_LOG_LEVEL="WARNING",
        OPINIONS_PAGE_CACHE="0",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from opinions.management.commands.load_seed import load_seed_fixture

    load_seed_fixture()


def writers_round(*, threads: int, seconds: float, triggers: bool) -> float:
    """Committed writes per second (a submission and a revision each count one)."""
    from django.contrib.auth import get_user_model
    from django.db import connection, connections

    from opinions import services
    from opinions.models import MunicipalitySize, Stakeholder, Theme

    themes = list(Theme.objects.filter(level=Theme.Level.SUBTHEME))
    sizes, stakeholders = list(MunicipalitySize.objects.all()), list(Stakeholder.objects.all())
    User = get_user_model()
    done = [0] * threads
    deadline = time.monotonic() + seconds
    errors: list[BaseException] = []

    def work(index: int) -> None:
        rng = random.Random(index)
        author, _ = User.objects.get_or_create(username=f"writer{index}")
        try:
            if not triggers:
                with connection.cursor() as cursor:
                    cursor.execute("SET session_replication_role = replica")
            while time.monotonic() < deadline:
                opinion, _ = services.submit_opinion(
                    author=author,
                    token=uuid.uuid4(),
                    body=f"書き込みの計測 {uuid.uuid4().hex} の意見です。",
                    theme=rng.choice(themes),
                    municipality_sizes=rng.sample(sizes, 1),
                    stakeholders=rng.sample(stakeholders, 2),
                )
                services.revise_opinion(
                    opinion.pk,
                    by=author,
                    expected_version=opinion.version,
                    body=f"{opinion.body}（修正）",
                    theme=rng.choice(themes),
                    municipality_sizes=rng.sample(sizes, 1),
                    stakeholders=rng.sample(stakeholders, 1),
                    meeting=None,
                )
                done[index] += 2
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    started = time.monotonic()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    if errors:
        raise errors[0]
    return sum(done) / (time.monotonic() - started)


def unrelated_wait() -> float:
    """Seconds a committee update takes while another transaction holds a remark edit."""
    from django.db import connections, transaction

    from opinions.models import Committee, Opinion

    started, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            Opinion.objects.filter(pk=Opinion.objects.first().pk).update(body="編集中の本文。")
            started.set()
            release.wait(timeout=10)
        connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    started.wait(timeout=10)
    began = time.perf_counter()
    Committee.objects.filter(pk=Committee.objects.first().pk).update(name="会議体名の修正")
    elapsed = time.perf_counter() - began
    release.set()
    thread.join()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("WRITERS_DATABASE_URL", DEFAULT_URL)
    )
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    setup(args.database_url)
    from django.core.management import call_command

    rates = {True: [], False: []}
    for _ in range(args.rounds):
        for triggers in (True, False):
            rates[triggers].append(
                writers_round(threads=args.threads, seconds=args.seconds, triggers=triggers)
            )
            if triggers:  # exact after concurrent writers…
                call_command("rebuild_counts", "--check")
            else:  # …while writes without the triggers left them behind
                call_command("rebuild_counts", verbosity=0)
    waits = [unrelated_wait() for _ in range(5)]
    with_triggers, without = statistics.median(rates[True]), statistics.median(rates[False])
    print(f"\n{args.threads} threads, {args.rounds} rounds of {args.seconds:g} s each, medians:\n")
    print("| | writes/s |")
    print("|---|---:|")
    print(f"| with the triggers | {with_triggers:.0f} |")
    print(f"| without triggers (`session_replication_role = replica`) | {without:.0f} |")
    print(f"| ratio | {with_triggers / without:.2f} |")
    print(
        f"\nAn unrelated write during an open remark edit: median {statistics.median(waits) * 1000:.1f} ms"
        f" (max {max(waits) * 1000:.1f} ms over {len(waits)})."
    )


if __name__ == "__main__":
    main()
