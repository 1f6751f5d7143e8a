"""Cached counts never outlive a change: every write renews the data version."""

import threading
import time
from collections import OrderedDict

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from opinions import services
from opinions.browsing import caching
from opinions.models import Opinion, SourceDocument, Stakeholder, Theme
from tests.factories import (
    MeetingFactory,
    OpinionFactory,
    SourceDocumentFactory,
    StakeholderFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LIST = reverse("opinions:opinion-list")


@pytest.fixture
def data():
    theme = ThemeFactory(slug="jinzai")
    women = StakeholderFactory(slug="women", name="女性")
    opinions = OpinionFactory.create_batch(3, theme=theme, body="女性の就業")
    for opinion in opinions:
        opinion.stakeholders.add(women)
    return theme, women, opinions


def counts(client, **params):
    response = client.get(LIST, params)
    # The tags' options only, not the one of the remarks without a stakeholder.
    facets = {
        o.value: o.count for o in response.context["facets"].stakeholder if o.value != "_none"
    }
    return response.context["paginator"].count, facets


def test_a_second_request_is_served_from_the_cache(client, data):
    client.get(LIST)
    with CaptureQueriesContext(connection) as first:
        client.get(LIST, {"q": "女性"})
    with CaptureQueriesContext(connection) as second:
        client.get(LIST, {"q": "女性"})
    assert len(second.captured_queries) < len(first.captured_queries)


def test_every_write_renews_the_data_version(data):
    theme, women, opinions = data
    writes = [
        lambda: opinions[0].save(),
        lambda: Opinion.objects.filter(pk=opinions[0].pk).update(status="hidden"),
        lambda: opinions[1].stakeholders.remove(women),
        lambda: Stakeholder.objects.filter(pk=women.pk).update(name="女性たち"),
        lambda: theme.save(),
        lambda: Opinion.objects.filter(pk=opinions[2].pk).delete(),
    ]
    for write in writes:
        before = caching.data_version()
        write()
        assert caching.data_version() != before


def test_a_status_change_shows_at_once_in_count_and_facets(client, data):
    _theme, _women, opinions = data
    assert counts(client, q="女性") == (3, {"women": 3})
    services.set_status([opinions[0]], Opinion.Status.HIDDEN)
    assert counts(client, q="女性") == (2, {"women": 2})


def test_a_bulk_update_that_sends_no_signal_is_seen_too(client, data):
    assert counts(client)[0] == 3
    Opinion.objects.update(status=Opinion.Status.PENDING)
    assert counts(client) == (0, {"women": 0})


def test_a_tag_change_shows_at_once(client, data):
    _theme, women, opinions = data
    youth = StakeholderFactory(slug="youth")
    assert counts(client, stakeholder="women") == (3, {"women": 3, "youth": 0})
    services.add_tag(opinions[:2], youth)
    services.remove_tag([opinions[0]], women)
    # A facet's own options are counted without its selection: youth is on two remarks.
    assert counts(client, stakeholder="women") == (2, {"women": 2, "youth": 2})
    html = client.get(LIST).content.decode()
    Stakeholder.objects.filter(pk=women.pk).update(name="女性（改称）")
    assert "女性（改称）" not in html and "女性（改称）" in client.get(LIST).content.decode()


def test_theme_pages_and_crosstab_follow_a_change(client, data):
    theme, women, _opinions = data
    index = reverse("opinions:theme-index")
    crosstab = reverse("opinions:crosstab")

    def theme_count():
        return {n.theme.pk: n.count for n in client.get(index).context["nodes"]}[theme.pk]

    def women_cell():
        table = client.get(crosstab).context["table"]
        row = next(cells for node, cells in table.rows if node.theme.pk == theme.pk)
        return row[[t.pk for t in table.columns].index(women.pk)][0]

    summary = client.get(theme.get_absolute_url()).context["summary"]
    assert (theme_count(), women_cell(), summary.node.count) == (3, 3, 3)
    OpinionFactory(theme=theme).stakeholders.add(women)
    summary = client.get(theme.get_absolute_url()).context["summary"]
    assert (theme_count(), women_cell(), summary.node.count) == (4, 4, 4)


def test_the_facets_names_are_read_once_per_data_version_and_follow_curation(client, data):
    """The vocabularies (themes, tags, documents, meetings) are cached like the counts: a new
    search reads none of their tables again, and a document retitled, a meeting given to it
    or a theme renamed shows in the facets on the next page."""
    theme, _women, opinions = data
    document = SourceDocumentFactory(title="第１回の主なご意見")
    Opinion.objects.filter(pk=opinions[0].pk).update(source_document=document, position=1)

    def options(**params):
        facets = client.get(LIST, params).context["facets"]
        return {name: {o.value: (o.label, o.count) for o in facets[name]} for name in facets}

    assert options()["document"][document.slug] == ("参考資料１「第１回の主なご意見」", 1)
    with CaptureQueriesContext(connection) as queries:
        client.get(LIST, {"q": "就業"})
    vocabulary_tables = ("opinions_sourcedocument", "opinions_meeting", "opinions_stakeholder")
    assert not [q for q in queries.captured_queries if q["sql"].startswith(
        tuple(f'SELECT "{table}"' for table in vocabulary_tables)
    )]  # fmt: skip

    meeting = MeetingFactory(committee=document.committee, number=3)
    document.meetings.add(meeting)
    SourceDocument.objects.filter(pk=document.pk).update(title="第１回・第３回の主なご意見")
    Theme.objects.filter(pk=theme.pk).update(short_label="人材（改称）")
    found = options(q="就業")
    assert found["document"][document.slug] == ("参考資料１「第１回・第３回の主なご意見」", 1)
    assert found["meeting"][str(meeting.pk)] == (f"{meeting.committee.name} 第3回", 1)
    assert found["theme"][theme.slug][0] == "人材（改称）"


def test_staff_and_public_counts_are_cached_apart(client, data):
    _theme, _women, opinions = data
    services.set_status([opinions[0]], Opinion.Status.PENDING)
    assert counts(client)[0] == 2
    staff = UserFactory()
    staff.user_permissions.add(Permission.objects.get(codename="view_unpublished_opinion"))
    client.force_login(staff)
    assert counts(client)[0] == 3
    author = UserFactory()
    Opinion.objects.filter(pk=opinions[0].pk).update(author=author)
    client.force_login(author)
    assert counts(client)[0] == 2  # their own pending remark is on マイページ, not in lists
    client.logout()
    assert counts(client)[0] == 2


def test_a_cache_that_is_down_slows_pages_but_never_breaks_them(client, data, settings):
    settings.CACHES = {
        **settings.CACHES,
        "broken": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        },
    }
    settings.OPINIONS_CACHE = "broken"
    assert counts(client) == (3, {"women": 3})


# --- Whole pages for anonymous visitors ---------------------------------------------------


@pytest.fixture
def page_cache(settings):
    settings.OPINIONS_PAGE_CACHE = True


def test_an_anonymous_page_is_rendered_once_per_data_version(client, data, page_cache):
    first = client.get(LIST, {"q": "女性"})
    with CaptureQueriesContext(connection) as queries:
        second = client.get(LIST, {"q": "女性"})
    assert second.content == first.content
    assert len(queries.captured_queries) == 1  # the data version, nothing else


@pytest.mark.parametrize(
    "url",
    [
        lambda theme, opinion: LIST,
        lambda theme, opinion: opinion.get_absolute_url(),
        lambda theme, opinion: reverse("opinions:theme-index"),
        lambda theme, opinion: theme.get_absolute_url(),
        lambda theme, opinion: reverse("opinions:crosstab"),
    ],
)
def test_no_cached_page_survives_a_change(client, data, page_cache, url):
    theme, _women, opinions = data
    address = url(theme, opinions[0])
    assert "人材（改称）" not in client.get(address).content.decode()
    Theme.objects.filter(pk=theme.pk).update(name="人材（改称）", short_label="人材（改称）")
    assert "人材（改称）" in client.get(address).content.decode()


def test_signed_in_users_and_notices_are_never_served_a_shared_page(client, data, page_cache):
    client.get(LIST, {"stakeholder": "nope"})
    again = client.get(LIST, {"stakeholder": "nope"}).content.decode()
    assert "「nope」は見つからないため無視しました" in again  # rendered for this request
    anonymous = client.get(LIST).content.decode()
    user = UserFactory(username="tanaka")
    client.force_login(user)
    page = client.get(LIST).content.decode()
    assert page != anonymous and "ログアウト" in page and "ログアウト" not in anonymous


def test_the_process_memory_is_safe_for_a_worker_s_threads(settings, monkeypatch):
    """make serve runs threads (gthread): looking up, adding and evicting entries of the
    per-process memory at once from several threads never fails or loses its bound."""

    class SwitchingDict(OrderedDict):
        """Lets another thread run right after each lookup, where a race would bite."""

        def get(self, key, default=None):
            value = super().get(key, default)
            time.sleep(0)
            return value

    monkeypatch.setattr(caching, "_local", SwitchingDict())
    settings.OPINIONS_LOCAL_CACHE_ENTRIES = 3
    errors = []

    def churn(offset):
        try:
            for step in range(5_000):
                key = f"k{(step + offset) % 7}"
                if caching._recall(key) is caching._MISSING:
                    caching._remember(key, step)
        except Exception as error:  # any failure in a thread is the finding
            errors.append(error)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(caching._local) <= 3
