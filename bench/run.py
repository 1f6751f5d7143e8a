"""``make bench``: load datasets into a separate PostgreSQL database, measure, write results.

For each dataset (the seed alone, then 100k and 1M synthetic remarks on top of it):
recreate the benchmark database, migrate, load the seed, generate the remarks (timed),
measure every page in-process (bench/measure.py), stream the full CSV export in its own
process for peak memory (bench/export_memory.py), and load gunicorn with wrk for the list
and detail pages next to a minimal Django view (the floor). Prints a table and rewrites
the generated part of bench/results.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
RESULTS = ROOT / "bench" / "results.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/portal_bench"
THREADS = 4  # gunicorn threads per worker, as make serve runs it (gthread)


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


def measure_pages(database_url: str, repetitions: int, uncached: int) -> list[dict]:
    with tempfile.NamedTemporaryFile(suffix=".json") as output:
        subprocess.run(
            [PYTHON, "-m", "bench.measure", "--output", output.name, "--repetitions", str(repetitions),
             "--uncached-repetitions", str(uncached)],
            cwd=ROOT, env=environment(database_url), check=True,
        )  # fmt: skip
        return json.loads(Path(output.name).read_text(encoding="utf-8"))


def export_memory(database_url: str) -> dict:
    result = subprocess.run(
        [PYTHON, "-m", "bench.export_memory"],
        cwd=ROOT, env=environment(database_url), check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_test(database_url: str, *, seconds: int, connections: int, workers: int) -> dict:
    """Requests per second under wrk for the floor, the list and a detail page."""
    if not shutil.which("wrk"):
        log("wrk not found (apt-get install -y wrk): load test skipped")
        return {}
    import psycopg

    with psycopg.connect(database_url) as connection:
        detail = connection.execute(
            "SELECT id FROM opinions_opinion WHERE status = 'published' ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(PYTHON).with_name("gunicorn")), "bench.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(workers), "--worker-class", "gthread", "--threads", str(THREADS),
         "--log-level", "warning"],
        cwd=ROOT, env=environment(database_url),
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/bench/floor/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        urls = {
            "floor": "/bench/floor/",
            "list": "/opinions/",
            "detail": f"/opinions/{detail}/",
        }
        results = {}
        for name, path in urls.items():
            for _ in range(workers * 2):  # every worker warm (connections, caches)
                urllib.request.urlopen(base + path, timeout=120).read()
            output = subprocess.run(
                ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", base + path],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
            results[name] = {"rps": rps, "non_2xx": int(errors.group(1)) if errors else 0}
        return results
    finally:
        server.terminate()
        server.wait(timeout=30)


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}"


def render(runs: list[dict], info: dict[str, str]) -> str:
    lines = [
        f"Generated by `make bench` on {dt.datetime.now():%Y-%m-%d %H:%M} UTC.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in info.items()],
        "",
    ]
    for run in runs:
        lines += [
            f"### {run['label']}",
            "",
            f"{run['opinions']:,} remarks in the database"
            + (f"; generated in {run['generation_seconds']:.0f} s." if run["count"] else "."),
            "",
            "| page | target p95 | uncached p50 | uncached p95 | cached p50 | cached p95 | queries (uncached / cached) | target met (cached p95) |",
            "|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for page in run["pages"]:
            target = page["target_ms"]
            met = "—" if target is None else ("yes" if page["cached_p95"] <= target else "**no**")
            lines.append(
                f"| {page['label']} | {_ms(target)} | {_ms(page['uncached_p50'])} | {_ms(page['uncached_p95'])} "
                f"| {_ms(page['cached_p50'])} | {_ms(page['cached_p95'])} "
                f"| {page['queries_uncached']} / {page['queries_cached']} | {met} |"
            )
        lines.append("")
        export = run.get("export")
        if export:
            lines += [
                f"Full CSV export (every remark, staff view): {export['rows']:,} rows, "
                f"{export['megabytes']} MB in {export['seconds']} s, peak RSS {export['peak_rss_mb']} MB "
                f"(process at start {export['rss_before_mb']} MB; target < 300 MB).",
                "",
            ]
        load = run.get("load")
        if load:
            floor = load["floor"]["rps"]
            lines += [
                f"wrk against gunicorn ({run['workers']} workers × {THREADS} threads as make serve runs"
                f" them, {run['connections']} connections, "
                f"{run['seconds']} s each, same run):",
                "",
                "| page | requests/s | of the floor | non-2xx |",
                "|---|---:|---:|---:|",
                *[
                    f"| {name} | {value['rps']:.0f} | {100 * value['rps'] / floor:.0f} % | {value['non_2xx']} |"
                    for name, value in load.items()
                ],
                "",
            ]
    return "\n".join(lines)


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


def main():
    parser = argparse.ArgumentParser(description="make bench")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--sizes", nargs="+", type=int, default=[0, 100_000, 1_000_000],
                        help="synthetic remarks per dataset (0: the seed alone)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repetitions", type=int, default=30)
    parser.add_argument("--uncached-repetitions", type=int, default=7)
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database as it is (only with one size)")  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    _check_redis()
    # As in production: hashed static files (the pages' {% static %} tags need the manifest).
    manage(environment(args.database_url), "collectstatic", "--noinput", "--verbosity", "0")
    runs = []
    for count in args.sizes:
        label = f"{count:,} synthetic remarks + the seed" if count else "The seed (68 remarks)"
        log(f"{label}: preparing")
        generation = 0.0 if args.reuse else prepare(args.database_url, count, args.seed)
        log(f"{label}: measuring pages")
        pages = measure_pages(args.database_url, args.repetitions, args.uncached_repetitions)
        log(f"{label}: streaming the full export")
        export = export_memory(args.database_url)
        log(f"{label}: wrk")
        load = load_test(
            args.database_url,
            seconds=args.wrk_seconds,
            connections=args.connections,
            workers=args.workers,
        )
        import psycopg

        with psycopg.connect(args.database_url) as connection:
            opinions = connection.execute("SELECT count(*) FROM opinions_opinion").fetchone()[0]
        runs.append(
            {
                "label": label, "count": count, "opinions": opinions, "generation_seconds": generation,
                "pages": pages, "export": export, "load": load, "workers": args.workers,
                "connections": args.connections, "seconds": args.wrk_seconds,
            }
        )  # fmt: skip
        text = render(runs, machine(args.database_url))
        print(text, flush=True)
        if not args.no_write:
            write_results(text)


if __name__ == "__main__":
    main()
