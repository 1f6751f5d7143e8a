"""Throwaway servers on loopback, for the runs that need their own (bench/outage.py,
bench/scaleout.py, bench/security.py): a PostgreSQL cluster in a temporary directory and a
streaming replica of it, and the portal under gunicorn in production mode; plus the steps
of a member's submission through the real forms.

Never the shared PostgreSQL server on 5432: every cluster has a free port of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
# gunicorn's flags as `make serve` gives them (Makefile); tests/test_bench.py compares.
SERVE_FLAGS = ["--worker-class", "gthread", "--timeout", "30", "--graceful-timeout", "20"]


def log(message: str) -> None:
    print(f"[{Path(sys.argv[0]).stem}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    if not match:
        raise ValueError(f"no {name} in the page")
    return match.group(1)


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL's server binaries (and PgBouncer) refuse to run as root: under root they
    run as the ``postgres`` OS user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def owned_by_postgres(path: Path) -> Path:
    if os.geteuid() == 0:
        shutil.chown(path, user="postgres", group="postgres")
    return path


def stop_process(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    """Stop a process started with ``start_new_session=True``, with its children."""
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


# --- PostgreSQL -----------------------------------------------------------------------------


class Cluster:
    """A PostgreSQL cluster of its own in a temporary directory, on 127.0.0.1 only."""

    def __init__(self, prefix: str = "iken-cluster-") -> None:
        self.port = free_port()
        self.dir = owned_by_postgres(Path(tempfile.mkdtemp(prefix=prefix)))
        self.data = self.dir / "data"
        self.logfile = self.dir / "postgresql.log"

    def url(self, name: str = "portal") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            as_postgres([str(PG_BIN / args[0]), *args[1:]]),
            cwd=self.dir, capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip

    def _configure(self, settings: str) -> None:
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\n# bench/servers.py: loopback only, its own port and socket directory\n"
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                f"unix_socket_directories = '{self.dir}'\n{settings}"
            )

    def create(self, settings: str = "max_connections = 40\nshared_buffers = 32MB\n") -> None:
        """initdb, start, and an empty ``portal`` database. ``settings``: more lines of
        postgresql.conf. Loopback connections are trusted, replication ones included."""
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C.UTF-8",
        )  # fmt: skip
        self._configure(settings)
        self.start()
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE portal")

    @classmethod
    def standby_of(cls, primary: Cluster, settings: str = "") -> Cluster:
        """A streaming replica of ``primary``: pg_basebackup of the running cluster (with the
        WAL written meanwhile, and the standby's connection to the primary: -R), started as
        a hot standby that answers reads."""
        replica = cls(prefix=primary.dir.name + "-replica-")
        replica._run(
            "pg_basebackup", "-D", str(replica.data), "-h", "127.0.0.1",
            "-p", str(primary.port), "-U", "postgres", "-X", "stream", "-R", "-c", "fast",
            timeout=300,
        )  # fmt: skip
        # The primary's postgresql.conf came along; later lines win.
        replica._configure(settings)
        replica.start()
        return replica

    def start(self) -> None:
        self._run(
            "pg_ctl", "start", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "30"
        )

    def stop(self, mode: str) -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "30")

    def destroy(self, keep_log: Path | None = None) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except (subprocess.SubprocessError, OSError) as error:
                log(f"pg_ctl stop failed ({error}); killing the postmaster")
                pid = int((self.data / "postmaster.pid").read_text().split()[0])
                os.kill(pid, signal.SIGKILL)
        if keep_log is not None and self.logfile.exists():
            shutil.copy(self.logfile, keep_log)
        shutil.rmtree(self.dir, ignore_errors=True)


# --- The portal under gunicorn --------------------------------------------------------------


class Portal:
    """The portal in production mode (DEBUG off, hashed static files) under gunicorn, with
    the flags of ``make serve``. ``env`` adds to (or replaces) its environment; servers
    that share sessions and signed cookies need the same ``DJANGO_SECRET_KEY`` in it."""

    def __init__(
        self, database_url: str, *, workers: int, threads: int, logfile: Path | None = None,
        env: dict[str, str] | None = None, graceful_timeout: int = 5,
    ) -> None:  # fmt: skip
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers, self.threads = workers, threads
        self.graceful_timeout = graceful_timeout
        self.logfile = logfile or ROOT / "artifacts" / "gunicorn.log"
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SECRET_KEY": uuid.uuid4().hex * 2,
            "DJANGO_DEBUG": "0",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            # Plain http on loopback: cookies without the Secure flag, no HTTPS redirect.
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_LOG_LEVEL": "WARNING",
            **(env or {}),
        }

    def manage(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT, env=self.env, check=True, timeout=300, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def prepare(self, members: list[tuple[str, str]]) -> None:
        """migrate, the seed, the static files, and a 委員 account per (name, password)."""
        self.manage("migrate", "--noinput")
        self.manage("load_seed")
        self.manage("collectstatic", "--noinput")
        self.manage(
            "shell", "-c",
            "from django.contrib.auth.models import Group, User\n"
            f"for username, password in {members!r}:\n"
            "    u = User.objects.create_user(username, password=password)\n"
            "    u.groups.add(Group.objects.get(name='委員'))",
        )  # fmt: skip

    def start(self) -> None:
        self.logfile.parent.mkdir(parents=True, exist_ok=True)
        flags = [*SERVE_FLAGS]
        flags[flags.index("--graceful-timeout") + 1] = str(self.graceful_timeout)
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "portal.wsgi:application",
                "--bind", f"127.0.0.1:{self.port}",
                "--workers", str(self.workers), "--threads", str(self.threads), *flags,
                # The master replaces a worker that dies or stops answering for --timeout;
                # the outage run counts "Booting worker" lines to show that none had to be.
                "--access-logfile", "-", "--error-logfile", "-",
            ],
            cwd=ROOT, env=self.env, stdout=self.logfile.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.logfile}")
            try:
                if httpx.get(f"{self.base}/themes/", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer in 30 s; see {self.logfile}")

    def workers_booted(self) -> int:
        return self.logfile.read_text(errors="replace").count("Booting worker")

    def stop(self) -> None:
        stop_process(self.process)


def read_paths(database_url: str) -> tuple[list[str], int]:
    """Read pages to load (published remarks, themes, searches) and a subtheme to submit to."""
    with psycopg.connect(database_url) as conn:
        ids = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM opinions_opinion WHERE status = 'published' ORDER BY id LIMIT 8"
            )
        ]
        slugs = [
            row[0]
            for row in conn.execute("SELECT slug FROM opinions_theme WHERE level = 2 LIMIT 3")
        ]
        theme_id = conn.execute("SELECT min(id) FROM opinions_theme WHERE level = 3").fetchone()[0]
    paths = [
        "/opinions/",
        "/opinions/?q=女性",
        "/opinions/?q=人材",
        "/themes/",
        "/crosstab/",
        *[f"/opinions/{pk}/" for pk in ids],
        *[f"/themes/{slug}/" for slug in slugs],
    ]
    return paths, theme_id


# --- A member's steps through the real forms -------------------------------------------------


def sign_in(client: httpx.Client, username: str, password: str) -> None:
    """The login form, as a browser fills it in (its CSRF token)."""
    page = client.get("/accounts/login/")
    data = {
        "username": username,
        "password": password,
        "csrfmiddlewaretoken": hidden_value(page.text, "csrfmiddlewaretoken"),
    }
    response = client.post("/accounts/login/", data=data)
    if response.status_code != 302:
        raise RuntimeError(f"could not log in as {username}: {response.status_code}")


def submission(page_html: str, theme_id: int, body: str) -> dict[str, str]:
    """The submission form of a GET /submit/ page filled in and sent straight to its last
    step (its one-time token and CSRF token from the page)."""
    return {
        "body": body,
        "theme": str(theme_id),
        "token": hidden_value(page_html, "token"),
        "csrfmiddlewaretoken": hidden_value(page_html, "csrfmiddlewaretoken"),
        # The bodies look alike on purpose; this is not a near-duplicate test.
        "not_duplicate": "on",
        "step": "save",
    }
