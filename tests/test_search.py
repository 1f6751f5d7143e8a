"""Japanese search: normalization, AND, phrases, short terms, synonyms, highlighting."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opinions.browsing import search
from opinions.models import Opinion, SynonymGroup
from tests.factories import OpinionFactory

pytestmark = pytest.mark.django_db


def found(raw, groups=()):
    query = search.parse_query(raw, groups)
    return set(search.filter_queryset(Opinion.objects.all(), query).values_list("body", flat=True))


@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("５Ｇの整備", "5G"),
        ("5Gの整備", "５Ｇ"),
        ("ＫＰＩの設定", "kpi"),
        ("KPIの設定", "ｋｐｉ"),
        ("第1期の成果", "第１期"),
        ("第１期の成果", "第1期"),
        ("ＳＤＧｓの推進", "sdgs"),
        ("SDGsの推進", "ＳＤＧＳ"),
    ],
)
def test_width_and_case_are_folded_on_both_sides(stored, typed):
    OpinionFactory(body=stored)
    OpinionFactory(body="関係のない意見")
    assert found(typed) == {stored}


def test_several_terms_must_all_occur():
    OpinionFactory(body="女性の就業と高校")
    OpinionFactory(body="女性の就業")
    OpinionFactory(body="高校の存続")
    assert found("女性 高校") == {"女性の就業と高校"}
    assert found("女性\u3000高校") == {"女性の就業と高校"}  # ideographic space


def test_quoted_phrase_matches_as_a_phrase():
    OpinionFactory(body="地方 創生の話")
    OpinionFactory(body="創生と地方の話")
    assert found('"地方 創生"') == {"地方 創生の話"}
    assert found("「地方 創生」") == {"地方 創生の話"}
    assert found("地方 創生") == {"地方 創生の話", "創生と地方の話"}


@pytest.mark.parametrize("term", ["女性", "高校", "5G", "国"])
def test_one_and_two_character_terms_work(term):
    OpinionFactory(body=f"これは{term}についての意見")
    OpinionFactory(body="関係のない意見")
    assert len(found(term)) == 1


def test_synonyms_find_each_other_and_say_so():
    OpinionFactory(body="地方公共団体の課題")
    OpinionFactory(body="自治体の課題")
    OpinionFactory(body="市町村長の判断")
    groups = [["自治体", "地方公共団体"], ["首長", "市町村長"]]
    assert found("自治体", groups) == {"地方公共団体の課題", "自治体の課題"}
    assert found("地方公共団体", groups) == {"地方公共団体の課題", "自治体の課題"}
    assert found("首長", groups) == {"市町村長の判断"}
    query = search.parse_query("首長 課題", groups)
    assert [term.text for term in query.expansions] == ["首長"]
    assert query.terms[0].alternatives == ("首長", "市町村長")


def test_synonym_groups_are_matched_after_normalization():
    OpinionFactory(body="AIの活用")
    assert found("人工知能", [["ＡＩ", "人工知能"]]) == {"AIの活用"}


def test_like_wildcards_are_literal():
    OpinionFactory(body="100%の達成")
    OpinionFactory(body="100の達成")
    assert found("100%") == {"100%の達成"}
    assert found("_") == set()


def test_over_long_queries_are_cut_and_reported():
    query = search.parse_query("あ" * 10_000)
    assert query.truncated and len(query.terms[0].text) == search.MAX_QUERY_LENGTH
    many = search.parse_query(" ".join(f"語{i}" for i in range(30)))
    assert many.truncated and len(many.terms) == search.MAX_TERMS


def test_relevance_counts_occurrences():
    once = OpinionFactory(body="女性の話")
    thrice = OpinionFactory(body="女性、女性、女性")
    query = search.parse_query("女性")
    ranked = search.with_relevance(search.filter_queryset(Opinion.objects.all(), query), query)
    assert list(ranked.order_by("-relevance")) == [thrice, once]


def test_highlight_escapes_html_around_the_mark():
    query = search.parse_query("女性")
    html = search.highlight('<b>女性</b>と"若者" & <script>', query)
    assert html == "&lt;b&gt;<mark>女性</mark>&lt;/b&gt;と&quot;若者&quot; &amp; &lt;script&gt;"


def test_highlight_maps_folded_matches_back_to_the_original_text():
    query = search.parse_query("5g")
    assert search.highlight("次世代の５Ｇ整備", query) == "次世代の<mark>５Ｇ</mark>整備"
    assert search.highlight(
        "平成㍻の話", search.parse_query("平成")
    ) == "<mark>平成</mark><mark>㍻</mark>の話".replace("</mark><mark>", "")


def test_highlight_cuts_long_text_around_the_first_match():
    text = "あ" * 300 + "女性" + "い" * 300
    html = search.highlight(text, search.parse_query("女性"), width=100)
    assert html.startswith("…") and html.endswith("…")
    assert "<mark>女性</mark>" in html
    assert len(html) < 140


def test_postgresql_narrows_through_the_bigram_index(on_postgresql):
    OpinionFactory(body="女性の就業")
    query = search.parse_query("女性")
    with CaptureQueriesContext(connection) as queries:
        list(search.filter_queryset(Opinion.objects.all(), query))
    assert "opinions_bigrams" in queries[-1]["sql"] and "@>" in queries[-1]["sql"]
    with connection.cursor() as cursor:
        # With a handful of rows any plan is as cheap; rule out the ordered btree scans the
        # list order offers (migration 0007) as well as the sequential scan.
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_indexscan = off")
        sql, params = search.filter_queryset(Opinion.objects.all(), query).query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("SET enable_seqscan = on")
        cursor.execute("SET enable_indexscan = on")
    assert "opinion_search_bigrams_gin" in plan


def test_search_text_follows_the_body():
    opinion = OpinionFactory(body="ＫＰＩ")
    assert opinion.search_text == "kpi"
    opinion.body = "Ｓｏｃｉｅｔｙ５．０"
    opinion.save(update_fields=["body"])
    opinion.refresh_from_db()
    assert opinion.search_text == "society5.0"


def test_starter_synonym_groups_exist():
    words = {word for group in SynonymGroup.objects.all() for word in group.term_list}
    assert {"自治体", "地方公共団体", "首長", "市町村長"} <= words


def test_a_term_narrows_by_any_alternatives_bigrams_then_checks_substrings():
    """(any alternative's bigrams) AND (any alternative's substring): the index answers the
    first part with one scan per alternative; rows are then checked by substring, not by
    recomputing their bigrams, as an OR of (bigrams AND substring) made the planner do."""
    query = search.parse_query("若者", [("若者", "若い世代")])
    condition = search._term_condition(query.terms[0], use_index=True)
    indexed, exact = condition.children
    assert condition.connector == "AND" and indexed.connector == exact.connector == "OR"
    assert {lookup for lookup, _ in indexed.children} == {"search_bigrams__contains"}
    assert exact.children == [
        ("search_text__contains", "若者"),
        ("search_text__contains", "若い世代"),
    ]
    # A one-character alternative has no bigram: substrings only.
    single = search.parse_query("国", [("国", "国家")]).terms[0]
    assert search._term_condition(single, use_index=True).children == [
        ("search_text__contains", "国"),
        ("search_text__contains", "国家"),
    ]
