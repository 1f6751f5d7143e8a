"""Tag suggestions: the population recognizer, keyword rules, and the seed's curated tags."""

import re
from pathlib import Path

import pytest

from opinions.models import MunicipalitySize, Opinion, Stakeholder
from opinions.services import read_tsv
from opinions.tagging import (
    Band,
    Rule,
    Score,
    bands_for_population,
    compile_rule,
    parse_japanese_number,
    recognize_population,
    suggest,
)
from tests.conftest import ROOT

BANDS = [
    Band("small-town", None, 9_999),
    Band("small-municipality", 10_000, 50_000),
    Band("mid-sized-city", 50_001, 199_999),
    Band("core-city", 200_000, 999_999),
    Band("regional-metropolis", 1_000_000, None),
    Band("tokyo-area", None, None),
]


@pytest.mark.parametrize(
    ("text", "band"),
    [
        ("人口５万人以下の自治体", "small-municipality"),  # full-width
        ("人口5万人以下の自治体", "small-municipality"),  # half-width
        ("人口五万人以下の自治体", "small-municipality"),  # kanji
        ("３万人以下の自治体の人口", "small-municipality"),
        ("三万人以下の自治体", "small-municipality"),
        ("人口 10 万人前後の都市", "mid-sized-city"),
        ("人口１０万人前後の都市", "mid-sized-city"),
        ("人口十万人前後の都市", "mid-sized-city"),
        ("数千人規模の町については", "small-town"),
        ("中核市などの圏域の中心", "core-city"),
        ("中枢中核都市よりも", "core-city"),
        ("人口二十万人以上の市", "core-city"),
        ("人口１００万人を超える", "regional-metropolis"),
        ("人口1,000人未満の村", "small-town"),
    ],
)
def test_population_phrases_fall_into_their_band(text, band):
    assert list(bands_for_population(text, BANDS)) == [band]


@pytest.mark.parametrize(
    "text",
    [
        "一人ひとりが",
        "31言語の多言語音声翻訳",
        "８割以上の自治体",
        "東京圏への転出超過",
        "百人一首",
    ],
)
def test_text_without_a_population_figure_gives_no_band(text):
    assert bands_for_population(text, BANDS) == {}


@pytest.mark.parametrize(
    ("text", "number"),
    [("5", 5), ("５万", 50_000), ("五万", 50_000), ("二十万", 200_000), ("百万", 1_000_000),
     ("1万2千", 12_000), ("2.5万", 25_000), ("1,000", 1_000), ("10 万", 100_000), ("x", None)],
)  # fmt: skip
def test_japanese_numbers(text, number):
    assert parse_japanese_number(text) == number


def test_recognizer_reports_the_phrase_and_qualifier():
    [mention] = recognize_population("全国の自治体のうち 70％の自治体は人口５万人以下であるが")
    assert (mention.phrase, mention.population, mention.qualifier) == ("5万人以下", 50_000, "以下")


def test_rules_match_across_width_and_case():
    rules = [Rule("kpi", "ＫＰＩ"), Rule("5g", "5g"), Rule("sdgs", "SDGs")]
    found = suggest("基本目標の kpi と ５Ｇ の整備、ｓｄｇｓ", rules)
    assert set(found) == {"kpi", "5g", "sdgs"}


def test_regex_rules_and_reasons():
    found = suggest("首長のリーダーシップ", [Rule("mayors", "首長|市町村長", is_regex=True)])
    assert found == {"mayors": "「首長」"}


def test_invalid_regex_is_a_clear_error():
    with pytest.raises(ValueError, match="正規表現として正しくありません"):
        compile_rule("(未閉じ", is_regex=True)


def test_score_precision_and_recall():
    score = Score()
    for suggested, curated in [(True, True), (True, False), (False, True), (True, True)]:
        score.add(suggested=suggested, curated=curated)
    assert (score.precision, score.recall) == (2 / 3, 2 / 3)
    assert Score().precision is None


@pytest.mark.django_db
def test_seed_fixture_loads_with_its_curated_tags(seed):
    assert MunicipalitySize.objects.count() == 6
    assert Stakeholder.objects.count() == 18
    women = Opinion.objects.filter(stakeholders__slug="women").values_list("position", flat=True)
    assert sorted(women) == [12, 34, 35, 48]
    assert sorted(
        Opinion.objects.get(position=36).municipality_sizes.values_list("slug", flat=True)
    ) == ["core-city", "mid-sized-city", "regional-metropolis", "tokyo-area"]


@pytest.mark.django_db
def test_curation_file_excerpts_match_the_remarks(seed):
    bodies = dict(Opinion.objects.values_list("position", "body"))
    rows = read_tsv(ROOT / "fixtures" / "source" / "seed_tags.tsv")
    assert [int(row["position"]) for row in rows] == list(range(1, 69))
    for row in rows:
        assert bodies[int(row["position"])].startswith(row["excerpt"]), row["position"]


@pytest.mark.django_db
def test_docs_count_table_matches_the_seed(seed):
    """docs/tagging.md's per-tag table (count and positions) is what the fixture holds."""
    table = re.compile(
        r"^\| `(?P<slug>[a-z-]+)` \|.*\| (?P<count>\d+) \| (?P<positions>[\d, ]+) \|$"
    )
    rows = [
        m
        for line in Path(ROOT / "docs" / "tagging.md").read_text().splitlines()
        if (m := table.match(line))
    ]
    assert len(rows) == 6 + 18
    for row in rows:
        model = (
            MunicipalitySize
            if MunicipalitySize.objects.filter(slug=row["slug"]).exists()
            else Stakeholder
        )
        positions = sorted(
            model.objects.get(slug=row["slug"]).opinions.values_list("position", flat=True)
        )
        assert len(positions) == int(row["count"]), row["slug"]
        assert positions == [int(p) for p in row["positions"].split(",")], row["slug"]


# --- Regular expressions cannot hang a worker -------------------------------------------

CATASTROPHIC = ["(a|aa)+$", "(a+)+$", r"(\w+\s?)+$", "(あ|ああ)+$"]


@pytest.mark.parametrize("pattern", CATASTROPHIC)
def test_a_catastrophically_backtracking_regex_is_refused_on_save(pattern):
    from opinions.tagging import validate_rule

    with pytest.raises(ValueError, match="時間がかかりすぎる"):
        validate_rule(pattern, is_regex=True)


@pytest.mark.parametrize("pattern", ["首長|市町村長", r"人口\d+万", "(小|中)規模", "a+b"])
def test_ordinary_regexes_are_accepted(pattern):
    from opinions.tagging import validate_rule

    validate_rule(pattern, is_regex=True)


@pytest.mark.serial  # timed
def test_a_slow_regex_that_got_in_gives_up_within_the_time_limit(caplog):
    """A rule saved before validation existed (or loaded by a fixture) costs the time
    limit, not minutes, and the other rules still apply."""
    import time

    rules = [Rule("slow", "(a|aa)+$", is_regex=True), Rule("mayors", "首長")]
    started = time.monotonic()
    found = suggest("a" * 5000 + "! 首長", rules)
    assert time.monotonic() - started < 2
    assert found == {"mayors": "「首長」"}
    assert "gave up" in caplog.text


@pytest.mark.django_db
def test_the_admin_refuses_a_slow_regex_with_a_message_next_to_the_field(client):
    from django.contrib.auth.models import Group
    from django.urls import reverse

    from opinions import roles
    from opinions.models import TagRule
    from tests.factories import StakeholderFactory, UserFactory

    administrator = UserFactory(is_staff=True)
    administrator.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    client.force_login(administrator)
    tag = StakeholderFactory()
    response = client.post(
        reverse("admin:opinions_tagrule_add"),
        {"pattern": "(a|aa)+$", "is_regex": "on", "stakeholder": tag.pk, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "時間がかかりすぎる" in response.content.decode()
    assert not TagRule.objects.exists()
