"""``make bench``: first visits at each size, in process and against gunicorn; wrk when
every request is new; the results into bench/results.md.

For each dataset (the seed alone, then 100k and 1M synthetic remarks on top of it):

1. recreate the benchmark database, migrate, load the seed, generate the remarks (timed);
2. in process (bench/measure.py): every page type and the searches drawn from the data's
   vocabulary by band (bench/terms.py), the caches emptied before each request, each
   request split into SQL, templates and the rest of Python (bench/probe.py);
3. the full CSV export streamed in a process of its own, for its peak memory;
4. against gunicorn (bench/server.py): the same pages and a share of the terms over HTTP,
   the shared cache emptied before each request; then wrk with 8 connections on the
   floor (a view that does nothing), the list and a detail page (cached), and with a
   different detail page and a different search term per request; the workers' resident
   memory after each part;
5. the machine, its load average at every step, and the tables (bench/report.py) into the
   generated part of bench/results.md. Each dataset's numbers are also kept in
   artifacts/bench/run-N.json, so ``--merge`` can render datasets measured by separate runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from . import report, server

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results.md"
ARTIFACTS = ROOT / "artifacts" / "bench"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
STEPS = ("pages", "export", "http", "wrk")


def log(message: str) -> None:
    print(f"[bench {dt.datetime.now():%H:%M:%S}] {message}", flush=True)


def environment(database_url: str, **extra) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="bench.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=env.get("DJANGO_SECRET_KEY") or "bench-" + "x" * 60,
        DJANGO_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


def manage(env, *args) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def drop_database(database_url: str, *, create: bool = False) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(
            f"refusing to drop {name!r}: the benchmark database's name must contain 'bench'"
        )
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')


def prepare(database_url: str, count: int, seed: int) -> float:
    """A fresh database holding the seed and ``count`` synthetic remarks; the generation time."""
    env = environment(database_url)
    drop_database(database_url, create=True)
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "load_seed")
    started = time.perf_counter()
    if count:
        manage(env, "generate_opinions", "--count", str(count), "--seed", str(seed))
    return time.perf_counter() - started


def machine(database_url: str) -> dict[str, str]:
    import psycopg

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    with psycopg.connect(database_url) as connection:
        version = connection.execute("SHOW server_version").fetchone()[0]
        settings = dict(
            connection.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
                [["shared_buffers", "work_mem", "max_parallel_workers_per_gather", "jit"]],
            ).fetchall()
        )
    import django
    import gunicorn

    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": f"{int(memory.group(1)) / 2**20:.1f} GiB" if memory else "unknown",
        "PostgreSQL": f"{version} ({', '.join(f'{k}={v}' for k, v in sorted(settings.items()))})",
        "Python / Django / gunicorn": f"{platform.python_version()} / {django.__version__} / {gunicorn.__version__}",
        "cache": f"Redis {os.environ['REDIS_URL']}"
        if os.environ.get("REDIS_URL")
        else "local memory",
        "OS": platform.platform(),
    }


class Loads:
    """The 1-minute load average at each step of a dataset's measurements."""

    def __init__(self):
        self.steps: list[tuple[str, float]] = []

    def note(self, step: str) -> None:
        self.steps.append((step, round(os.getloadavg()[0], 2)))


def measure_in_process(database_url: str, args, *, paths_only: bool = False) -> dict:
    with tempfile.NamedTemporaryFile(suffix=".json") as output:
        subprocess.run(
            [PYTHON, "-m", "bench.measure", "--output", output.name,
             "--repetitions", str(args.repetitions), "--terms-per-band", str(args.terms_per_band),
             "--term-repetitions", str(args.term_repetitions), "--seed", str(args.seed),
             *(["--paths-only"] if paths_only else [])],
            cwd=ROOT, env=environment(database_url), check=True,
        )  # fmt: skip
        return json.loads(Path(output.name).read_text(encoding="utf-8"))


def export_memory(database_url: str) -> dict:
    result = subprocess.run(
        [PYTHON, "-m", "bench.export_memory"],
        cwd=ROOT, env=environment(database_url), check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def first_visits_http(database_url: str, measured: dict, args) -> dict:
    """The pages and a share of the terms through gunicorn, the shared cache emptied
    before each request; the workers' memory before and after."""
    result: dict = {"memory": {}}
    env = server.first_visit_env(environment(database_url))
    with server.Gunicorn(env, workers=args.workers) as portal:
        result["memory"]["first visits: after start"] = portal.worker_rss()
        result["pages"] = {
            name: server.first_visits(portal, paths, args.http_repetitions)
            for name, paths in measured["urls"].items()
        }
        per_band: dict[str, list[str]] = {}
        for term in measured["terms"]:
            per_band.setdefault(term["band"], [])
            if len(per_band[term["band"]]) < args.http_terms_per_band:
                per_band[term["band"]].append(term["text"])
        result["bands"] = {}
        for band, texts in per_band.items():
            paths = [report.search_path(text) for text in texts]
            result["bands"][band] = server.first_visits(portal, paths, len(paths))
        result["memory"]["first visits: after"] = portal.worker_rss()
    return result


def load_test(database_url: str, measured: dict, args) -> dict:
    """wrk: the floor, the list and a detail page (cached), a new detail page and a new
    search term per request, the floor again; the workers' memory along the way."""
    load, memory = {}, {}
    detail = measured["urls"]["detail"][0]
    with server.Gunicorn(environment(database_url), workers=args.workers) as portal:
        memory["wrk: after start"] = portal.worker_rss()
        options = {"seconds": args.wrk_seconds, "connections": args.connections}
        load["floor"] = server.wrk(portal.base, "/bench/floor/", **options)
        for name, path in (("list (cached)", "/opinions/"), ("detail (cached)", detail)):
            portal.get(path)
            load[name] = server.wrk(portal.base, path, **options)
        for name, key in (("detail, new each request", "detail"),
                          ("search, new term each request", "search")):  # fmt: skip
            server.flush_shared_cache()
            load[name] = server.wrk(
                portal.base, seconds=args.wrk_new_seconds, connections=args.connections,
                paths=measured["wrk"][key],
            )  # fmt: skip
            # Requests wrk gave up on are still being answered: wait for them, or the
            # next series would measure the queue.
            load[name]["drain_s"] = portal.wait_idle()
            memory[f"wrk: after {name}"] = portal.worker_rss()
        load["floor (again)"] = server.wrk(portal.base, "/bench/floor/", **options)
    return {"load": load, "memory": memory}


def write_results(text: str) -> None:
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else f"{BEGIN}\n{END}\n"
    if BEGIN not in current:
        current += f"\n{BEGIN}\n{END}\n"
    head, rest = current.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    RESULTS.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")


def _check_redis() -> None:
    """Use Redis if REDIS_URL answers; otherwise say so and measure with per-process memory."""
    url = os.environ.get("REDIS_URL")
    if not url:
        return
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as error:
        log(f"REDIS_URL {url} does not answer ({error}): caching in process memory instead")
        del os.environ["REDIS_URL"]


def stored_runs() -> dict[int, dict]:
    runs = {}
    for path in sorted(ARTIFACTS.glob("run-*.json")):
        run = json.loads(path.read_text(encoding="utf-8"))
        runs[run["count"]] = run
    return runs


def main():
    parser = argparse.ArgumentParser(description="make bench")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sizes", nargs="+", type=int, default=[0, 100_000, 1_000_000],
                        help="synthetic remarks per dataset (0: the seed alone)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repetitions", type=int, default=10, help="first visits per page")
    parser.add_argument("--terms-per-band", type=int, default=50)
    parser.add_argument("--term-repetitions", type=int, default=2)
    parser.add_argument("--http-repetitions", type=int, default=5)
    parser.add_argument("--http-terms-per-band", type=int, default=10)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--wrk-new-seconds", type=int, default=30,
                        help="for the series with a new page per request")  # fmt: skip
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-export", action="store_true", help="skip the full export")
    parser.add_argument("--steps", nargs="+", default=list(STEPS), choices=STEPS,
                        help="measure only these (with --reuse, the rest is kept from the "
                        "stored run)")  # fmt: skip
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database as it is (only with one size)")  # fmt: skip
    parser.add_argument("--merge", action="store_true",
                        help="render the other sizes kept in artifacts/bench/ too")  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--render-only", action="store_true",
                        help="render the runs kept in artifacts/bench/, measure nothing")  # fmt: skip
    args = parser.parse_args()
    if args.reuse and len(args.sizes) != 1:
        parser.error("--reuse measures one dataset: give one size")
    if set(args.steps) != set(STEPS) and not args.reuse:
        parser.error("--steps needs --reuse (the other steps' numbers come from the stored run)")
    _check_redis()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if args.render_only:
        runs = stored_runs()
        text = report.render([runs[size] for size in sorted(runs)], machine(args.database_url))
        print(text, flush=True)
        if not args.no_write:
            write_results(text)
        return
    # As in production: hashed static files (the pages' {% static %} tags need the manifest).
    manage(environment(args.database_url), "collectstatic", "--noinput", "--verbosity", "0")
    runs = stored_runs() if args.merge else {}
    for count in args.sizes:
        label = f"{count:,} synthetic remarks + the seed" if count else "The seed (68 remarks)"
        loads = Loads()
        loads.note("start")
        started = time.perf_counter()
        log(f"{label}: preparing")
        generation = (
            stored_runs().get(count, {}).get("generation_seconds")
            if args.reuse
            else prepare(args.database_url, count, args.seed)
        )
        loads.note("loaded")
        stored = stored_runs().get(count, {})
        if "pages" in args.steps or not stored:
            log(f"{label}: first visits in process")
            measured = measure_in_process(args.database_url, args)
            loads.note("in process")
        else:
            measured = {key: stored[key] for key in ("published", "pages", "terms", "bands")}
            paths = stored.get("paths") or measure_in_process(
                args.database_url, args, paths_only=True
            )
            measured |= {key: paths[key] for key in ("urls", "wrk")}
        export = stored.get("export")
        if "export" in args.steps:
            log(f"{label}: streaming the full export")
            export = export_memory(args.database_url)
            loads.note("export")
        http = stored.get("http", {})
        if "http" in args.steps:
            log(f"{label}: first visits over HTTP")
            http = http | first_visits_http(args.database_url, measured, args)
            loads.note("HTTP first visits")
        if "wrk" in args.steps and server.wrk_available():
            log(f"{label}: wrk")
            found = load_test(args.database_url, measured, args)
            http = http | {"load": found["load"]}
            http["memory"] = {
                step: sizes for step, sizes in http.get("memory", {}).items()
                if not step.startswith("wrk")
            } | found["memory"]  # fmt: skip
            loads.note("wrk")
        elif "wrk" in args.steps:
            log("wrk not found (apt-get install -y wrk): load test skipped")
        import psycopg

        with psycopg.connect(args.database_url) as connection:
            opinions = connection.execute("SELECT count(*) FROM opinions_opinion").fetchone()[0]
        now = f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"
        minutes = round((time.perf_counter() - started) / 60, 1)
        options = {key: value for key, value in vars(args).items() if key != "database_url"}
        partial = stored and set(args.steps) != set(STEPS)
        if partial:  # what was not measured again keeps its time, load and options
            again = " and ".join(args.steps)
            loads.steps = stored["loads"] + [
                (f"{step} ({again} again)", load) for step, load in loads.steps
                if step not in ("start", "loaded")
            ]  # fmt: skip
            now = f"{stored['measured_at']} ({again} again at {now})"
            minutes = round(stored["minutes"] + minutes, 1)
            options = stored["options"] | {
                key: options[key] for key in options if key.startswith(("wrk", "http"))
                or key in ("connections", "workers")
            }  # fmt: skip
        run = {
            "label": label, "count": count, "opinions": opinions,
            "published": measured["published"], "generation_seconds": generation,
            "measured_at": now, "minutes": minutes,
            "loads": loads.steps, "pages": measured["pages"], "terms": measured["terms"],
            "bands": measured["bands"], "export": export, "http": http,
            "paths": {key: measured[key] for key in ("urls", "wrk")},
            "options": options,
        }  # fmt: skip
        (ARTIFACTS / f"run-{count}.json").write_text(
            json.dumps(run, ensure_ascii=False), encoding="utf-8"
        )
        runs[count] = run
        text = report.render([runs[size] for size in sorted(runs)], machine(args.database_url))
        print(text, flush=True)
        if not args.no_write:
            write_results(text)
        log(f"{label}: done in {run['minutes']} min")


if __name__ == "__main__":
    main()
