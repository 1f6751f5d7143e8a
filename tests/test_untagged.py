"""規模を問わない and 関係者の指定なし: the remarks without a tag of a kind, as a facet value
like the tags, in the charts and the cross-tab; the cross-tab's totals, scope and exports;
what a list that finds nothing proposes."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from opinions.browsing.selection import list_url
from opinions.models import Meeting, Opinion, SourceDocument
from tests.factories import MunicipalitySizeFactory, OpinionFactory, StakeholderFactory
from tests.pages import fresh_get
from tests.test_browsing import facet

LIST = reverse("opinions:opinion-list")
CROSSTAB = reverse("opinions:crosstab")


def published():
    return Opinion.objects.published()


def test_the_size_facet_offers_the_remarks_without_a_size(client, seed):
    response = client.get(LIST, {"stakeholder": "women"})
    option = facet(response, "size")["_none"]
    assert (option.label, option.count) == ("規模を問わない", 3)  # 3 of the 4 女性 remarks
    assert '<label for="id_size_7">規模を問わない' in response.content.decode()


def test_the_stakeholder_facet_offers_the_remarks_without_a_stakeholder(client, seed):
    response = client.get(LIST, {"stakeholder": "_none"})
    expected = published().filter(stakeholders=None).count()
    assert response.context["paginator"].count == expected > 0
    option = facet(response, "stakeholder")["_none"]
    assert (option.label, option.count, option.selected) == ("関係者の指定なし", expected, True)


def test_untagged_is_an_alternative_like_any_other_size(client, seed):
    params = {"stakeholder": "women", "size": ["small-municipality", "_none"]}
    response = client.get(LIST, params)
    assert response.context["paginator"].count == 3
    chips = {value: url for _facet, value, url, _lang in response.context["chips"]}
    assert "規模を問わない" in chips
    assert fresh_get(client, LIST + chips["規模を問わない"]).context["paginator"].count == 0


def test_an_untagged_remark_is_counted_once_it_gets_a_tag_no_more(client, db):
    size = MunicipalitySizeFactory()
    bare, tagged = OpinionFactory(), OpinionFactory()
    tagged.municipality_sizes.add(size)
    assert facet(client.get(LIST), "size")["_none"].count == 1
    bare.municipality_sizes.add(size)
    assert facet(client.get(LIST), "size")["_none"].count == 0


def test_theme_page_charts_have_a_bar_for_the_untagged(client, seed):
    theme = Opinion.objects.get(position=1).theme.parent.parent
    summary = fresh_get(client, theme.get_absolute_url()).context["summary"]
    bar = summary.size_bars[-1]
    assert bar.label == "規模を問わない" and bar.url == list_url(theme=theme.slug, size="_none")
    assert bar.count == fresh_get(client, bar.url).context["paginator"].count > 0
    assert summary.stakeholder_bars[-1].label == "関係者の指定なし"


# --- The cross-tab ---------------------------------------------------------------------


def cells_of(table, row_slug):
    return next(cells for head, cells in table.rows if head.theme.slug == row_slug)


def test_crosstab_has_an_untagged_column_totals_and_shares(client, seed):
    response = client.get(CROSSTAB, {"axis": "size"})
    table = response.context["table"]
    assert table.columns[-1].name == "規模を問わない"
    count, url = cells_of(table, "dai1ki-kensho")[-1]
    assert count == fresh_get(client, url).context["paginator"].count > 0
    assert table.total == published().count()
    assert table.column_totals[-1] == published().filter(municipality_sizes=None).count()
    row_total = table.row_totals[[head.theme.slug for head, _ in table.rows].index("dai1ki-kensho")]
    assert (
        row_total == fresh_get(client, LIST, {"theme": "dai1ki-kensho"}).context["paginator"].count
    )
    html = response.content.decode()
    assert f'{count}<span class="heat__share"> {round(100 * count / row_total)}%</span>' in html
    assert "<tfoot>" in html


def test_crosstab_can_count_one_document_or_one_meeting(client, seed):
    OpinionFactory(meeting=Meeting.objects.get(number=2), theme=Opinion.objects.first().theme)
    document = SourceDocument.objects.get()
    whole = fresh_get(client, CROSSTAB).context["table"].total
    only_document = fresh_get(client, CROSSTAB, {"document": document.slug}).context["table"]
    assert only_document.total == whole - 1 == published().filter(source_document=document).count()
    count, url = next(cell for _, cells in only_document.rows for cell in cells if cell[0])
    assert fresh_get(client, url).context["filter"].form.cleaned_data["document"] == document
    assert fresh_get(client, url).context["paginator"].count == count
    meeting = client.get(CROSSTAB, {"meeting": Meeting.objects.get(number=2).pk})
    assert meeting.context["table"].total == whole
    bad = client.get(CROSSTAB, {"document": "no-such"})
    assert bad.status_code == 200 and bad.context["table"].total == whole


def test_size_by_stakeholder_crosstab(client, seed):
    response = client.get(CROSSTAB, {"axis": "size-stakeholder"})
    assert response.status_code == 200
    table = response.context["table"]
    sizes = [head.slug for head, _cells in table.rows]
    assert sizes[-1] == "_none" and table.columns[-1].slug == "_none"
    women = [tag.slug for tag in table.columns].index("women")
    cells = dict(zip(sizes, (cells[women] for _, cells in table.rows), strict=True))
    assert cells["small-municipality"][0] == 0 and cells["_none"][0] == 3
    assert fresh_get(client, cells["_none"][1]).context["paginator"].count == 3
    assert table.total == published().count()


@pytest.mark.parametrize("axis", ["stakeholder", "size", "size-stakeholder"])
def test_crosstab_exports_as_csv_and_xlsx_with_totals(client, seed, axis):
    response = client.get(reverse("opinions:crosstab-export-csv"), {"axis": axis})
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    table = fresh_get(client, CROSSTAB, {"axis": axis}).context["table"]
    assert rows[0][-1] == "合計" and rows[-1][0] == "合計"
    assert rows[-1][-1] == str(table.total)
    assert len(rows) == len(table.rows) + 2
    xlsx = client.get(reverse("opinions:crosstab-export-xlsx"), {"axis": axis})
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[-1][-1] == table.total and values[0][1:-1] == tuple(
        str(column.name) for column in table.columns
    )


# --- A list that finds nothing ------------------------------------------------------------


def test_a_list_that_finds_nothing_proposes_the_nearest_queries_with_counts(client, seed):
    response = client.get(LIST, {"stakeholder": "women", "size": "small-municipality"})
    assert response.context["paginator"].count == 0
    proposed = {near.value: near for near in response.context["suggestions"]}
    untagged = proposed["規模を問わない"]
    assert untagged.count == 3
    assert fresh_get(client, LIST + untagged.url).context["paginator"].count == 3
    for near in response.context["suggestions"]:
        assert fresh_get(client, LIST + near.url).context["paginator"].count == near.count
    assert "条件を一つ変えると見つかる意見" in response.content.decode()


def test_a_search_that_finds_nothing_proposes_dropping_the_keyword(client, seed):
    response = client.get(LIST, {"q": "存在しない語", "stakeholder": "women"})
    url, count = response.context["without_search"]
    assert count == 4 == fresh_get(client, f"{LIST}{url}").context["paginator"].count


def test_a_list_with_results_proposes_nothing(client, db):
    OpinionFactory().stakeholders.add(StakeholderFactory())
    assert "suggestions" not in fresh_get(client, LIST).context
