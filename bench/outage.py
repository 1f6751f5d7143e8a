"""A database outage under load, on loopback only.

Builds a throwaway PostgreSQL cluster on a free loopback port (never the shared server on
5432), loads the seed into it, serves the portal with gunicorn in production mode, then for a
bounded time sends read traffic and a stream of remark submissions while PostgreSQL is stopped
and started again. Every request is recorded (``artifacts/outage/requests.csv``) and checked:

1. no request hangs: every one finishes before the client timeout;
2. errors happen only while the database is away (plus a short grace period), and they are the
   portal's clean 503 page with ``Retry-After``, never a 500 or a dropped connection;
3. the service recovers by itself: a final burst of requests all succeed, and gunicorn's master
   and workers are the ones started at the beginning;
4. every submission that got the success redirect (302 to ``/submit/done/<pk>/``) is in the
   database afterwards, with its token.

Everything it started (gunicorn, the cluster, the temporary directory) is torn down at the end,
also on failure or Ctrl-C. Exit status 0 when every check passes.

    .venv/bin/python -m bench.outage [--duration 24] [--outage-at 8] [--down 4] [--stop-mode fast]
"""

from __future__ import annotations

import argparse
import csv
import math
import random
import re
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
import psycopg

from bench.servers import PG_BIN, ROOT, Cluster, Portal, read_paths, sign_in, submission

ARTIFACTS = ROOT / "artifacts" / "outage"
MEMBER = ("outage-member", "outage-password-7e59f9f1")
DONE = re.compile(r"/submit/done/(\d+)/$")


def log(message: str) -> None:
    print(f"[outage] {message}", flush=True)


# --- Load -----------------------------------------------------------------------------------


@dataclass
class Record:
    kind: str  # read, form (GET /submit/), submit (its POST), burst
    method: str
    path: str
    start: float  # seconds since the run began
    end: float
    status: int | None
    error: str = ""  # the exception's class when there was no response
    ok: bool = False
    retry_after: str = ""
    pk: int | None = None
    token: str = ""

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Run:
    base: str
    timeout: float
    t0: float = field(default_factory=time.monotonic)
    records: list[Record] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    events: dict[str, float] = field(default_factory=dict)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=self.timeout, follow_redirects=False)

    def request(self, client: httpx.Client, kind: str, method: str, path: str, **kwargs):
        start = self.now()
        record = Record(kind, method, path, start, start, None)
        response = None
        try:
            response = client.request(method, path, **kwargs)
            record.status = response.status_code
            record.retry_after = response.headers.get("Retry-After", "")
            if method == "POST" and path == "/submit/":  # a submission: only this is success
                match = DONE.search(response.headers.get("Location", ""))
                record.ok = response.status_code == 302 and match is not None
                record.pk = int(match.group(1)) if match else None
                record.token = kwargs["data"]["token"]
            else:
                record.ok = response.status_code < 400
        except httpx.HTTPError as error:
            record.error = type(error).__name__
        record.end = self.now()
        with self.lock:
            self.records.append(record)
        return record, response


def reader(run: Run, paths: list[str], seed: int, think: float) -> None:
    rng = random.Random(seed)
    with run.client() as client:
        while not run.stop.is_set():
            run.request(client, "read", "GET", rng.choice(paths))
            time.sleep(think)


def member_client(run: Run) -> httpx.Client:
    """A client logged in as the 委員, before the clock runs: password hashing is deliberately
    slow and is not what this test measures."""
    client = run.client()
    sign_in(client, *MEMBER)
    return client


def warm_up(run: Run, paths: list[str]) -> None:
    """Each page twice, unrecorded, so that no worker's first request is counted."""
    with run.client() as client:
        for path in paths * 2:
            client.get(path)


def new_form(run: Run, client: httpx.Client, kind: str, theme_id: int, label: str) -> dict | None:
    """GET /submit/ and fill in the form it returns (its one-time token and CSRF token)."""
    record, page = run.request(client, kind, "GET", "/submit/")
    if not record.ok:
        return None
    body = (
        f"障害試験の投稿 {label}：データベースが止まっても、受け付けた意見は失われないこと。"
        f"{uuid.uuid4()}"
    )
    return submission(page.text, theme_id, body)


def submitter(run: Run, client: httpx.Client, theme_id: int, number: int, think: float) -> None:
    """Fills in a form, takes a moment, sends it; a submission that failed is sent again with
    the same form (the same one-time token), as a member pressing reload would."""
    sent = 0
    while not run.stop.is_set():
        form = new_form(run, client, "form", theme_id, f"{number}-{sent + 1}")
        if form is None:
            time.sleep(think)
            continue
        sent += 1
        while not run.stop.is_set():
            time.sleep(think)
            record, _ = run.request(client, "submit", "POST", "/submit/", data=form)
            if record.ok:
                break


def final_burst(run: Run, paths: list[str], member: httpx.Client, theme_id: int) -> None:
    """After the load: every read page once from each of four clients, and one submission."""

    def reads() -> None:
        with run.client() as client:
            for path in paths:
                run.request(client, "burst", "GET", path)

    threads = [threading.Thread(target=reads) for _ in range(4)]
    for thread in threads:
        thread.start()
    form = new_form(run, member, "burst", theme_id, "final")
    if form is not None:
        run.request(member, "burst", "POST", "/submit/", data=form)
    for thread in threads:
        thread.join(timeout=60)


# --- Analysis -------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)  # nearest rank
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def describe(record: Record) -> str:
    return record.error or (f"{record.status}" + (" +Retry-After" if record.retry_after else ""))


def analyse(run: Run, args, database_url: str, portal: Portal, booted: int) -> bool:
    events = run.events
    down_from, back_at = events["stop_begin"], events["ready"]
    window_end = back_at + args.grace
    load = [r for r in run.records if r.kind != "burst"]
    burst = [r for r in run.records if r.kind == "burst"]

    def overlaps(r: Record, start: float, end: float) -> bool:
        return r.start <= end and r.end >= start

    phases = {
        "before": [r for r in load if r.end < down_from],
        "during": [r for r in load if overlaps(r, down_from, back_at)],
        "after": [r for r in load if r.start > back_at],
    }
    errors = [r for r in load if not r.ok]
    inside = [r for r in errors if overlaps(r, down_from, window_end)]
    outside = [r for r in errors if not overlaps(r, down_from, window_end)]
    unclean = [r for r in errors if not (r.status == 503 and r.retry_after)]
    slowest = max(run.records, key=lambda r: r.duration)
    hangs = [r for r in run.records if r.duration >= args.timeout or "Timeout" in r.error]
    started_after = sorted((r for r in load if r.start >= back_at), key=lambda r: r.start)
    failed_after = [r for r in started_after if not r.ok]
    # Recovered when the last request started after PostgreSQL was back and failed has ended.
    recovery = max((r.end for r in failed_after), default=back_at) - back_at
    successes = [r for r in run.records if r.token and r.ok]
    attempted = {r.token for r in run.records if r.token}
    with psycopg.connect(database_url) as conn:
        stored = dict(
            conn.execute(
                "SELECT submission_token::text, id FROM opinions_opinion"
                " WHERE submission_token::text = ANY(%s)",
                [sorted(attempted)],
            ).fetchall()
        )
    missing = [r for r in successes if stored.get(r.token) != r.pk]
    succeeded_tokens = {r.token for r in successes}
    stored_despite_error = sorted(set(stored) - succeeded_tokens)
    retried = sum(1 for r in load if r.kind == "submit" and not r.ok)
    breakdown: dict[str, int] = {}
    for r in errors:
        breakdown[describe(r)] = breakdown.get(describe(r), 0) + 1

    def ms(values: list[float], fraction: float) -> str:
        value = percentile(values, fraction)
        return "—" if value != value else f"{value * 1000:.0f}"

    rows = [
        ("requests", *(str(len(p)) for p in phases.values()), str(len(load))),
        ("errors", *(str(sum(not r.ok for r in p)) for p in phases.values()), str(len(errors))),
        *[
            (
                f"{label} latency (ms)",
                *(ms([r.duration for r in p], fraction) for p in phases.values()),
                ms([r.duration for r in load], fraction),
            )
            for label, fraction in (("p50", 0.50), ("p95", 0.95), ("max", 1.0))
        ],
    ]
    lines = [
        "| | before the outage | during it | after PostgreSQL is back | whole run |",
        "|---|---:|---:|---:|---:|",
        *["| " + " | ".join(row) + " |" for row in rows],
        "",
        f"- outage: `pg_ctl stop -m {args.stop_mode}` at {down_from:.2f} s (down at "
        f"{events['stopped']:.2f} s), `pg_ctl start` at {events['start_begin']:.2f} s, accepting "
        f"connections at {back_at:.2f} s: {back_at - down_from:.2f} s without a database",
        f"- errors: {len(inside)} inside the outage (+{args.grace:.0f} s grace), "
        f"{len(outside)} outside it; by kind: "
        + (", ".join(f"{k} ×{v}" for k, v in sorted(breakdown.items())) or "none"),
        f"- slowest request: {slowest.duration * 1000:.0f} ms ({slowest.method} {slowest.path}, "
        f"{describe(slowest) if not slowest.ok else slowest.status}); client timeout "
        f"{args.timeout:.0f} s, requests that reached it: {len(hangs)}",
        f"- recovery: {recovery:.2f} s after PostgreSQL accepted connections; of the "
        f"{len(started_after)} requests started after that, {len(failed_after)} failed"
        + (
            f" (the first started {started_after[0].start - back_at:.2f} s after it: "
            f"{describe(started_after[0])} in {started_after[0].duration * 1000:.0f} ms)"
            if started_after
            else ""
        )
        + "; after a second restart with no traffic (every kept connection dead), the final "
        f"burst: {sum(r.ok for r in burst)}/{len(burst)} ok",
        f"- submissions: {len(attempted)} forms, {len(successes)} got the success redirect, "
        f"{len(successes) - len(missing)}/{len(successes)} of those are in the database; "
        f"{retried} POSTs failed and were sent again with the same token; "
        f"{len(stored_despite_error)} stored although their only answer was an error",
        f"- gunicorn: {portal.workers} workers × {portal.threads} threads, master pid "
        f"{portal.process.pid} {'still running' if portal.process.poll() is None else 'EXITED'}, "
        f"workers booted {booted} (no restarts: {booted == portal.workers})",
    ]
    checks = {
        "no request hung (all finished before the client timeout)": not hangs,
        "errors only during the outage and its grace period": not outside,
        "errors are the 503 page with Retry-After (no 500, no dropped connection)": not unclean,
        "the outage was exercised (requests failed while PostgreSQL was down)": bool(inside),
        "recovered by itself: final burst all ok, gunicorn not restarted": bool(burst)
        and all(r.ok for r in burst)
        and portal.process.poll() is None
        and booted == portal.workers,
        "every successful submission is in the database": bool(successes) and not missing,
    }
    lines += ["", *[f"- [{'x' if ok else ' '}] {name}" for name, ok in checks.items()]]
    summary = "\n".join(lines)
    print("\n" + summary + "\n", flush=True)
    (ARTIFACTS / "summary.md").write_text(summary + "\n", encoding="utf-8")
    with (ARTIFACTS / "requests.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kind", "method", "path", "start_s", "end_s", "status", "error", "ok"])
        for r in sorted(run.records, key=lambda r: r.start):
            writer.writerow(
                [r.kind, r.method, r.path, f"{r.start:.3f}", f"{r.end:.3f}", r.status or "",
                 r.error, int(r.ok)]
            )  # fmt: skip
    for r in outside[:10]:
        log(f"error outside the outage: {r.method} {r.path} at {r.start:.2f} s: {describe(r)}")
    return all(checks.values())


# --- The run --------------------------------------------------------------------------------


def outage(run: Run, cluster: Cluster, args) -> None:
    """Stop PostgreSQL in the middle of the load, keep it down, start it again."""
    run.stop.wait(args.outage_at)
    run.events["stop_begin"] = run.now()
    log(f"{run.now():6.2f} s  pg_ctl stop -m {args.stop_mode}")
    cluster.stop(args.stop_mode)
    run.events["stopped"] = run.now()
    time.sleep(args.down)
    run.events["start_begin"] = run.now()
    log(f"{run.now():6.2f} s  pg_ctl start")
    cluster.start()
    run.events["ready"] = run.now()
    log(f"{run.now():6.2f} s  PostgreSQL accepts connections")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=24, help="seconds of load (24)")
    parser.add_argument("--outage-at", type=float, default=8, help="when to stop PostgreSQL (8)")
    parser.add_argument("--down", type=float, default=4, help="seconds to keep it down (4)")
    parser.add_argument(
        "--grace", type=float, default=2, help="errors still allowed after it is back (2 s)"
    )
    parser.add_argument("--timeout", type=float, default=5, help="client timeout (5 s)")
    parser.add_argument("--readers", type=int, default=4, help="reading clients (4)")
    parser.add_argument(
        "--think", type=float, default=0.1, help="pause between a reader's requests (0.1 s)"
    )
    parser.add_argument("--submitters", type=int, default=2, help="submitting 委員 (2)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker (2)")
    parser.add_argument(
        "--stop-mode",
        choices=["fast", "immediate"],
        default="fast",
        help="fast: a clean shutdown; immediate: like a crash, recovered from the WAL",
    )
    args = parser.parse_args(argv)
    if args.outage_at + args.down + 5 > args.duration:
        parser.error("--duration must leave at least 5 s of load after the outage")
    if not (PG_BIN / "initdb").exists():
        log(f"the PostgreSQL server binaries are not in {PG_BIN} (set PG_BIN)")
        return 2

    # SIGTERM (e.g. from make or CI) tears down like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cluster = portal = None
    passed = False
    try:
        started = time.monotonic()
        cluster = Cluster(prefix="iken-outage-")
        log(f"throwaway PostgreSQL cluster on 127.0.0.1:{cluster.port} in {cluster.dir}")
        cluster.create()
        database_url = cluster.url()
        portal = Portal(
            database_url, workers=args.workers, threads=args.threads,
            logfile=ARTIFACTS / "gunicorn.log",
            # The load's member submits at machine speed, far past the hourly limit a person
            # never reaches (its 429s are not the outage's errors), as in bench/scaleout.py.
            env={"OPINIONS_SUBMISSIONS_PER_HOUR": "100000"},
        )  # fmt: skip
        log("migrate, load_seed, collectstatic, a 委員 user")
        portal.prepare([MEMBER])
        paths, theme_id = read_paths(database_url)
        portal.start()
        log(f"gunicorn on {portal.base} (set-up took {time.monotonic() - started:.0f} s)")

        run = Run(portal.base, args.timeout)
        warm_up(run, paths)
        members = [member_client(run) for _ in range(args.submitters)]
        run.t0 = time.monotonic()
        workers = [
            threading.Thread(target=reader, args=(run, paths, n, args.think), daemon=True)
            for n in range(args.readers)
        ] + [
            threading.Thread(
                target=submitter, args=(run, client, theme_id, n, args.think * 3), daemon=True
            )
            for n, client in enumerate(members, start=1)
        ]
        for thread in workers:
            thread.start()
        chaos = threading.Thread(target=outage, args=(run, cluster, args), daemon=True)
        chaos.start()
        time.sleep(args.duration)
        run.stop.set()
        for thread in [chaos, *workers]:
            thread.join(timeout=args.timeout + 35)
        if "ready" not in run.events:
            raise RuntimeError("PostgreSQL did not come back")
        # Every worker thread now keeps a connection (CONN_MAX_AGE). A restart while nobody
        # is using them kills them all, so the burst's first request in each thread meets a
        # dead connection: it must be replaced (CONN_HEALTH_CHECKS), not reused.
        log(f"{run.now():6.2f} s  load stopped; PostgreSQL restarted with no traffic")
        cluster.stop(args.stop_mode)
        cluster.start()
        run.events["quiet_restart"] = run.now()
        log(f"{run.now():6.2f} s  final burst")
        final_burst(run, paths, members[0], theme_id)
        for client in members:
            client.close()
        booted = portal.workers_booted()
        passed = analyse(run, args, database_url, portal, booted)
    finally:
        if portal is not None:
            portal.stop()
        if cluster is not None:
            cluster.destroy(keep_log=ARTIFACTS / "postgresql.log")
        log(f"torn down; records in {ARTIFACTS.relative_to(ROOT)}/")
    log("PASSED" if passed else "FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # torn down already, in main's finally
        sys.exit(130)
