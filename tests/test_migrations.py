"""Data migrations, run on a database built in the state they were written for."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from opinions.models import TagSuggestion
from opinions.services import add_tag, decide_suggestion
from tests.factories import MunicipalitySizeFactory, OpinionFactory, StakeholderFactory
from tests.pages import fresh_get

# Migrations run outside a test's transaction (SQLite's schema editor refuses to run inside
# one); the data the migrations made (groups, permissions) is restored afterwards.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PENDING_SUGGESTIONS = ("opinions", "0022_pending_suggestions")


def migrate(target):
    """Run the app's migrations back or forward to ``target`` (a fresh graph each time, as
    ``manage.py migrate`` would build it)."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()


@pytest.fixture
def back_to_latest():
    """Whatever a test migrated to, the database ends at the latest migration."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def previous(migration):
    executor = MigrationExecutor(connection)
    (parent,) = executor.loader.graph.node_map[migration].parents
    return parent.key


def stakeholder_facet(client) -> dict:
    response = fresh_get(client, reverse("opinions:opinion-list"))
    return {option.value: option.count for option in response.context["facets"].stakeholder}


def test_pending_suggestions_recorded_the_old_way_stop_counting(client, back_to_latest):
    """Before suggestions waited for approval, ``suggest_tags --apply`` put the tag on at
    once: the migration takes those tags off (the public facet stops counting them), keeps
    the suggestion pending so approval puts the tag back, and leaves alone a tag a curator
    added by hand and the tag of an approved suggestion."""
    migrate(previous(PENDING_SUGGESTIONS))
    mayors = StakeholderFactory(name="首長", slug="mayors")
    towns = MunicipalitySizeFactory(name="町村", slug="towns")
    old_way = OpinionFactory(body="町の首長の判断が重要だ。", status="published")
    old_way.municipality_sizes.add(towns)  # curated
    old_way.stakeholders.add(mayors)  # what apply_suggestions did then, then recorded:
    suggestion = TagSuggestion.objects.create(
        opinion=old_way, stakeholder=mayors, reason="「首長」"
    )
    by_hand = OpinionFactory(body="首長と議会の役割。", status="published")
    TagSuggestion.objects.create(opinion=by_hand, stakeholder=mayors, reason="「首長」")
    add_tag([by_hand], mayors)  # a curator tagged it while the suggestion waited
    approved = OpinionFactory(body="首長のリーダーシップ。", status="published")
    decide_suggestion(
        TagSuggestion.objects.create(opinion=approved, stakeholder=mayors), approve=True
    )
    assert stakeholder_facet(client)["mayors"] == 3

    migrate(PENDING_SUGGESTIONS)

    assert stakeholder_facet(client)["mayors"] == 2
    assert set(mayors.opinions.all()) == {by_hand, approved}
    if connection.vendor == "postgresql":
        call_command("rebuild_counts", "--check")  # the triggers kept the count tables exact
    latest = old_way.history.latest()
    assert latest.history_change_reason.startswith("承認待ちのタグ提案を外しました")
    assert not latest.stakeholders.exists()
    assert [tag.municipalitysize for tag in latest.municipality_sizes.all()] == [towns]
    assert set(old_way.municipality_sizes.all()) == {towns}
    suggestion.refresh_from_db()
    assert suggestion.status == TagSuggestion.Status.PENDING
    decide_suggestion(suggestion, approve=True)
    assert stakeholder_facet(client)["mayors"] == 3


def test_the_venue_table_is_filled_from_the_finer_one_whatever_it_held(
    back_to_latest, on_postgresql
):
    """Earlier migrations load today's counts.sql, so a database may come to 0025 with the
    venue table already kept by the triggers: filled on top of that, it counted twice."""
    venue_count = ("opinions", "0025_venue_count")
    migrate(previous(venue_count))
    OpinionFactory.create_batch(3, status="published")
    migrate(venue_count)
    call_command("rebuild_counts", "--check")  # all three tables equal a rebuild
