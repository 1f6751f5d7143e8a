"""The portal under gunicorn as ``make serve`` runs it: first visits over HTTP, memory per
worker, and wrk when every request is new.

- :class:`Gunicorn` starts ``bench.wsgi`` (the portal plus the floor view) with threaded
  workers (gthread, as make serve) on a free loopback port and reads its workers' resident
  memory from /proc.
- :func:`first_visits` requests pages one at a time, the shared cache (Redis) emptied
  before each; the server runs with ``OPINIONS_LOCAL_CACHE_ENTRIES=0`` so no worker keeps
  a copy of its own (which a client cannot empty). Without Redis, the cache is Django's
  dummy backend for that server: nothing is cached at all.
- :func:`wrk` loads the server for a few seconds; with a list of paths, a Lua script gives
  every request the next path of its thread's share of the list (so no two requests of a
  run ask for the same page while the list lasts).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREADS = 4  # per worker, as make serve runs it (gthread)
WRK_THREADS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else None


class Gunicorn:
    """``with Gunicorn(env, workers=2) as server: server.base, server.worker_rss()``"""

    def __init__(self, env: dict[str, str], *, workers: int, threads: int = THREADS):
        self.env, self.workers, self.threads = env, workers, threads
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "bench.wsgi:application",
             "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
             "--worker-class", "gthread", "--threads", str(self.threads),
             "--timeout", "120", "--log-level", "warning"],
            cwd=ROOT, env=self.env,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.base}/bench/floor/", timeout=1).read()
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not answer within 60 s")
        # Every worker started and has its database connection (the floor needs none: a page).
        while len(self.worker_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.2)
        for _ in range(self.workers * self.threads * 2):
            self.get("/themes/")
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def get(self, path: str, timeout: float = 120) -> tuple[float, int]:
        """(milliseconds to the last byte, bytes)."""
        started = time.perf_counter()
        with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
            body = response.read()
        return (time.perf_counter() - started) * 1000, len(body)

    def wait_idle(self, *, quick_ms: float = 100, at_most: float = 300) -> float:
        """Seconds until the floor answers within ``quick_ms`` again (the requests a load
        test left behind are answered)."""
        started = time.monotonic()
        while time.monotonic() - started < at_most:
            try:
                if self.get("/bench/floor/", timeout=at_most)[0] < quick_ms:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        return round(time.monotonic() - started, 1)

    def worker_pids(self) -> list[int]:
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return []
        return sorted(int(child) for child in children)

    def worker_rss(self) -> list[float]:
        return [mb for pid in self.worker_pids() if (mb := rss_mb(pid)) is not None]


def flush_shared_cache() -> None:
    url = os.environ.get("REDIS_URL")
    if url:
        import redis

        redis.Redis.from_url(url).flushdb()


def first_visit_env(env: dict[str, str]) -> dict[str, str]:
    """The server's environment for first visits: no per-process copies; no cache at all
    without Redis (a per-process cache could not be emptied from here)."""
    env = dict(env, OPINIONS_LOCAL_CACHE_ENTRIES="0")
    if not env.get("REDIS_URL"):
        env["BENCH_CACHE"] = "dummy"
    return env


def first_visits(server: Gunicorn, paths: list[str], repetitions: int) -> list[float]:
    """Milliseconds of ``repetitions`` requests (cycling through ``paths``), one at a
    time, the shared cache emptied before each."""
    times = []
    for index in range(repetitions):
        flush_shared_cache()
        times.append(server.get(paths[index % len(paths)])[0])
    return times


LUA = """-- Generated by bench/server.py: every request the next path of this thread's share.
local paths = {
%(paths)s
}
local threads, counter, next_id = %(threads)d, 0, 0
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end
function request()
  local index = (counter * threads + id) %% #paths + 1
  counter = counter + 1
  return wrk.format("GET", paths[index])
end
"""


def lua_script(paths: list[str], threads: int = WRK_THREADS) -> str:
    for path in paths:
        if not path.isascii() or any(c in path for c in '"\\\n'):
            raise ValueError(f"not a percent-encoded path: {path!r}")
    return LUA % {"paths": ",\n".join(f'  "{path}"' for path in paths), "threads": threads}


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * _UNITS[unit]


def parse_wrk(output: str) -> dict:
    latency = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", output)
    percentiles = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "p50_ms": _ms(percentiles["50"]) if "50" in percentiles else None,
        "p99_ms": _ms(percentiles["99"]) if "99" in percentiles else None,
        "max_ms": _ms(latency.group(3)) if latency else None,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(map(int, sockets.groups())) if sockets else 0,
        "timeouts": int(sockets.group(4)) if sockets else 0,
    }


def wrk(
    base: str, path: str = "/", *, seconds: int, connections: int, paths: list[str] | None = None
) -> dict:
    """One wrk run; with ``paths``, a different path per request (Lua)."""
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", "30s"]  # fmt: skip
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="ascii") as script:
        if paths:
            script.write(lua_script(paths))
            script.flush()
            command += ["-s", script.name]
        output = subprocess.run(
            [*command, base + path], check=True, capture_output=True, text=True
        ).stdout
    result = parse_wrk(output)
    result["distinct"] = len(paths) if paths else 1
    return result


def wrk_available() -> bool:
    return shutil.which("wrk") is not None
