"""bench/results.md's generated part from the runs bench/run.py keeps (one per dataset)."""

from __future__ import annotations

import datetime as dt
import math
import statistics
from urllib.parse import quote

from .measure import PAGE_TARGET_MS, SEARCH_TARGET_MS, percentile
from .server import THREADS

# Short names for the growth table (the pages' own labels name data-dependent details).
SHORT = {
    "list": "一覧", "list_filtered": "一覧（絞り込み）", "theme_index": "テーマ別（目次）",
    "theme_section": "テーマ別・章", "theme_page": "テーマ別・テーマ", "crosstab": "クロス集計",
    "detail": "意見の詳細", "api_list": "API 一覧", "api_q": "API 一覧＋q",
    "page_1000": "一覧 1,000 ページ目", "last_page": "一覧 最終ページ",
    "export_document": "CSV 書き出し（1資料）",
}  # fmt: skip


def search_path(text: str) -> str:
    """The list page searching ``text`` (as bench.measure.list_path builds it)."""
    return f"/opinions/?q={quote(text)}"


def _ms(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _median(values):
    values = list(values)
    return statistics.median(values) if values else None


def _mark(value, target) -> str:
    if value is None or target is None:
        return _ms(value)
    return _ms(value) if value <= target else f"**{_ms(value)}**"


def _pages(run: dict) -> list[str]:
    http = run.get("http", {}).get("pages", {})
    options = run.get("options", {})
    lines = [
        "First visits (caches emptied before each request), milliseconds. *In process*: the "
        f"test client, {options.get('repetitions', '?')} requests per page, split into SQL and "
        "Python (of which templates); *HTTP*: the same page through gunicorn, one request at "
        f"a time, {options.get('http_repetitions', '?')} per page. *After the load*: the "
        "page's first request in process, before those, as PostgreSQL first meets it after the "
        "data was generated (its buffers and the OS's page cache cold; not in p50 and p95). "
        "**Bold**: over the target.",
        "",
        "| page | target | p50 | p95 | SQL p50 | Python p50 (templates) | queries "
        "| HTTP p50 | HTTP p95 | from the cache p50 | after the load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for page in run["pages"]:
        target = page["target_ms"]
        times = http.get(page["name"], [])
        lines.append(
            f"| {page['label']} | {_ms(target)} | {_mark(page['p50'], target)} "
            f"| {_mark(page['p95'], target)} | {_ms(page['sql_p50'])} "
            f"| {_ms(page['python_p50'])} ({_ms(page['template_p50'])}) | {page['queries']:.0f} "
            f"| {_mark(_median(times), target)} | {_mark(percentile(times, 95), target)} "
            f"| {_ms(page['warm_p50'])} | {_ms(page.get('cold_ms'))} |"
        )
    return [*lines, ""]


def _bands(run: dict) -> list[str]:
    if not run["bands"]:
        return []
    http = run.get("http", {}).get("bands", {})
    repetitions = run["options"]["term_repetitions"]
    lines = [
        f"Searches on the list page, first visits: each term {repetitions} times, the caches "
        f"emptied before each; target {SEARCH_TARGET_MS:.0f} ms. *Share*: of the remarks "
        "containing the term (median / largest of the band). *Met*: terms whose every "
        "request took at most the target. HTTP: the band's first terms through gunicorn, once each.",
        "",
        "| band | terms | share | p50 | p95 | slowest term (its p50) | met | SQL p50 "
        "| Python p50 (templates) | HTTP p50 / p95 (terms) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    met = total = 0
    for band in run["bands"]:
        times = http.get(band["band"], [])
        met += band["met_every"]
        total += band["terms"]
        lines.append(
            f"| {band['label']} | {band['terms']} "
            f"| {100 * band['share_p50']:.1f} / {100 * band['share_max']:.0f} % "
            f"| {_mark(band['p50'], SEARCH_TARGET_MS)} | {_mark(band['p95'], SEARCH_TARGET_MS)} "
            f"| {band['worst_term']} ({_ms(band['term_p50_max'])}) "
            f"| {band['met_every']} of {band['terms']} | {_ms(band['sql_p50'])} "
            f"| {_ms(band['python_p50'])} ({_ms(band['template_p50'])}) "
            f"| {_ms(_median(times))} / {_ms(percentile(times, 95))} ({len(times)}) |"
        )
    lines += ["", f"**{met} of {total} terms** met {SEARCH_TARGET_MS:.0f} ms on every request.", ""]
    slowest = sorted(run["terms"], key=lambda t: -_median(s["ms"] for s in t["samples"]))[:8]
    if slowest:
        lines += [
            "Slowest terms (p50 ms, share of remarks): "
            + ", ".join(
                f"{t['text']} {_ms(_median(s['ms'] for s in t['samples']))} ({100 * t['share']:.0f} %)"
                for t in slowest
            )
            + ".",
            "",
        ]
    return lines


def _memory(run: dict) -> list[str]:
    memory = run.get("http", {}).get("memory", {})
    if not memory:
        return []
    lines = [
        f"Resident memory per gunicorn worker ({run['options']['workers']} workers × {THREADS} "
        "threads), MB:",
        "",
        "| after | workers |",
        "|---|---|",
    ]
    lines += [
        f"| {step} | {', '.join(f'{mb:.0f}' for mb in sizes)} |" for step, sizes in memory.items()
    ]
    return [*lines, ""]


def _load(run: dict) -> list[str]:
    load = run.get("http", {}).get("load")
    if not load:
        return []
    # A floor run that answered nothing measured a queue left behind, not the floor.
    floors = [load[n]["rps"] for n in ("floor", "floor (again)") if load.get(n, {}).get("requests")]
    floor = sum(floors) / len(floors)
    options = run["options"]
    lines = [
        f"wrk against gunicorn ({options['workers']} workers × {THREADS} threads, gthread as make "
        f"serve runs it), {options['connections']} connections, {options['wrk_seconds']} s each "
        f"({options.get('wrk_new_seconds', options['wrk_seconds'])} s with a new page per request"
        + (
            ", then a wait until the requests wrk left behind are answered: *drain*"
            if any("drain_s" in value for value in load.values())
            else ""
        )
        + "); "
        f"the floor is a view that does nothing, on the same stack, run first and last "
        f"(share of the floor: of their mean, {floor:,.0f} requests/s). *New each request*: "
        "a Lua script gives every request the next of *distinct* paths (the cache emptied "
        "first), so no page repeats while requests ≤ distinct.",
        "",
        "| series | requests/s | of the floor | p50 ms | p99 ms | max ms | requests / distinct "
        "| non-2xx | timeouts | drain s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, value in load.items():
        lines.append(
            f"| {name} | {value['rps']:,.1f} | {100 * value['rps'] / floor:.1f} % "
            f"| {_ms(value['p50_ms'])} | {_ms(value['p99_ms'])} | {_ms(value['max_ms'])} "
            f"| {value['requests']:,} / {value['distinct']:,} | {value['non_2xx']} "
            f"| {value['timeouts']} | {value.get('drain_s', '—')} |"
        )
    return [*lines, ""]


def _growth(runs: list[dict]) -> list[str]:
    """p50 per page type and band at each size, and the exponent k of t ∝ n^k between the
    two largest (n: published remarks)."""
    if len(runs) < 2:
        return []
    rows: dict[str, dict[int, float]] = {}
    labels: dict[str, str] = {}
    for run in runs:
        for page in run["pages"]:
            rows.setdefault(page["name"], {})[run["count"]] = page["p50"]
            labels[page["name"]] = SHORT.get(page["name"], page["label"])
        for band in run["bands"]:
            key = f"search {band['band']}"
            rows.setdefault(key, {})[run["count"]] = band["p50"]
            labels[key] = f"検索 {band['label']}"
    big, bigger = runs[-2], runs[-1]
    header = " | ".join(f"{run['published']:,}" for run in runs)
    lines = [
        "### Growth with the data (first visits, in-process p50 ms)",
        "",
        "Columns: published remarks. *k*: exponent of *t ∝ n^k* between the two largest "
        "datasets (1 = linear in the remarks, 0 = flat).",
        "",
        f"| page | {header} | × ({big['published']:,} → {bigger['published']:,}) | k |",
        "|---|" + "---:|" * len(runs) + "---:|---:|",
    ]
    for key, by_size in rows.items():
        a, b = by_size.get(big["count"]), by_size.get(bigger["count"])
        ratio = b / a if a and b else None
        k = (
            math.log(ratio) / math.log(bigger["published"] / big["published"])
            if ratio and bigger["published"] > big["published"]
            else None
        )
        cells = " | ".join(_ms(by_size.get(run["count"])) for run in runs)
        lines.append(
            f"| {labels[key]} | {cells} | {'—' if ratio is None else f'{ratio:.1f}'} "
            f"| {'—' if k is None else f'{k:.2f}'} |"
        )
    return [*lines, ""]


def render(runs: list[dict], info: dict[str, str]) -> str:
    lines = [
        f"Generated by `make bench` on {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in info.items()],
        "",
    ]
    for run in runs:
        generated = (
            f"; {run['count']:,} generated in {run['generation_seconds']:.0f} s"
            if run["count"] and run.get("generation_seconds") is not None
            else ""
        )
        loads = ", ".join(f"{step} {load:.1f}" for step, load in run["loads"])
        lines += [
            f"### {run['label']}",
            "",
            f"{run['opinions']:,} remarks in the database, {run['published']:,} published"
            f"{generated}. Measured {run['measured_at']} in {run['minutes']} min; load average "
            f"(1 min) at each step: {loads}.",
            "",
            *_pages(run),
            *_bands(run),
            *_memory(run),
            *_load(run),
        ]
        export = run.get("export")
        if export:
            lines += [
                f"Full CSV export (every remark, staff view): {export['rows']:,} rows, "
                f"{export['megabytes']} MB in {export['seconds']} s, peak RSS "
                f"{export['peak_rss_mb']} MB (process at start {export['rss_before_mb']} MB; "
                "target < 300 MB).",
                "",
            ]
    lines += _growth(runs)
    lines.append(
        f"Targets: pages {PAGE_TARGET_MS} ms and searches {SEARCH_TARGET_MS} ms at p95, first visit."
    )
    return "\n".join(lines)
