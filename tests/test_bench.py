"""A tiny run of the benchmark's code (the benchmark itself runs under make bench)."""

import pytest

from bench import report, server, terms
from bench.measure import (
    band_summary,
    default_pages,
    measure,
    measure_terms,
    percentile,
)
from opinions.generators import generate_opinions

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated(seed):
    generate_opinions(200, seed=1)


@pytest.mark.urls("bench.urls")
def test_first_visits_miss_the_cache_and_are_split_into_sql_and_python(generated):
    pages = {page.name: page for page in default_pages(detail_samples=3, api_terms=["地方"])}
    assert {"list", "list_filtered", "theme_index", "theme_section", "theme_page", "crosstab",
            "detail", "api_list", "api_q", "page_1000", "last_page"} <= set(pages)  # fmt: skip
    chosen = ["list", "theme_section", "detail", "api_q", "last_page", "export_document"]
    series = measure([pages[name] for name in chosen], repetitions=2, warm_repetitions=1)
    by_name = {s.name: s for s in series}
    for s in series:
        summary = s.summary()
        assert summary["samples"] == 2
        # The page's first request after the load is measured, apart from the percentiles.
        assert summary["cold_ms"] == s.cold.ms and s.cold not in s.first
        assert 0 < summary["sql_p50"] < summary["p50"]
        assert summary["queries"] > 0
        if s.name != "export_document":  # (signed in: its first request loads the session)
            # The second first visit was not answered from the cache the first one filled.
            assert s.cold.queries == s.first[0].queries == s.first[1].queries
    for name in ("list", "theme_section", "last_page"):
        assert 0 < by_name[name].summary()["template_p50"] < by_name[name].summary()["python_p50"]
        # ... while the next visitor is: the whole page from the cache, one query.
        assert by_name[name].warm[0].queries < by_name[name].first[0].queries
    assert by_name["api_q"].summary()["template_p50"] == 0  # JSON, no template
    assert by_name["export_document"].first[0].bytes > 100 * 20  # the document's remarks, as CSV
    assert len({url for url in pages["detail"].urls}) == 3  # a different remark each request


def test_terms_are_drawn_from_the_data_by_band_the_same_for_the_same_seed(generated):
    texts = terms.sample_texts()
    drawn = terms.draw(texts, per_band=4, seed=1)
    assert drawn == terms.draw(texts, per_band=4, seed=1)
    assert drawn != terms.draw(texts, per_band=4, seed=2)
    assert {term.band for term in drawn} == set(terms.BANDS)
    for term in drawn:
        words = term.text.split(" ")
        assert len(words) == (2 if term.band == "two-word" else 1)
        assert any(all(word in text for word in words) for text in texts), term
        assert term.share > 0
        if term.band.startswith("2-"):
            assert len(term.text) == 2
            assert (term.share >= terms.FREQUENT_SHARE) == (term.band == "2-frequent")
    queries = terms.pool(texts, drawn, size=300)
    assert len(queries) == len(set(queries)) == 300


@pytest.mark.urls("bench.urls")
def test_searches_are_summarized_per_band_and_rendered(generated):
    texts = terms.sample_texts()
    drawn = terms.draw(texts, per_band=1, seed=1)
    timings = measure_terms(drawn, repetitions=2)
    bands = band_summary(timings)
    assert [band["band"] for band in bands] == list(terms.BANDS)
    for band in bands:
        assert band["samples"] == 2 and 0 <= band["met_every"] <= band["met_median"] <= 1
        assert 0 < band["sql_p50"] < band["p50"]
    pages = measure(default_pages(detail_samples=1)[:1], repetitions=1, warm_repetitions=1)
    run = {
        "label": "test", "count": 200, "opinions": 268, "published": 240, "generation_seconds": 1,
        "measured_at": "now", "minutes": 0.1, "loads": [("start", 0.5)],
        "pages": [p.summary() for p in pages], "bands": bands,
        "terms": [{"text": t.text, "band": t.band, "share": t.share,
                   "samples": [{"ms": s.ms} for s in t.samples]} for t in timings],
        "options": {"term_repetitions": 2, "workers": 2, "connections": 8, "wrk_seconds": 1},
        "export": None, "http": {},
    }  # fmt: skip
    wrk = {"rps": 100.0, "requests": 1000, "p50_ms": 1.0, "p99_ms": 2.0, "max_ms": 3.0,
           "non_2xx": 0, "socket_errors": 0, "timeouts": 0, "distinct": 1}  # fmt: skip
    run["http"] = {"load": {"floor": wrk, "search, new term each request": wrk | {"rps": 10.0},
                            "floor (again)": wrk | {"rps": 0.0, "requests": 0}}}  # fmt: skip
    text = report.render([run, run | {"count": 2000, "published": 2400}], {"CPU": "test"})
    assert "一覧（絞り込みなし）" in text and drawn[0].text in text
    assert "Growth with the data" in text
    # A floor run that answered nothing (a queue left behind) is not the floor.
    assert "| search, new term each request | 10.0 | 10.0 % |" in text


def test_the_load_script_gives_each_request_the_next_path():
    script = server.lua_script(["/a/", "/opinions/?q=%E5%9C%B0"])
    assert '"/opinions/?q=%E5%9C%B0"' in script and "counter * threads + id" in script
    with pytest.raises(ValueError):
        server.lua_script(["/opinions/?q=地方"])  # wrk sends the bytes as given: encode first


def test_wrk_output_is_parsed():
    output = """Running 10s test @ http://127.0.0.1:1/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.20s     1.10s    9.98s    70.00%
    Req/Sec     1.00      0.50     2.00     90.00%
  Latency Distribution
     50%    3.21s
     75%    4.00s
     90%    6.00s
     99%    9.50s
  23 requests in 10.01s, 1.50MB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 1
Requests/sec:      2.30
Transfer/sec:    153.00KB
"""
    assert server.parse_wrk(output) == {
        "rps": 2.3, "requests": 23, "p50_ms": 3210.0, "p99_ms": 9500.0, "max_ms": 9980.0,
        "non_2xx": 1, "socket_errors": 2, "timeouts": 2,
    }  # fmt: skip


def test_percentile_is_nearest_rank():
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 50) == 3.0
    assert percentile(list(map(float, range(1, 21))), 95) == 19.0
    assert percentile([], 95) is None


def test_the_runs_start_gunicorn_with_the_flags_of_make_serve():
    """bench/servers.py's app servers (make outage, make scaleout) run as `make serve` does."""
    from pathlib import Path

    from bench.servers import SERVE_FLAGS

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    recipe = makefile.split("\nserve: install\n", 1)[1].split("\n\n", 1)[0].split()
    for flag, value in zip(SERVE_FLAGS[::2], SERVE_FLAGS[1::2], strict=True):
        assert recipe[recipe.index(flag) + 1] == value, flag
