"""The list's filters come from one registry (opinions/browsing/axes.py): an axis added
there filters the list, is counted, keys the cache and shows as a chip, with no other code
to change."""

import datetime
from dataclasses import dataclass

import django_filters
import pytest
from django.contrib.auth.models import AnonymousUser

from opinions.browsing import counts, facets
from opinions.browsing.axes import AXES, Axis, Chip
from opinions.browsing.filters import OpinionFilter
from opinions.models import Opinion, visible_statuses

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class SinceAxis(Axis):
    """Remarks received on or after a date: not in the count tables, so counted live."""

    countable = False

    def filter(self):
        return django_filters.DateFilter(label=self.label)

    def apply(self, queryset, choice: datetime.date):
        return queryset.filter(created_at__date__gte=choice)

    def chips(self, choice, url_with):
        return [Chip(str(self.label), choice.isoformat(), url_with(since=None), "")]


@pytest.fixture
def with_since(monkeypatch):
    monkeypatch.setitem(AXES, "since", SinceAxis("since", "受付日から"))

    class Filter(OpinionFilter):  # its filters are read from the registry as it is now
        pass

    return Filter


def test_an_axis_added_to_the_registry_filters_counts_keys_and_shows(seed, with_since):
    published = Opinion.objects.published()
    tomorrow = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
    later = with_since({"since": tomorrow, "stakeholder": "women"}, queryset=published)
    earlier = with_since({"since": "2000-01-01", "stakeholder": "women"}, queryset=published)

    assert later.qs.count() == 0
    assert earlier.qs.count() == published.filter(stakeholders__slug="women").count() > 0

    selection = later.selection()
    assert selection.scope(visible_statuses(AnonymousUser())) is None  # not countable: counted live
    total, options = facets.list_counts(selection, published, visible_statuses(AnonymousUser()))
    assert total == 0
    # The other facets are counted with the new axis applied too.
    assert sum(option.count for option in options.stakeholder) == 0
    assert facets.list_counts(earlier.selection(), published)[0] == earlier.qs.count()

    assert ("since", tomorrow) in selection.key()
    assert selection.key() != earlier.selection().key()
    assert Chip("受付日から", tomorrow, "?stakeholder=women", "") in selection.chips()
    assert later.parameters()["since"] == 1  # the page cache reads it


def test_the_count_tables_key_has_a_column_per_tag_axis():
    for axis in AXES.values():
        if getattr(axis, "column", None):
            assert axis.column in counts.KEY.split(", ")


def test_an_invalid_value_of_an_axis_is_dropped_and_reported(seed, with_since):
    filterset = with_since({"since": "not-a-date"}, queryset=Opinion.objects.published())
    assert filterset.qs.count() == Opinion.objects.published().count()
    assert filterset.selection().chosen("since") is None
    assert any("受付日から" in notice for notice in filterset.notices)
