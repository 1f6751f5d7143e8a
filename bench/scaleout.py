"""``make scaleout``: the portal scaled out on loopback, run under load and checked.

Starts, each on a free loopback port and torn down at the end (also on failure or Ctrl-C):

- a PostgreSQL primary (initdb) and a streaming replica of it (pg_basebackup -R, a hot
  standby), clusters of their own in temporary directories (bench/servers.py);
- PgBouncer in transaction mode in front of both (databases ``portal`` and
  ``portal_replica``), so the portal runs with server-side cursors off;
- Redis: a throwaway ``redis-server`` if it is installed, else database 13 of the local one
  on 6379 (emptied first), else none (then each worker caches on its own);
- two app servers, gunicorn with the flags of ``make serve``, with DATABASE_URL and
  DATABASE_REPLICA_URL through PgBouncer (portal/replicas.py: reads on the replica,
  read-your-own-writes for whoever wrote), behind HAProxy (round robin, /healthz checks).

Then, with members submitting remarks through the real forms all along (sign-in, GET
/submit/, POST, and straight after the redirect the 「受け付けました」 page of the new remark,
as a browser follows it):

1. wrk against one app server directly, then against HAProxy with both: requests/s;
2. the replica's lag, sampled on both sides (pg_stat_replication, and
   pg_last_xact_replay_timestamp() on the replica), and how long after its redirect each new
   remark was visible on the replica;
3. the replica held back (recovery_min_apply_delay) while members submit: their own page is
   still found (pinned to the primary), and the same page without the pin cookie is not,
   which shows the pin, not luck, is what finds it;
4. no request failed (wrk's errors and non-2xx answers, every member request) and no write
   was lost: every submission that got its redirect is on the primary and on the replica.

Prints a summary, writes it to ``artifacts/scaleout/summary.md`` and between the
``scaleout:begin``/``scaleout:end`` markers of bench/results.md; exit status 0 when every
check passes.

    .venv/bin/python -m bench.scaleout [--seconds 15] [--workers 1] [--connections 8]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg

from bench.servers import (
    PG_BIN,
    ROOT,
    Cluster,
    Portal,
    as_postgres,
    free_port,
    log,
    owned_by_postgres,
    read_paths,
    sign_in,
    stop_process,
    submission,
)
from portal.replicas import COOKIE

ARTIFACTS = ROOT / "artifacts" / "scaleout"
RESULTS = ROOT / "bench" / "results.md"
BEGIN, END = "<!-- scaleout:begin -->", "<!-- scaleout:end -->"
DONE = re.compile(r"/submit/done/(\d+)/$")
LOCAL_REDIS = "redis://127.0.0.1:6379/13"
# Both clusters: what portal/settings.py asks for with its connection options (work_mem,
# jit), which PgBouncer does not pass on, and UTC, so that Django never has to SET it.
SERVER_SETTINGS = (
    "max_connections = 60\nshared_buffers = 64MB\nwork_mem = 32MB\njit = off\n"
    "timezone = 'UTC'\nwal_level = replica\nmax_wal_senders = 4\n"
)
# The standby tells the primary which rows its queries still read, so that vacuum on the
# primary does not cancel them.
REPLICA_SETTINGS = "hot_standby = on\nhot_standby_feedback = on\n"


# --- The other servers ----------------------------------------------------------------------


def sbin(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")
    if not found:
        raise SystemExit(f"{name} is not installed (make scaleout installs it with apt-get)")
    return found


def wait_for_port(port: int, process: subprocess.Popen, name: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on {port} in {seconds:.0f} s")


class PgBouncer:
    """PgBouncer in transaction mode: ``portal`` is the primary, ``portal_replica`` the
    replica. Each transaction gets a server connection for its duration only."""

    def __init__(self, primary: Cluster, replica: Cluster, *, pool_size: int) -> None:
        self.port = free_port()
        self.dir = owned_by_postgres(Path(tempfile.mkdtemp(prefix="iken-scaleout-pgbouncer-")))
        self.logfile = self.dir / "pgbouncer.log"
        (self.dir / "userlist.txt").write_text('"postgres" ""\n')
        (self.dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"portal = host=127.0.0.1 port={primary.port} dbname=portal\n"
            f"portal_replica = host=127.0.0.1 port={replica.port} dbname=portal\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.dir}/userlist.txt\nadmin_users = postgres\n"
            f"pool_mode = transaction\ndefault_pool_size = {pool_size}\nmax_client_conn = 400\n"
            # Django's `options` (-c work_mem, -c jit), refused by PgBouncer 1.18: the
            # clusters have the same values in postgresql.conf.
            "ignore_startup_parameters = options\n"
            f"logfile = {self.logfile}\npidfile = {self.dir}/pgbouncer.pid\n"
        )
        self.process: subprocess.Popen | None = None

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            as_postgres([sbin("pgbouncer"), str(self.dir / "pgbouncer.ini")]),
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        wait_for_port(self.port, self.process, "pgbouncer")

    def queries(self) -> dict[str, int]:
        """Queries PgBouncer has passed on so far, per database (its admin console speaks
        only the simple query protocol: a client-side-binding cursor)."""
        with psycopg.connect(
            self.url("pgbouncer"), autocommit=True, cursor_factory=psycopg.ClientCursor
        ) as conn:
            cursor = conn.execute("SHOW STATS")
            names = [column.name for column in cursor.description]
            return {
                row[names.index("database")]: int(row[names.index("total_query_count")])
                for row in cursor.fetchall()
            }

    def destroy(self) -> None:
        stop_process(self.process)
        if self.logfile.exists():
            shutil.copy(self.logfile, ARTIFACTS / "pgbouncer.log")
        shutil.rmtree(self.dir, ignore_errors=True)


class HAProxy:
    """HAProxy in front of the app servers: round robin, each server checked on /healthz."""

    def __init__(self, servers: list[Portal]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix="iken-scaleout-haproxy-"))
        self.socket = self.dir / "admin.sock"
        lines = [
            "global",
            "    nbthread 1",
            f"    stats socket {self.socket} mode 600 level admin",
            "defaults",
            "    mode http",
            "    option forwardfor",
            "    timeout connect 5s",
            "    timeout client 60s",
            "    timeout server 60s",
            "frontend portal",
            f"    bind 127.0.0.1:{self.port}",
            "    default_backend app",
            "backend app",
            "    balance roundrobin",
            "    option httpchk",
            "    http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host 127.0.0.1",
            "    http-check expect status 200",
            *[
                f"    server app{n} 127.0.0.1:{server.port} check inter 1s"
                for n, server in enumerate(servers, start=1)
            ],
        ]
        (self.dir / "haproxy.cfg").write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sbin("haproxy"), "-f", str(self.dir / "haproxy.cfg"), "-db"],
            stdout=(ARTIFACTS / "haproxy.log").open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for_port(self.port, self.process, "haproxy")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if all(server["status"] == "UP" for server in self.servers().values()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"HAProxy's health checks failed: {self.servers()}")

    def servers(self) -> dict[str, dict[str, str]]:
        """Each backend server's line of ``show stat``: status, requests answered…"""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.connect(str(self.socket))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        header, *rows = data.decode().strip().splitlines()
        names = header.lstrip("# ").split(",")
        lines = [dict(zip(names, row.split(","), strict=False)) for row in rows]
        return {
            line["svname"]: line
            for line in lines
            if line["pxname"] == "app" and line["svname"] not in {"FRONTEND", "BACKEND"}
        }

    def destroy(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    """A throwaway redis-server, or the local one's database 13, or none."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.url, self.what = "", "none: each worker caches in its own memory"

    def start(self) -> None:
        import redis

        if shutil.which("redis-server"):
            port = free_port()
            self.process = subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                 "--appendonly", "no", "--maxmemory", "256mb",
                 "--maxmemory-policy", "allkeys-lru"],
                stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            wait_for_port(port, self.process, "redis-server")
            self.url, self.what = f"redis://127.0.0.1:{port}/0", f"redis-server on {port}"
            return
        try:
            redis.Redis.from_url(LOCAL_REDIS, socket_connect_timeout=1).flushdb()
        except redis.RedisError as error:
            log(f"no redis-server and no Redis on 6379 ({error}): no shared cache")
            return
        self.url, self.what = LOCAL_REDIS, f"the local Redis, database {LOCAL_REDIS[-2:]}"

    def destroy(self) -> None:
        stop_process(self.process)


# --- What is recorded -----------------------------------------------------------------------


@dataclass
class Record:
    phase: str
    kind: str  # form, submit, own (the page of one's new remark), unpinned (the same, no pin)
    status: int | None
    seconds: float
    error: str = ""
    ok: bool = False


@dataclass
class Submitted:
    phase: str
    token: str
    pk: int
    at: float  # when its redirect arrived (time.monotonic())
    visible_after: float | None = None  # seconds until the replica had it


@dataclass
class Run:
    records: list[Record] = field(default_factory=list)
    submitted: list[Submitted] = field(default_factory=list)
    tried: set[str] = field(default_factory=set)
    lag: list[tuple[str, float, float]] = field(default_factory=list)  # phase, bytes, s
    lock: threading.Lock = field(default_factory=threading.Lock)
    phase: str = "warm-up"

    def record(self, record: Record) -> None:
        with self.lock:
            self.records.append(record)


def timed(run: Run, kind: str, client: httpx.Client, method: str, path: str, **kwargs):
    start = time.monotonic()
    record = Record(run.phase, kind, None, 0.0)
    response = None
    try:
        response = client.request(method, path, **kwargs)
        record.status = response.status_code
    except httpx.HTTPError as error:
        record.error = type(error).__name__
    record.seconds = time.monotonic() - start
    return record, response


class Member(threading.Thread):
    """A 委員 who submits remarks one after another through the forms, and after each one's
    redirect opens its page at once, as a browser would; with ``unpinned``, the same page
    again without the pin cookie (the control of the held-back replica)."""

    def __init__(self, run: Run, base: str, account: tuple[str, str], theme_id: int,
                 *, think: float, count: int | None = None, unpinned: bool = False):  # fmt: skip
        super().__init__(daemon=True)
        self.run_, self.theme_id, self.think = run, theme_id, think
        self.count, self.unpinned = count, unpinned
        self.stop = threading.Event()
        self.client = httpx.Client(base_url=base, timeout=10, follow_redirects=False)
        sign_in(self.client, *account)  # before the clock: password hashing is slow on purpose
        self.name_ = account[0]

    def without_pin(self) -> httpx.Client:
        client = httpx.Client(base_url=str(self.client.base_url), timeout=10)
        for cookie in self.client.cookies.jar:
            if cookie.name != COOKIE:
                client.cookies.set(cookie.name, cookie.value)
        return client

    def run(self) -> None:
        run, sent = self.run_, 0
        try:
            while not self.stop.is_set() and (self.count is None or sent < self.count):
                sent += 1
                record, page = timed(run, "form", self.client, "GET", "/submit/")
                record.ok = record.status == 200
                run.record(record)
                if not record.ok:
                    continue
                body = f"負荷試験の投稿 {self.name_}-{sent}：{uuid.uuid4()}"
                form = submission(page.text, self.theme_id, body)
                with run.lock:
                    run.tried.add(form["token"])
                record, response = timed(run, "submit", self.client, "POST", "/submit/", data=form)
                match = DONE.search(response.headers.get("Location", "")) if response else None
                record.ok = record.status == 302 and match is not None
                run.record(record)
                if not record.ok:
                    continue
                with run.lock:
                    run.submitted.append(
                        Submitted(run.phase, form["token"], int(match.group(1)), time.monotonic())
                    )
                done = match.group(0)
                record, page = timed(run, "own", self.client, "GET", done)
                record.ok = record.status == 200 and "受け付けました" in page.text
                run.record(record)
                if self.unpinned:
                    with self.without_pin() as other:
                        record, _ = timed(run, "unpinned", other, "GET", done)
                    record.ok = record.status in (200, 404)  # either is an answer
                    run.record(record)
                self.stop.wait(self.think)
        except Exception as error:  # recorded, never a silent thread death
            run.record(Record(run.phase, "member", None, 0.0, error=repr(error)))

    def close(self) -> None:
        self.client.close()


class LagSampler(threading.Thread):
    """Every 0.2 s, on the primary: the bytes of WAL the replica has not replayed yet and
    pg_stat_replication's replay_lag (how long ago the primary wrote what the replica has
    just replayed). And every 2 ms, on the replica: which new remarks it has, so that each
    one's delay after its redirect is known. (now() − pg_last_xact_replay_timestamp() is not
    sampled: between two commits it grows with the idle time, not with any lag.)"""

    def __init__(self, run: Run, primary: Cluster, replica: Cluster):
        super().__init__(daemon=True)
        self.run_, self.primary, self.replica = run, primary, replica
        self.stop = threading.Event()

    def run(self) -> None:
        run = self.run_
        with (
            psycopg.connect(self.primary.url(), autocommit=True) as primary,
            psycopg.connect(self.replica.url(), autocommit=True) as replica,
        ):
            last = 0.0
            while not self.stop.is_set():
                now = time.monotonic()
                if now - last >= 0.2:
                    last = now
                    behind, replay_lag = primary.execute(
                        "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8,"
                        " coalesce(extract(epoch FROM replay_lag), 0)::float8"
                        " FROM pg_stat_replication"
                    ).fetchone()
                    with run.lock:
                        run.lag.append((run.phase, behind, replay_lag))
                with run.lock:
                    waiting = [s for s in run.submitted if s.visible_after is None]
                if waiting:
                    found = {
                        row[0]
                        for row in replica.execute(
                            "SELECT submission_token::text FROM opinions_opinion"
                            " WHERE submission_token::text = ANY(%s)",
                            [[s.token for s in waiting]],
                        )
                    }
                    seen = time.monotonic()
                    for s in waiting:
                        if s.token in found:
                            s.visible_after = max(0.0, seen - s.at)
                self.stop.wait(0.002)


# --- Load -----------------------------------------------------------------------------------


def wrk(base: str, paths: list[str], *, seconds: int, connections: int) -> dict:
    """wrk over the read pages in turn; requests/s, latency, errors."""
    script = ARTIFACTS / "paths.lua"
    quoted = ", ".join(f'"{quote(path, safe="/?=&")}"' for path in paths)
    script.write_text(
        f"local paths = {{{quoted}}}\nlocal n = 0\n"
        "request = function()\n  n = n + 1\n"
        "  return wrk.format(nil, paths[(n % #paths) + 1])\nend\n"
    )
    output = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency",
         "-s", str(script), base],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip

    def number(pattern: str, default: float = 0.0) -> float:
        match = re.search(pattern, output)
        return float(match.group(1)) if match else default

    def ms(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        if not match:
            return math.nan
        return float(match.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[match.group(2)]

    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": number(r"Requests/sec:\s+([\d.]+)"),
        "requests": int(number(r"(\d+) requests in")),
        "non_2xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "p50": ms("50"),
        "p99": ms("99"),
        "output": output,
    }


def combined(rounds: list[dict]) -> dict:
    """One phase's rounds together: mean requests/s, the median p50 and the worst p99."""
    return {
        "rps": statistics.mean(r["rps"] for r in rounds),
        "each": [r["rps"] for r in rounds],
        "requests": sum(r["requests"] for r in rounds),
        "non_2xx": sum(r["non_2xx"] for r in rounds),
        "socket_errors": sum(r["socket_errors"] for r in rounds),
        "p50": statistics.median(r["p50"] for r in rounds),
        "p99": max(r["p99"] for r in rounds),
        "cpu_ms": statistics.mean(r["cpu_ms"] for r in rounds),
        "idle": statistics.mean(r["idle"] for r in rounds),
    }


def members_during(run: Run, base: str, accounts, theme_id: int, think: float, work):
    """``work()`` while the members submit through ``base``; its result."""
    members = [Member(run, base, account, theme_id, think=think) for account in accounts]
    for member in members:
        member.start()
    try:
        return work()
    finally:
        for member in members:
            member.stop.set()
        for member in members:
            member.join(timeout=30)
            member.close()


def warm_up(base: str, paths: list[str], rounds: int) -> None:
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in paths * rounds:
            client.get(path)


def caught_up(primary: Cluster, replica: Cluster, seconds: float = 60) -> float:
    """Wait until the replica has replayed everything the primary has written; how long."""
    started = time.monotonic()
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        (target,) = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    with psycopg.connect(replica.url(), autocommit=True) as conn:
        while time.monotonic() - started < seconds:
            (done,) = conn.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]
            ).fetchone()
            if done:
                return time.monotonic() - started
            time.sleep(0.02)
    raise RuntimeError(f"the replica did not catch up in {seconds:.0f} s")


def hold_back(replica: Cluster, delay: str) -> None:
    """Make the replica apply each commit only ``delay`` after it was made ('0' undoes it)."""
    with psycopg.connect(replica.url("postgres"), autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET recovery_min_apply_delay = '{delay}'")
        conn.execute("SELECT pg_reload_conf()")


def stored(cluster: Cluster, tokens: list[str]) -> dict[str, int]:
    with psycopg.connect(cluster.url()) as conn:
        return dict(
            conn.execute(
                "SELECT submission_token::text, id FROM opinions_opinion"
                " WHERE submission_token::text = ANY(%s)",
                [tokens],
            ).fetchall()
        )


# --- Report ---------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)  # nearest rank
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def ms(value: float) -> str:
    return "—" if value != value else f"{value * 1000:.1f}"


def report(run: Run, measured: dict, context: dict) -> tuple[str, bool]:
    one, two = measured["one"], measured["two"]
    members = [r for r in run.records if r.kind != "unpinned"]
    failed = [r for r in members if not r.ok]
    load_phases = ("one", "two")
    lag = [sample for sample in run.lag if sample[0] in load_phases]
    behind = [sample[1] for sample in lag]
    replay = [sample[2] for sample in lag]
    visible = [s.visible_after for s in run.submitted if s.phase in load_phases]
    never = [v for v in visible if v is None]
    visible = [v for v in visible if v is not None]
    held = [r for r in run.records if r.phase == "held back"]
    held_lag = [sample[2] for sample in run.lag if sample[0] == "held back"]
    held_own = [r for r in held if r.kind == "own"]
    held_unpinned = [r for r in held if r.kind == "unpinned"]
    missed = [r for r in held_unpinned if r.status == 404]
    primary_rows, replica_rows = context["stored"]
    successes = run.submitted
    lost_primary = [s for s in successes if primary_rows.get(s.token) != s.pk]
    lost_replica = [s for s in successes if replica_rows.get(s.token) != s.pk]
    despite = sorted(set(primary_rows) - {s.token for s in successes})

    def share(phase: str) -> str:
        counts = measured[f"queries_{phase}"]
        on_replica, total = (
            counts.get("portal_replica", 0),
            sum(counts.get(name, 0) for name in ("portal", "portal_replica")),
        )
        return f"{100 * on_replica / total:.0f} % of {total:,}" if total else "—"

    def row(label: str, phase: str) -> str:
        result = measured[phase]
        subs = sum(1 for s in successes if s.phase == phase)
        return (
            f"| {label} | {result['rps']:,.0f} ({', '.join(f'{r:,.0f}' for r in result['each'])}) "
            f"| {result['p50']:.1f} | {result['p99']:.1f} "
            f"| {result['requests']:,} | {result['non_2xx']} | {result['socket_errors']} "
            f"| {subs} | {share(phase)} | {result['cpu_ms']:.0f} | {100 * result['idle']:.0f} % |"
        )

    served = context["haproxy"]
    checks = {
        # Requests/s are measured, not checked: on a host whose cores are busy with other
        # work a second server has no core to add.
        "HAProxy sent requests to both app servers, both up, none answered 5xx": all(
            int(line.get("stot") or 0) > 0
            and line.get("status") == "UP"
            and int(line.get("hrsp_5xx") or 0) == 0
            for line in served.values()
        ),
        "no gunicorn worker died or was replaced": context["booted"]
        == [context["workers"]] * len(context["booted"]),
        "reads went to the replica (most queries of both phases)": all(
            measured[f"queries_{phase}"].get("portal_replica", 0)
            > measured[f"queries_{phase}"].get("portal", 0)
            for phase in load_phases
        ),
        "no request failed (wrk: no error, no non-2xx; every member request answered as "
        "expected)": not failed
        and all(measured[p]["non_2xx"] == 0 and measured[p]["socket_errors"] == 0 for p in load_phases),
        "every submission's own page was found right after its redirect": all(
            r.ok for r in run.records if r.kind == "own"
        )
        and any(r.kind == "own" for r in run.records),
        "held-back replica: with the pin every own page found, without it at least one not":
        bool(held_own) and all(r.ok for r in held_own) and bool(missed),
        "no write lost: every submission that got its redirect is on the primary and the "
        "replica": bool(successes) and not lost_primary and not lost_replica,
    }  # fmt: skip
    lines = [
        f"Run on {context['date']} UTC by `make scaleout` on this host ({os.cpu_count()} cores, "
        f"load average {context['load_before']} before the run, {context['load_after']} after)."
        f" Set-up {context['setup']:.0f} s, whole run {context['total']:.0f} s.",
        "",
        f"- PostgreSQL {context['pg_version']}: a primary and a streaming replica "
        "(pg_basebackup -R, hot standby), clusters of their own on loopback; PgBouncer "
        f"{context['pgbouncer']} in transaction mode in front of both; Redis: {context['redis']}.",
        f"- Each app server: gunicorn, {context['workers']} worker(s) × {context['threads']} "
        "threads (gthread, the flags of `make serve`), DATABASE_URL and DATABASE_REPLICA_URL "
        "through PgBouncer, server-side cursors off; HAProxy "
        f"{context['haproxy_version']} round robin in front of two, checked on /healthz.",
        f"- Load: {context['rounds']} rounds of `wrk -t2 -c{context['connections']} "
        f"-d{context['seconds']}s` against each, alternating, over "
        f"{context['pages']} anonymous pages in turn (list, searches, theme index and pages, "
        f"cross-tab, remarks), while {context['members']} members submit remarks through the "
        "forms (each: GET /submit/, POST, at once the page of the new remark, then "
        f"{context['think']:g} s' pause) — each "
        "submission renews the data version, so cached pages are computed again after it.",
        "",
        "| | requests/s (each round) | p50 ms | p99 ms | requests | non-2xx | socket errors "
        "| submissions meanwhile | queries on the replica | app servers' CPU ms per request "
        "| host CPU idle |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        row("one app server, directly", "one"),
        row("two app servers behind HAProxy", "two"),
        "",
        f"- **Two app servers: ×{two['rps'] / one['rps']:.2f}** the requests/s of one "
        f"(HAProxy's share: "
        + ", ".join(f"{name} {int(line.get('stot') or 0):,}" for name, line in served.items())
        + f" requests); the host's CPU was idle {100 * one['idle']:.0f} % of the time with "
        f"one, {100 * two['idle']:.0f} % with two. The app servers' CPU per request: "
        f"{one['cpu_ms']:.0f} ms with one, {two['cpu_ms']:.0f} ms with two — a server with a "
        f"core of its own serves about {1000 / two['cpu_ms']:.0f} of these requests/s, and each "
        "server added behind the balancer adds that much while the database keeps up.",
        f"- **Replica lag** under that load ({len(lag)} samples every 0.2 s): WAL not yet "
        f"replayed at most {max(behind, default=0):,.0f} bytes (median "
        f"{statistics.median(behind) if behind else 0:,.0f}); pg_stat_replication.replay_lag "
        f"at most {ms(max(replay, default=math.nan))} ms (p95 {ms(percentile(replay, 0.95))})."
        f" A new remark was on the replica "
        f"{ms(percentile(visible, 0.5))} ms (median) and at most "
        f"{ms(max(visible, default=math.nan))} ms after its redirect reached the member "
        f"({len(visible)} remarks; {len(never)} not seen during the load). Held back "
        f"(below), replay_lag reached {ms(max(held_lag, default=math.nan))} ms.",
        f"- **Read-your-own-writes**: every submission's own page opened at once after its "
        f"redirect answered 200 with the remark "
        f"({sum(1 for r in run.records if r.kind == 'own' and r.ok)}/"
        f"{sum(1 for r in run.records if r.kind == 'own')}), through whichever server. With "
        f"the replica held back by {context['delay']} (`recovery_min_apply_delay`), "
        f"{len(held_own)} more submissions: their page with the pin cookie found "
        f"{sum(r.ok for r in held_own)}/{len(held_own)}; the same page without it, read "
        f"from the replica, not found {len(missed)}/{len(held_unpinned)}.",
        f"- **No request failed**: wrk {one['non_2xx'] + two['non_2xx']} non-2xx and "
        f"{one['socket_errors'] + two['socket_errors']} socket errors over "
        f"{one['requests'] + two['requests']:,} requests; members' requests "
        f"{len(members)}, failed {len(failed)}"
        + (f" ({', '.join(sorted({r.error or str(r.status) for r in failed}))})" if failed else "")
        + ".",
        f"- **No write lost**: {len(run.tried)} forms sent, {len(successes)} got the redirect; "
        f"on the primary {len(successes) - len(lost_primary)}/{len(successes)}, on the replica "
        f"{len(successes) - len(lost_replica)}/{len(successes)} (caught up "
        f"{context['catch_up'] * 1000:.0f} ms after the last one); {len(despite)} stored "
        "although their only answer was an error.",
        "",
        *[f"- [{'x' if ok else ' '}] {name}" for name, ok in checks.items()],
    ]
    return "\n".join(lines), all(checks.values())


def write_results(text: str) -> None:
    current = RESULTS.read_text(encoding="utf-8")
    if BEGIN not in current:
        current += f"\n{BEGIN}\n{END}\n"
    head, rest = current.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    RESULTS.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


# --- The run --------------------------------------------------------------------------------


def version(command: list[str], pattern: str) -> str:
    output = subprocess.run(command, capture_output=True, text=True).stdout
    match = re.search(pattern, output)
    return match.group(1) if match else "?"


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def cpu_seconds(groups: list[int]) -> float:
    """CPU time (user + system) used so far by the processes of these process groups
    (each gunicorn master started its own session: the master and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) in groups:  # pgrp; utime and stime are the 12th and 13th after it
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def host_cpu() -> tuple[int, int]:
    """(idle, total) jiffies of the whole host so far (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return values[3] + values[4], sum(values[:8])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="wrk per phase and round (10 s)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of both phases (2)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (8)")
    parser.add_argument(
        "--workers", type=int, default=1,
        help="gunicorn workers per app server (1: on a 2-core host, one core for each server)",
    )  # fmt: skip
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument("--members", type=int, default=2, help="members submitting (2)")
    # Not near gunicorn's keep-alive of 2 s: a request sent on a kept connection just as the
    # server closes it fails in the client (httpx does not retry as a browser does).
    parser.add_argument("--think", type=float, default=1.0, help="between submissions (1 s)")
    parser.add_argument("--held", type=int, default=4, help="submissions per member, held back")
    parser.add_argument("--delay", default="2s", help="the replica held back by (2s)")
    parser.add_argument("--no-write", action="store_true", help="not into bench/results.md")
    args = parser.parse_args(argv)
    for tool in ("initdb", "pg_basebackup", "pg_ctl"):
        if not (PG_BIN / tool).exists():
            log(f"{tool} is not in {PG_BIN} (set PG_BIN)")
            return 2
    for tool in ("pgbouncer", "haproxy", "wrk"):
        sbin(tool)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    context = {
        "date": f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}",
        "load_before": load_average(),
        "workers": args.workers, "threads": args.threads, "connections": args.connections,
        "seconds": args.seconds, "members": args.members, "delay": args.delay,
        "rounds": args.rounds, "think": args.think,
        "pgbouncer": version([sbin("pgbouncer"), "--version"], r"PgBouncer ([\d.]+)"),
        "haproxy_version": version([sbin("haproxy"), "-v"], r"version ([\d.]+)"),
    }  # fmt: skip
    accounts = [(f"scaleout-member-{n}", f"scaleout-password-{n}-7e59f9f1") for n in range(1, 4)]
    accounts = accounts[: args.members + 1]  # the last one submits to the held-back replica
    primary = replica = bouncer = redis = balancer = None
    servers: list[Portal] = []
    run = Run()
    passed = False
    try:
        primary = Cluster(prefix="iken-scaleout-")
        log(f"primary on 127.0.0.1:{primary.port}")
        primary.create(SERVER_SETTINGS)
        replica = Cluster.standby_of(primary, REPLICA_SETTINGS)
        log(f"streaming replica on 127.0.0.1:{replica.port} (pg_basebackup -R)")
        with psycopg.connect(primary.url()) as conn:
            context["pg_version"] = conn.execute("SHOW server_version").fetchone()[0]
        bouncer = PgBouncer(primary, replica, pool_size=max(4, 2 * args.workers * args.threads))
        bouncer.start()
        log(f"PgBouncer (transaction mode) on 127.0.0.1:{bouncer.port}")
        redis = Redis()
        redis.start()
        context["redis"] = redis.what
        shared = {
            # One key for both servers: sessions, CSRF and the pin cookie are signed with it.
            "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
            "REDIS_URL": redis.url,
            "OPINIONS_SUBMISSIONS_PER_HOUR": "100000",
        }
        # The release job, straight to the primary (README: migrate once per release).
        log("migrate, load_seed, collectstatic, the 委員 accounts (on the primary)")
        Portal(primary.url(), workers=0, threads=0, env=shared).prepare(accounts)
        app_env = {
            **shared,
            "DATABASE_REPLICA_URL": bouncer.url("portal_replica"),
            "DJANGO_DB_DISABLE_SERVER_SIDE_CURSORS": "1",
        }
        for n in (1, 2):
            server = Portal(
                bouncer.url("portal"), workers=args.workers, threads=args.threads,
                logfile=ARTIFACTS / f"gunicorn-app{n}.log", env=app_env, graceful_timeout=20,
            )  # fmt: skip
            server.start()
            servers.append(server)
            log(f"app server {n}: gunicorn on {server.base}")
        balancer = HAProxy(servers)
        balancer.start()
        log(f"HAProxy on {balancer.base}, both servers up")
        caught_up(primary, replica)
        paths, theme_id = read_paths(primary.url())
        context["pages"] = len(paths)
        context["setup"] = time.monotonic() - started

        for base in (servers[0].base, servers[1].base, balancer.base):
            warm_up(base, paths, rounds=2)
        # A first submission on each server, unrecorded: the first of a process is slower.
        for server in servers:
            warmer = Member(run, server.base, accounts[0], theme_id, think=0, count=1)
            warmer.run()
            warmer.close()
        run.records.clear()
        run.submitted.clear()
        run.tried.clear()

        sampler = LagSampler(run, primary, replica)
        sampler.start()
        rounds: dict[str, list[dict]] = {"one": [], "two": []}
        queries: dict[str, dict[str, int]] = {"one": {}, "two": {}}
        groups = [server.process.pid for server in servers]
        # Alternating, so that the host's other load weighs on both alike.
        for number in range(1, args.rounds + 1):
            for phase, base, label in (
                ("one", servers[0].base, "one app server, directly"),
                ("two", balancer.base, "two app servers behind HAProxy"),
            ):
                run.phase = phase
                before = bouncer.queries()
                cpu_before, host_before = cpu_seconds(groups), host_cpu()
                members_before = len(run.records)
                result = members_during(
                    run, base, accounts[: args.members], theme_id, args.think,
                    lambda base=base: wrk(base, paths, seconds=args.seconds,
                                          connections=args.connections),
                )  # fmt: skip
                after = bouncer.queries()
                host_after = host_cpu()
                served = result["requests"] + len(run.records) - members_before
                result["cpu_ms"] = 1000 * (cpu_seconds(groups) - cpu_before) / max(served, 1)
                result["idle"] = (host_after[0] - host_before[0]) / max(
                    host_after[1] - host_before[1], 1
                )
                for db in after:
                    queries[phase][db] = queries[phase].get(db, 0) + after[db] - before.get(db, 0)
                rounds[phase].append(result)
                (ARTIFACTS / f"wrk-{phase}-{number}.txt").write_text(result["output"])
                log(f"round {number}, {label}: {result['rps']:.0f} requests/s")
        measured = {phase: combined(results) for phase, results in rounds.items()}
        for phase in rounds:
            measured[f"queries_{phase}"] = queries[phase]
        context["haproxy"] = balancer.servers()
        context["booted"] = [server.workers_booted() for server in servers]

        run.phase = "held back"
        # Signed in first: its session is on the replica, its new remarks will not be.
        member = Member(
            run, balancer.base, accounts[-1], theme_id, think=0.1, count=args.held, unpinned=True
        )
        caught_up(primary, replica)
        log(f"the replica held back by {args.delay}: submissions read with and without the pin")
        hold_back(replica, args.delay)
        time.sleep(0.5)
        member.run()
        member.close()
        hold_back(replica, "0")
        context["catch_up"] = caught_up(primary, replica)
        time.sleep(0.3)
        sampler.stop.set()
        sampler.join(timeout=10)

        tokens = sorted(run.tried)
        context["stored"] = (stored(primary, tokens), stored(replica, tokens))
        context["load_after"] = load_average()
        context["total"] = time.monotonic() - started
        summary, passed = report(run, measured, context)
        print("\n" + summary + "\n", flush=True)
        (ARTIFACTS / "summary.md").write_text(summary + "\n", encoding="utf-8")
        with (ARTIFACTS / "requests.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["phase", "kind", "status", "seconds", "error", "ok"])
            for r in run.records:
                writer.writerow(
                    [r.phase, r.kind, r.status or "", f"{r.seconds:.3f}", r.error, int(r.ok)]
                )
        if not args.no_write:
            write_results(summary)
    finally:
        if balancer is not None:
            balancer.destroy()
        for server in servers:
            server.stop()
        if bouncer is not None:
            bouncer.destroy()
        if redis is not None:
            redis.destroy()
        if replica is not None:
            replica.destroy(keep_log=ARTIFACTS / "postgresql-replica.log")
        if primary is not None:
            primary.destroy(keep_log=ARTIFACTS / "postgresql-primary.log")
        log(f"torn down; logs in {ARTIFACTS.relative_to(ROOT)}/")
    log("PASSED" if passed else "FAILED")
    return 0 if passed else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # torn down already, in main's finally
        sys.exit(130)
