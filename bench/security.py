"""SQL injection scan (``make security``): sqlmap over every GET parameter of the list, the
API and the exports, as a signed-in 事務局 member, against the portal in production mode.

The portal runs under gunicorn (DEBUG off, hashed static files) on a free loopback port, on
its own PostgreSQL database (dropped and created again; its name must contain "sqlmap"),
with the seed loaded and one 事務局 account, so unpublished remarks and the exports are in
reach. Each target URL names every parameter its view reads; sqlmap (Debian's package)
tries each of them with PostgreSQL's boolean, error and UNION techniques for at most
``--seconds-per-target`` seconds. Exit status 1 if sqlmap reports an injection point or
a target did not finish in time (not tested is not clean); the summary goes to
``artifacts/security/summary.md``, sqlmap's own logs beside it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from bench.servers import Portal, hidden_value

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts" / "security"
STAFF = ("sqlmap-staff", "sqlmap-staff-password-7e59f9f1")

# Every GET parameter each page reads, with a valid value (sqlmap varies one at a time and
# compares with the page for the valid one).
LIST_PARAMETERS = (
    "q=%E4%BA%BA%E6%9D%90&theme=dai2ki-theme&size=small-town&stakeholder=government"
    "&document=%E5%8F%82%E8%80%83%E8%B3%87%E6%96%991-%E7%AC%AC1%E5%9B%9E%E7%AC%AC2%E5%9B%9E%E3%81%AB%E3%81%8A%E3%81%91%E3%82%8B%E4%B8%BB%E3%81%AA%E3%81%94%E6%84%8F%E8%A6%8B&meeting=1&sort=document&page=1"
)
TARGETS = {
    "list": f"/opinions/?{LIST_PARAMETERS}",
    "cross-tab": "/crosstab/?axis=stakeholder",
    "api list": f"/api/opinions/?{LIST_PARAMETERS}&page_size=50",
    "csv export": f"/opinions/export/csv/?{LIST_PARAMETERS}&encoding=utf-8",
    "xlsx export": f"/opinions/export/xlsx/?{LIST_PARAMETERS}",
    "summary (Word)": f"/opinions/summary/docx/?{LIST_PARAMETERS}",
    "summary (text)": f"/opinions/summary/txt/?{LIST_PARAMETERS}",
}


@dataclass
class Result:
    name: str
    url: str
    seconds: float
    finished: bool
    injections: list[str]
    requests: int


def drop_database(database_url: str, *, create: bool) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if "sqlmap" not in name:
        raise SystemExit(
            f"refusing to drop {name!r}: the scan database's name must contain 'sqlmap'"
        )
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            connection.execute(f'CREATE DATABASE "{name}"')


def log(message: str) -> None:
    print(f"[security] {message}", flush=True)


def prepare(portal: Portal) -> None:
    portal.manage("migrate", "--noinput")
    portal.manage("load_seed")
    portal.manage("collectstatic", "--noinput")
    username, password = STAFF
    portal.manage(
        "shell", "-c",
        "from django.contrib.auth.models import Group, User; "
        f"u = User.objects.create_user({username!r}, password={password!r}, is_staff=True); "
        "u.groups.add(Group.objects.get(name='事務局'))",
    )  # fmt: skip


def staff_cookies(base: str) -> str:
    """A signed-in 事務局 session, as a Cookie header."""
    with httpx.Client(base_url=base, timeout=10) as client:
        page = client.get("/accounts/login/")
        token = hidden_value(page.text, "csrfmiddlewaretoken")
        username, password = STAFF
        answer = client.post(
            "/accounts/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": token},
            headers={"Referer": f"{base}/accounts/login/"},
        )
        if answer.status_code != 302 or "sessionid" not in client.cookies:
            raise RuntimeError(f"could not sign in as {username}: {answer.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def parameters_of(url: str) -> list[str]:
    return re.findall(r"[?&]([^=&]+)=", url)


def requests_served(portal: Portal) -> int:
    """Lines in gunicorn's access log so far."""
    return portal.logfile.read_text(errors="replace").count('HTTP/1.1"')


def scan(name: str, url: str, cookies: str, *, seconds: int, extra: list[str]) -> Result:
    output = ARTIFACTS / "sqlmap" / re.sub(r"\W+", "-", name).strip("-")
    shutil.rmtree(output, ignore_errors=True)
    command = [
        "sqlmap", "-u", url, "--cookie", cookies, "--batch", "--flush-session",
        # Every GET parameter, not the session cookies (level 2 would try those too).
        "-p", ",".join(parameters_of(url)),
        "--dbms", "PostgreSQL", "--technique", "BEU", "--level", "2", "--risk", "1",
        "--threads", "2", "--timeout", "15", "--retries", "1", "--disable-coloring",
        # Staff pages answer no-store; sqlmap must not follow the logout link or drop the cookie.
        "--drop-set-cookie", "--skip-waf", "--output-dir", str(output), *extra,
    ]  # fmt: skip
    started = time.monotonic()
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=seconds)
        finished, text = True, run.stdout + run.stderr
    except subprocess.TimeoutExpired as timeout:
        finished = False
        text = (
            (timeout.stdout or b"").decode(errors="replace")
            if isinstance(timeout.stdout, bytes)
            else (timeout.stdout or "")
        )
    (output.parent / f"{output.name}.log").write_text(text, encoding="utf-8")
    injections = re.findall(r"Parameter: (.+?) \((GET|Cookie|URI)\)", text)
    if "identified the following injection point" in text and not injections:
        injections = [("(see log)", "GET")]
    return Result(
        name=name,
        url=url,
        seconds=time.monotonic() - started,
        finished=finished,
        injections=[parameter for parameter, _where in injections],
        requests=0,
    )


def summary(results: list[Result], base: str) -> str:
    lines = [
        "# SQL injection scan (make security)",
        "",
        f"sqlmap {sqlmap_version()} against {base} (gunicorn, production settings), as 事務局.",
        "",
        "| target | parameters | requests | seconds | result |",
        "|---|---|---|---|---|",
    ]
    for result in results:
        parameters = ", ".join(parameters_of(result.url))
        state = (
            f"**injection: {', '.join(result.injections)}**"
            if result.injections
            else ("none found" if result.finished else "**not finished in time**")
        )
        lines.append(
            f"| {result.name} | {parameters} | {result.requests or '—'} | {result.seconds:.0f} | {state} |"
        )
    return "\n".join(lines) + "\n"


def sqlmap_version() -> str:
    return subprocess.run(["sqlmap", "--version"], capture_output=True, text=True).stdout.split()[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "SECURITY_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_sqlmap"
        ),
    )
    parser.add_argument("--seconds-per-target", type=int, default=600)
    parser.add_argument("--only", action="append", help="scan only this target (repeatable)")
    parser.add_argument("--sqlmap-arg", action="append", default=[], help="passed on to sqlmap")
    args = parser.parse_args()
    if shutil.which("sqlmap") is None:
        raise SystemExit("sqlmap is not installed: apt-get install sqlmap")

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    drop_database(args.database_url, create=True)
    portal = Portal(args.database_url, workers=2, threads=4)
    portal.logfile = ARTIFACTS / "gunicorn.log"
    portal.env.pop("REDIS_URL", None)
    portal.env["OPINIONS_SUBMISSIONS_PER_HOUR"] = "1000"
    results: list[Result] = []
    try:
        log("preparing the database (migrate, seed, a 事務局 account)")
        prepare(portal)
        portal.start()
        log(f"portal on {portal.base}")
        cookies = staff_cookies(portal.base)
        for name, path in TARGETS.items():
            if args.only and name not in args.only:
                continue
            log(f"sqlmap: {name}")
            served = requests_served(portal)
            result = scan(
                name,
                portal.base + path,
                cookies,
                seconds=args.seconds_per_target,
                extra=args.sqlmap_arg,
            )
            result.requests = requests_served(portal) - served
            log(
                f"  {result.requests} requests, {result.seconds:.0f} s, "
                + (
                    f"INJECTION {result.injections}"
                    if result.injections
                    else "finished"
                    if result.finished
                    else "NOT FINISHED"
                )
            )
            results.append(result)
    finally:
        portal.stop()
        drop_database(args.database_url, create=False)
    report = summary(results, portal.base)
    (ARTIFACTS / "summary.md").write_text(report, encoding="utf-8")
    print(report)
    clean = all(result.finished and not result.injections for result in results)
    return 0 if clean and results else 1


if __name__ == "__main__":
    sys.exit(main())
