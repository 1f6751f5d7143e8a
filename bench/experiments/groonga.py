"""The same searches in Groonga (Debian's ``groonga-bin``), a dedicated full-text engine.

Every remark (its ``search_text``, status and the count tables' key: theme, size and
stakeholder ids, document, meeting) is loaded into a Groonga database of its own under
artifacts/bench/groonga/, the full-text index (bigrams, ``TokenBigramSplitSymbolAlphaDigit``
so that Latin letters and digits are split like kanji, with positions for phrases) built
after the load. Then for each term the benchmark draws: one ``select`` with the published
filter, the first 50 in document order and five drilldowns (theme, sizes, stakeholders,
document, meeting) — what the list page needs — with Groonga's query cache off; its
server-side elapsed time, and its total against the exact count in PostgreSQL.

pg_bigm and PGroonga (PostgreSQL extensions) are not packaged by Debian 12, so they are
not measured here.

``python -m bench.experiments.groonga [--per-band 30] [--keep]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess

from . import common

DB = common.ROOT / "artifacts" / "bench" / "groonga"
SCHEMA = [
    "table_create Remarks TABLE_NO_KEY",
    "column_create Remarks pg_id COLUMN_SCALAR UInt64",
    "column_create Remarks text COLUMN_SCALAR LongText",
    "column_create Remarks status COLUMN_SCALAR ShortText",
    "column_create Remarks theme COLUMN_SCALAR UInt32",
    "column_create Remarks sizes COLUMN_VECTOR UInt32",
    "column_create Remarks stakeholders COLUMN_VECTOR UInt32",
    "column_create Remarks document COLUMN_SCALAR UInt32",
    "column_create Remarks position COLUMN_SCALAR UInt32",
    "column_create Remarks meeting COLUMN_SCALAR UInt32",
]
INDEX = [
    "table_create Bigrams TABLE_PAT_KEY ShortText --default_tokenizer"
    " TokenBigramSplitSymbolAlphaDigit --normalizer NormalizerAuto",
    "column_create Bigrams remarks_text COLUMN_INDEX|WITH_POSITION Remarks text",
]


class Groonga:
    """A ``groonga DB`` process taking commands on stdin, one JSON answer per line."""

    def __init__(self, path):
        self.process = subprocess.Popen(
            ["groonga", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def send(self, command: str, body: str | None = None):
        self.process.stdin.write(command + "\n")
        if body is not None:
            self.process.stdin.write(body)
        self.process.stdin.flush()
        answer = json.loads(self.process.stdout.readline())
        header = answer[0] if isinstance(answer[0], list) else answer
        if header[0] != 0:
            raise RuntimeError(f"{command[:80]}: {answer}")
        return header, answer[1] if isinstance(answer[0], list) else None

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def groonga_query(query) -> str:
    """The portal's parsed query in Groonga's query syntax: every term (AND), any of its
    alternatives (OR), each a phrase."""
    parts = []
    for term in query.terms:
        alternatives = " OR ".join(_quote(a) for a in term.alternatives)
        parts.append(f"({alternatives})" if len(term.alternatives) > 1 else alternatives)
    return " ".join(parts)


def load(groonga: Groonga, batch: int = 20000) -> int:
    """Every remark into Remarks, in batches of ``batch`` rows."""
    from django.db import connection

    loaded = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM opinions_opinion")
        [(last,)] = cursor.fetchall()
    start = 0
    while start <= (last or 0):
        rows = common.rows(
            "SELECT id, search_text, status, theme_id, size_ids, stakeholder_ids,"
            " coalesce(source_document_id, 0), coalesce(position, 0), coalesce(meeting_id, 0)"
            " FROM opinions_opinion WHERE id > %s AND id <= %s",
            [start, start + batch],
        )
        start += batch
        if not rows:
            continue
        values = json.dumps(
            [
                {"pg_id": r[0], "text": r[1], "status": r[2], "theme": r[3], "sizes": r[4],
                 "stakeholders": r[5], "document": r[6], "position": r[7], "meeting": r[8]}
                for r in rows
            ],
            ensure_ascii=False,
        )  # fmt: skip
        _header, count = groonga.send("load --table Remarks", values + "\n")
        loaded += count[0] if isinstance(count, list) else count
    return loaded


def select(groonga: Groonga, query: str) -> tuple[float, int]:
    header, body = groonga.send(
        "select Remarks --match_columns text --query "
        + _quote(query)
        + " --filter 'status == \"published\"' --limit 50 --sort_keys document,position,_id"
        " --output_columns pg_id --drilldown theme,sizes,stakeholders,document,meeting"
        " --drilldown_limit -1 --cache no"
    )
    return header[2] * 1000, body[0][0][0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-band", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="keep the Groonga database")
    args = parser.parse_args()
    common.setup()
    from opinions.models import Opinion

    from .estimates import _matching

    before = common.load_average()
    shutil.rmtree(DB, ignore_errors=True)
    DB.mkdir(parents=True)
    subprocess.run(["groonga", "-n", str(DB / "db"), "status"], check=True, capture_output=True)
    groonga = Groonga(DB / "db")
    for command in SCHEMA:
        groonga.send(command)
    with common.timer() as loading:
        loaded = load(groonga)
    with common.timer() as indexing:
        for command in INDEX:
            groonga.send(command)
    disk = sum(f.stat().st_size for f in DB.iterdir()) / 2**20
    exact = {}
    estimates = common.OUTPUT / "estimates.json"
    if estimates.exists():
        exact = {r["text"]: r["exact"] for r in json.loads(estimates.read_text())["results"]}
    results = []
    for term in common.drawn_terms(args.per_band):
        matching, query = _matching(term.text)
        if term.text not in exact:
            exact[term.text] = matching.count()
        elapsed, total = select(groonga, groonga_query(query))
        again, _total = select(groonga, groonga_query(query))
        results.append(
            {"text": term.text, "band": term.band, "ms": elapsed, "again_ms": again,
             "total": total, "exact": exact[term.text]}
        )  # fmt: skip
    groonga.close()
    data = {
        "load": [before, common.load_average()],
        "rows": loaded,
        "remarks": Opinion.objects.count(),
        "load_s": loading.ms / 1000,
        "index_s": indexing.ms / 1000,
        "disk_mb": disk,
        "results": results,
    }
    if not args.keep:
        shutil.rmtree(DB, ignore_errors=True)
    common.save("groonga", data)
    print(report(data))


def report(data: dict) -> str:
    from bench.terms import BANDS

    lines = [
        f"{data['rows']:,} remarks loaded in {data['load_s']:.0f} s, the index built in "
        f"{data['index_s']:.0f} s; {data['disk_mb']:,.0f} MB on disk.",
        "",
        "| band | terms | matches p50 | select p50 ms | p95 | max | same query again p50 "
        "| totals equal to PostgreSQL's |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for band, label in BANDS.items():
        rows = [r for r in data["results"] if r["band"] == band]
        if not rows:
            continue
        times = [r["ms"] for r in rows]
        lines.append(
            f"| {label} | {len(rows)} | {common.median(r['exact'] for r in rows):,.0f} "
            f"| {common.ms(common.median(times))} | {common.ms(common.p(times, 95))} "
            f"| {common.ms(max(times))} | {common.ms(common.median(r['again_ms'] for r in rows))} "
            f"| {sum(r['total'] == r['exact'] for r in rows)} of {len(rows)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
