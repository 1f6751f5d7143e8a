"""``manage.py import_summary`` and the service behind it, on the database."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection

from opinions.models import Meeting, Opinion, SourceDocument, Theme
from tests.conftest import SEED_PATH
from tests.factories import CommitteeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def committee():
    return CommitteeFactory(slug="dai2ki")


def run(*args):
    out = StringIO()
    call_command("import_summary", *map(str, args), stdout=out)
    return out.getvalue()


def snapshot():
    """Everything the importer writes, in a comparable form."""
    return (
        list(SourceDocument.objects.values_list("title", "label", "slug")),
        list(
            Theme.objects.order_by("pk").values_list("parent", "level", "name", "position", "slug")
        ),
        list(
            Opinion.objects.order_by("pk").values_list(
                "body", "theme", "position", "status", "updated_at"
            )
        ),
        list(Meeting.objects.values_list("number", flat=True)),
    )


def test_import_writes_the_documents_tree_and_remarks(committee):
    output = run(SEED_PATH, "--meeting", 1, "--meeting", 2)
    document = SourceDocument.objects.get()
    assert (document.title, document.label) == ("第１回、第２回における主なご意見", "参考資料１")
    assert sorted(document.meetings.values_list("number", flat=True)) == [1, 2]
    assert Theme.objects.filter(level=1).count() == 2
    assert Theme.objects.filter(level=2).count() == 14
    assert Theme.objects.filter(level=3).count() == 17
    assert Opinion.objects.published().count() == 68
    assert list(Opinion.objects.values_list("position", flat=True).order_by("position")) == list(
        range(1, 69)
    )
    assert not Opinion.objects.exclude(author=None).exists()
    assert "新規 68" in output


def test_second_import_changes_nothing(committee):
    run(SEED_PATH, "--meeting", 1)
    before = snapshot()
    output = run(SEED_PATH, "--meeting", 1)
    assert snapshot() == before
    assert "変更はありません" in output


def test_crlf_and_bom_file_imports_identically(committee, tmp_path, seed_text):
    variant = tmp_path / "crlf.txt"
    variant.write_bytes(b"\xef\xbb\xbf" + seed_text.replace("\n", "\r\n").encode())
    run(variant)
    before = snapshot()
    assert "変更はありません" in run(SEED_PATH)
    assert snapshot() == before


def test_malformed_file_fails_with_its_line_and_writes_nothing(committee, tmp_path, seed_text):
    broken = tmp_path / "broken.txt"
    lines = seed_text.splitlines()
    lines.insert(200, "【閉じていない章")  # valid content before and after it
    broken.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(CommandError, match="201行目"):
        run(broken)
    assert not SourceDocument.objects.exists()
    assert not Theme.objects.exists()
    assert not Opinion.objects.exists()


def test_failure_inside_the_write_rolls_everything_back(committee, on_postgresql):
    """A database error at the 30th remark leaves no document, theme or remark behind."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION refuse_thirtieth() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'refused by test trigger'; END; $$ LANGUAGE plpgsql;
            CREATE TRIGGER refuse_thirtieth BEFORE INSERT ON opinions_opinion
            FOR EACH ROW WHEN (NEW.position = 30) EXECUTE FUNCTION refuse_thirtieth();
            """
        )
    with pytest.raises(DatabaseError, match="refused by test trigger"):
        run(SEED_PATH, "--meeting", 1)
    assert not SourceDocument.objects.exists()
    assert not Theme.objects.exists()
    assert not Opinion.objects.exists()
    assert not Meeting.objects.exists()


def test_dry_run_prints_the_tree_and_writes_nothing(committee):
    output = run(SEED_PATH, "--dry-run")
    assert "【第２期の検討テーマ（各論）】  22件" in output
    assert "○スポーツ・健康まちづくり  0件" in output
    assert "章 2、テーマ 14、小テーマ 17、意見 68 件" in output
    assert not SourceDocument.objects.exists()


def test_revised_document_updates_and_hides_but_never_deletes(committee, tmp_path):
    first = tmp_path / "v1.txt"
    first.write_text("題名\n【章】\n○Ａ\n・一つ目。\n・二つ目。\n", encoding="utf-8")
    run(first)
    revised = tmp_path / "v2.txt"
    revised.write_text("題名\n【章】\n○Ａ\n・一つ目（修正）。\n", encoding="utf-8")
    output = run(revised)
    assert "修正 1" in output and "非公開化 1" in output
    assert list(Opinion.objects.order_by("position").values_list("body", "status")) == [
        ("一つ目（修正）。", "published"),
        ("二つ目。", "hidden"),
    ]


def test_labels_file_sets_short_labels_and_slugs(committee):
    run(SEED_PATH, "--labels", SEED_PATH.parent / "theme_labels.tsv")
    theme = Theme.objects.get(name="未来技術（Society 5.0等）")
    assert (theme.short_label, theme.slug) == ("未来技術", "mirai-gijutsu")


def test_a_broken_labels_file_names_its_line_and_writes_nothing(committee, tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_text("path\tshort_label\tslug\n【章】\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"labels\.tsv: 2行目: path と short_label"):
        run(SEED_PATH, "--labels", labels)
    assert not Theme.objects.exists()


def test_without_labels_short_labels_are_derived_from_the_heading(committee):
    run(SEED_PATH)
    theme = Theme.objects.get(name="未来技術（Society 5.0等）")
    assert theme.short_label == "未来技術"
    assert Theme.objects.get(name="第１期の地方創生の成果").short_label == "第1期の地方創生の成果"


def test_unknown_committee_is_a_clear_error(committee):
    with pytest.raises(CommandError, match="会議体「nope」がありません"):
        run(SEED_PATH, "--committee", "nope")


def test_missing_file_is_a_clear_error(committee, tmp_path):
    with pytest.raises(CommandError, match="ファイルを読めません"):
        run(tmp_path / "missing.txt")


def test_a_revision_prints_each_remark_with_how_it_was_matched(committee, tmp_path):
    first = tmp_path / "v1.txt"
    first.write_text("題名\n【章】\n○Ａ\n・一つ目の意見。\n・二つ目の意見。\n", encoding="utf-8")
    run(first)
    revised = tmp_path / "v2.txt"
    revised.write_text(
        "題名\n【章】\n○Ａ\n・新しい意見が入った。\n・一つ目の意見。\n○Ｂ\n・二つ目の意見です。\n",
        encoding="utf-8",
    )
    output = run(revised, "--dry-run")
    assert "4行目 新規: 新しい意見が入った。" in output
    assert "7行目 修正・移動（資料内の別の見出しで本文が似ている） 章 › Ａ → 章 › Ｂ" in output
    assert "新規 1、修正 1、移動 1、変更なし 1、非公開化 0" in output
    assert Opinion.objects.count() == 2  # the dry run wrote nothing


def test_the_layout_can_be_given_as_options(committee, tmp_path):
    path = tmp_path / "marks.txt"
    path.write_text("題名\n■総論\n●一行の意見である。\n", encoding="utf-8")
    output = run(path, "--headings", "■", "--bullets", "●")
    assert "構成: ■ › ●" in output
    assert Opinion.objects.get().body == "一行の意見である。"


def test_an_unknown_mark_in_the_options_is_a_clear_error(committee, tmp_path):
    path = tmp_path / "marks.txt"
    path.write_text("題名\n■総論\n●意見。\n", encoding="utf-8")
    with pytest.raises(CommandError, match="「★」は見出しや意見の記号として使えません"):
        run(path, "--headings", "★")
