"""fixtures/seed.json: the committee's document, as the importer reads it."""

import pytest

from opinions.importers import parse_summary
from opinions.models import Committee, Meeting, Opinion, SourceDocument, Theme

pytestmark = pytest.mark.django_db


def test_seed_fixture_loads_the_whole_document(seed):
    assert (
        Committee.objects.get().name
        == "第2期「まち・ひと・しごと創生総合戦略」策定に関する有識者会議"
    )
    assert list(Meeting.objects.values_list("number", flat=True)) == [1, 2]
    document = SourceDocument.objects.get()
    assert (document.title, document.label) == ("第１回、第２回における主なご意見", "参考資料１")
    assert document.meetings.count() == 2
    assert [Theme.objects.filter(level=level).count() for level in (1, 2, 3)] == [2, 14, 17]
    assert Opinion.objects.published().count() == 68


def test_seed_fixture_texts_equal_the_documents_bullets(seed, seed_text):
    parsed = [(node.name, item.body) for node, item in parse_summary(seed_text).opinions()]
    stored = [
        (opinion.theme.name, opinion.body)
        for opinion in Opinion.objects.select_related("theme").in_document_order()
    ]
    assert stored == parsed


def test_seed_fixture_has_curated_short_labels(seed):
    labels = set(Theme.objects.values_list("short_label", flat=True))
    assert {"第1期評価", "人材育成", "未来技術", "SDGs"} <= labels
    assert Theme.objects.filter(slug="", short_label="").count() == 0


def test_seed_themes_come_out_in_document_order(seed, seed_text):
    expected = [node.name for node in parse_summary(seed_text).nodes()]
    assert [theme.name for theme in Theme.objects.in_tree_order()] == expected


def test_load_seed_leaves_existing_data_alone(seed):
    from io import StringIO

    from django.core.management import call_command

    Theme.objects.filter(slug="sdgs").update(short_label="持続可能な開発目標")
    out = StringIO()
    call_command("load_seed", stdout=out)
    assert "省略" in out.getvalue()
    assert Theme.objects.get(slug="sdgs").short_label == "持続可能な開発目標"
