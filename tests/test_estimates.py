"""A search finding many remarks shows its total and facets as estimates (「約」), the same
number in the list, a remark's 「n / 約 N 件目」 and the API; a search finding few, and
anything the audience may not see, is counted exactly."""

import random

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opinions.browsing import estimates, facets, search
from opinions.browsing.paging import IdsFirstPaginator
from opinions.browsing.selection import Selection
from opinions.models import Opinion, visible_statuses
from opinions.tagging import normalize
from opinions.templatetags.opinions_extras import approximate
from tests.factories import ThemeFactory

LIST = reverse("opinions:opinion-list")
API = reverse("opinions:api-opinion-list")
# Characters that do not occur in the search terms below, so each body holds exactly the
# terms it was given.
FILLER = "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわ"


def body(rng: random.Random, *terms: str) -> str:
    # Long and varied, so the remarks fill many table pages (the sample takes pages) and
    # compress too little to leave the table.
    words = ["".join(rng.choice(FILLER) for _ in range(12)) for _ in range(20)]
    for term in terms:
        words.insert(rng.randrange(len(words)), term)
    return "、".join(words) + "。"


def create(count: int, *terms: str, status=Opinion.Status.PUBLISHED, seed: int = 0):
    rng = random.Random(seed)
    theme = ThemeFactory()
    rows = []
    for _ in range(count):
        text = body(rng, *terms)
        rows.append(Opinion(body=text, search_text=normalize(text), theme=theme, status=status))
    Opinion.objects.bulk_create(rows)
    return theme


def create_alternating(count: int, *terms: str):
    """``count`` remarks for each of ``terms``, one term after the other, so that every
    page of the table holds each term in proportion: a block sample then estimates them
    near their number whatever pages it draws (remarks of one term in a run of pages
    left the estimate to which pages were drawn)."""
    rng = random.Random(0)
    theme = ThemeFactory()
    rows = []
    for _ in range(count):
        for term in terms:
            text = body(rng, term)
            rows.append(
                Opinion(
                    body=text,
                    search_text=normalize(text),
                    theme=theme,
                    status=Opinion.Status.PUBLISHED,
                )
            )
    Opinion.objects.bulk_create(rows)


@pytest.fixture
def sampled(settings, monkeypatch, on_postgresql):
    """Estimates at a test's scale: a sample of about 60 remarks, exact up to 40 matches,
    a frequent term's total counted exactly within choices of up to 100 remarks."""
    monkeypatch.setattr(estimates, "SAMPLE_ROWS", 60)
    monkeypatch.setattr(estimates, "COUNTED_CHOICES_UP_TO", 100)
    settings.OPINIONS_EXACT_COUNTS_UP_TO = 40


def counted(user, raw: str):
    query = search.parse_query(raw)
    selection = Selection(search=query)
    return facets.list_counts(selection, Opinion.objects.visible_to(user), visible_statuses(user))


@pytest.mark.django_db
def test_a_search_finding_many_remarks_is_estimated_and_labelled(client, sampled):
    create_alternating(300, "防災", "観光")
    response = client.get(LIST, {"q": "防災"})
    total, found = response.context["paginator"].count, response.context["facets"]
    assert found.estimated and response.context["count_estimated"]
    # A sample of about a fifth of the table: the estimate is near the 300, not exact.
    assert 150 <= total <= 450
    html = response.content.decode()
    assert f"{approximate(total)} 件の意見" in html and "標本からの推定" in html
    # The facets say 「約」 too, and no option is disabled for lack of a sampled remark.
    assert all(option.estimated and not option.disabled for option in found["theme"])
    assert "（約 " in html or "（ごく少数）" in html


@pytest.mark.django_db
def test_the_list_the_api_and_a_remarks_pager_show_the_same_estimate(client, sampled):
    create(300, "防災")
    create(300, "観光", seed=1)
    listed = client.get(LIST, {"q": "防災"}).context
    api = client.get(API, {"q": "防災"}).json()
    assert api["count_is_estimate"] is True
    assert api["count"] == listed["paginator"].count
    first = listed["object_list"][0]
    pager = client.get(reverse("opinions:opinion-detail", args=[first.pk]), {"q": "防災"})
    hits = pager.context["hits"]
    assert (hits.total, hits.total_estimated) == (api["count"], True)
    assert f"1 / {approximate(hits.total)} 件目" in pager.content.decode()


def create_spread(count: int, term: str, among: int, other: str):
    """``count`` remarks of ``term`` spread evenly among ``among`` of ``other``: a few
    matches in one run of pages made the estimate depend on whether the sample drew that
    page (12 matches seen 9 times in a page of 60 sampled remarks were estimated at 47)."""
    rng = random.Random(0)
    theme = ThemeFactory()
    step = among // count
    rows = []
    for index in range(among + count):
        text = body(
            rng, term if index % (step + 1) == step and index // (step + 1) < count else other
        )
        rows.append(
            Opinion(
                body=text, search_text=normalize(text), theme=theme, status=Opinion.Status.PUBLISHED
            )
        )
    Opinion.objects.bulk_create(rows)


@pytest.mark.django_db
def test_a_search_finding_few_remarks_is_exact(client, sampled):
    create_spread(12, "防災", among=300, other="観光")
    assert Opinion.objects.filter(search_text__contains="防災").count() == 12
    total, found = counted(AnonymousUser(), "防災")
    assert (total, found.estimated) == (12, False)
    api = client.get(API, {"q": "防災"}).json()
    assert (api["count"], api["count_is_estimate"]) == (12, False)
    assert "12 件の意見" in client.get(LIST, {"q": "防災"}).content.decode()


@pytest.mark.django_db
def test_a_frequent_term_within_narrow_choices_is_counted_exactly_its_facets_estimated(
    client, sampled
):
    create(600, "防災")
    narrow = create(9, "防災", seed=1)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"q": "防災", "theme": narrow.slug})
    # A sample holds too few of these nine to estimate them: they are counted.
    assert response.context["paginator"].count == 9
    # The page is read among the theme's remarks testing their text, not through the
    # bigram index, which would have the planner compute each remark's bigrams.
    assert {o.theme_id for o in response.context["object_list"]} == {narrow.pk}
    page = next(
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "opinions_opinion"."id" AS "pk"')
    )
    assert "STRPOS" in page and "opinions_bigrams" not in page
    assert not response.context["count_estimated"]
    page = response.content.decode()
    assert "9 件の意見" in page and "約 9" not in page
    # The facets count the term in the other themes too: those stay estimates, and say so.
    assert response.context["facets"].estimated
    assert "絞り込みの数は、多くの意見に当たる語のため標本からの推定です" in page
    api = client.get(API, {"q": "防災", "theme": narrow.slug}).json()
    assert (api["count"], api["count_is_estimate"]) == (9, False)
    # Without the choice the same term's total is estimated.
    assert client.get(LIST, {"q": "防災"}).context["count_estimated"]


@pytest.mark.django_db
def test_unpublished_remarks_never_enter_an_estimate(client, sampled):
    # Many pending remarks hold the term, no published one: the sample of what the public
    # may see finds none, so the count is the exact zero.
    create(300, "観光")
    create(300, "非公開語", status=Opinion.Status.PENDING, seed=1)
    total, found = counted(AnonymousUser(), "非公開語")
    assert (total, found.estimated) == (0, False)
    api = client.get(API, {"q": "非公開語"}).json()
    assert (api["count"], api["count_is_estimate"], api["results"]) == (0, False, [])


@pytest.mark.django_db
def test_a_small_table_is_always_counted_exactly(client, settings, on_postgresql):
    settings.OPINIONS_EXACT_COUNTS_UP_TO = 10
    create(200, "防災")
    total, found = counted(AnonymousUser(), "防災")
    # 10,000 rows would be sampled: more than half of the table, so it is all counted.
    assert (total, found.estimated) == (200, False)


@pytest.mark.django_db
def test_an_estimated_page_past_the_real_end_shows_the_real_last_page():
    create(120, "防災")
    rows = Opinion.objects.order_by("pk")
    # The estimate said 400: eight pages of 50; there are three.
    paginator = IdsFirstPaginator(rows, 50, count=400, estimated=True)
    page = paginator.get_page(6)
    assert (page.number, paginator.count, paginator.estimated) == (3, 120, False)
    assert [o.pk for o in page.object_list] == list(rows.values_list("pk", flat=True)[100:])
    assert not page.has_next()


@pytest.mark.django_db
def test_an_estimate_too_low_still_leads_to_the_next_page():
    create(120, "防災")
    rows = Opinion.objects.order_by("pk")
    paginator = IdsFirstPaginator(rows, 50, count=60, estimated=True)  # says two pages
    second = paginator.get_page(2)
    assert second.has_next() and paginator.estimated  # a third follows: still an estimate
    third = paginator.get_page(3)
    assert (len(third.object_list), paginator.count, third.has_next()) == (20, 120, False)


def test_estimates_read_as_estimates(settings):
    settings.LANGUAGE_CODE = "ja"
    assert approximate(513_211) == "約 51万"
    assert approximate(61_499) == "約 6.1万"
    assert approximate(4_678) == "約 4,700"
    assert approximate(0) == "ごく少数"
    assert approximate(4_678, False) == 4_678


def test_the_first_pages_of_a_frequent_search_are_read_in_order():
    public, staff = ["published"], ["published", "pending", "hidden"]
    # 5 % of the remarks: page 1 is met within about a thousand rows of the order index.
    assert estimates.read_in_order(0.05, page=1, per_page=50, sort="document", statuses=public)
    assert estimates.read_in_order(0.05, page=1, per_page=50, sort="document", statuses=staff)
    assert estimates.read_in_order(0.05, page=1, per_page=50, sort="newest", statuses=public)
    # Deep pages, the relevance order, and counts with no share known use the index, and
    # so does the newest order over several statuses, which no index gives.
    assert not estimates.read_in_order(
        0.05, page=100, per_page=50, sort="document", statuses=public
    )
    assert not estimates.read_in_order(0.05, page=1, per_page=50, sort="relevance", statuses=public)
    assert not estimates.read_in_order(None, page=1, per_page=50, sort="document", statuses=public)
    assert not estimates.read_in_order(0.05, page=1, per_page=50, sort="newest", statuses=staff)
    # Within narrow choices any page, in any order: the walk cannot leave their remarks.
    narrow = {"statuses": staff, "within": estimates.COUNTED_CHOICES_UP_TO}
    assert estimates.read_in_order(1e-5, page=300, per_page=50, sort="relevance", **narrow)
    assert not estimates.read_in_order(
        1e-5, page=1, per_page=50, sort="document", statuses=staff, within=10**6
    )


@pytest.mark.django_db
def test_a_frequent_search_pages_along_the_order_with_the_same_remarks(client, sampled):
    create(300, "防災")
    create(300, "観光", seed=1)
    published = Opinion.objects.filter(
        status=Opinion.Status.PUBLISHED, search_text__contains="防災"
    )
    expected = list(published.in_document_order().values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        api = client.get(API, {"q": "防災"}).json()
        listed = client.get(LIST, {"q": "防災", "page": "2"}).context["object_list"]
    assert [item["id"] for item in api["results"]] == expected[:50]
    assert [opinion.pk for opinion in listed] == expected[50:100]
    # The pages' ids read in the list's order, testing the text: not through the bigram index.
    pages = [query["sql"] for query in queries.captured_queries if "LIMIT" in query["sql"]]
    assert pages and not any("opinions_bigrams" in sql for sql in pages)


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["document", "newest"])
def test_two_frequent_terms_are_walked_in_the_order_asked_for(client, sampled, sort):
    """Two terms each on most remarks: the page is read in the list's order, each remark's
    text tested (strpos, which the planner does not take for rare as it does two LIKEs),
    and holds the same remarks as the order gives."""
    create(200, "防災", "観光")
    create(200, "観光", seed=1)
    both = Opinion.objects.filter(status=Opinion.Status.PUBLISHED, search_text__contains="防災")
    ordered = both.order_by("-created_at", "-pk") if sort == "newest" else both.in_document_order()
    expected = list(ordered.values_list("pk", flat=True))
    with CaptureQueriesContext(connection) as queries:
        listed = client.get(LIST, {"q": "防災 観光", "sort": sort}).context["object_list"]
    assert [opinion.pk for opinion in listed] == expected[:50]
    page = next(q["sql"] for q in queries.captured_queries if 'AS "pk"' in q["sql"])
    assert page.count("STRPOS") == 2 and "opinions_bigrams" not in page and " LIKE " not in page


@pytest.mark.django_db
def test_an_exact_count_of_a_large_share_is_paged_along_the_order(client, sampled):
    """Counted exactly (few matches), yet 7 % of the remarks: the page is met early in
    the list's order, so it is read there rather than through the bigram index."""
    create_spread(24, "防災", among=300, other="観光")
    expected = list(
        Opinion.objects.filter(status=Opinion.Status.PUBLISHED, search_text__contains="防災")
        .in_document_order()
        .values_list("pk", flat=True)
    )
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST, {"q": "防災"})
    assert (response.context["paginator"].count, response.context["count_estimated"]) == (24, False)
    assert [opinion.pk for opinion in response.context["object_list"]] == expected
    page = next(q["sql"] for q in queries.captured_queries if 'AS "pk"' in q["sql"])
    assert "STRPOS" in page and "opinions_bigrams" not in page
