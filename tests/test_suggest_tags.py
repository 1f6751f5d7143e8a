"""``manage.py suggest_tags``: rules against curated tags; --apply only ever adds."""

from io import StringIO

import pytest
from django.core.management import call_command

from opinions.models import Opinion, TagSuggestion
from opinions.services import decide_suggestion
from tests.factories import MunicipalitySizeFactory, OpinionFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command("suggest_tags", *args, stdout=out)
    return out.getvalue()


def test_seed_report_lists_each_remark_and_scores_each_tag(seed):
    output = run()
    assert "#1 第１期において" in output
    assert "提案: 小規模自治体" in output
    assert sum(line.startswith("#") for line in output.splitlines()) == 68
    women = next(line for line in output.splitlines() if line.startswith("女性"))
    assert women.split()[1:] == ["4", "4", "4", "100%", "100%"]


def test_apply_records_pending_suggestions_and_changes_no_tag(seed):
    before = {o.pk: set(o.stakeholders.values_list("pk", flat=True)) for o in Opinion.objects.all()}
    output = run("--apply", "--quiet-opinions")
    after = {o.pk: set(o.stakeholders.values_list("pk", flat=True)) for o in Opinion.objects.all()}
    assert before == after  # nothing curated removed, nothing added before approval
    added = TagSuggestion.objects.filter(status=TagSuggestion.Status.PENDING)
    assert added.exists()
    assert f"{added.count()} 件のタグを承認待ちの提案として記録しました" in output


def test_curated_tag_the_rules_miss_is_kept():
    women = StakeholderFactory(name="女性")
    opinion = OpinionFactory(body="規模の話ではない意見。")
    opinion.stakeholders.add(women)
    run("--apply")
    assert list(opinion.stakeholders.all()) == [women]
    assert not TagSuggestion.objects.exists()


def test_apply_suggests_from_rules_and_population_and_never_twice():
    small = MunicipalitySizeFactory(
        name="小規模自治体", min_population=10_000, max_population=50_000
    )
    mayors = StakeholderFactory(name="首長")
    mayors.rules.create(pattern="首長")
    opinion = OpinionFactory(body="人口五万人以下の町の首長が語った。")
    run("--apply")
    assert not opinion.municipality_sizes.exists() and not opinion.stakeholders.exists()
    reasons = set(TagSuggestion.objects.values_list("reason", flat=True))
    assert reasons == {"人口表現「五万人以下」", "「首長」"}

    decide_suggestion(TagSuggestion.objects.get(municipality_size=small), approve=True)
    assert set(opinion.municipality_sizes.all()) == {small}
    rejected = TagSuggestion.objects.get(stakeholder=mayors)
    decide_suggestion(rejected, approve=False)
    assert not opinion.stakeholders.exists()
    run("--apply")  # a rejected suggestion is not made again
    assert not opinion.stakeholders.exists()
    assert TagSuggestion.objects.count() == 2


def test_inactive_tags_are_not_suggested():
    tag = StakeholderFactory(is_active=False)
    tag.rules.create(pattern="女性")
    opinion = OpinionFactory(body="女性の就業")
    run("--apply")
    assert not opinion.stakeholders.exists()


def test_a_pending_suggestion_counts_nowhere_until_approved(client):
    """Public facets (and the count tables behind them) read the remark's tags, which a
    suggestion only changes once approved."""
    from django.urls import reverse

    mayors = StakeholderFactory(name="首長", slug="mayors")
    mayors.rules.create(pattern="首長")
    opinion = OpinionFactory(body="首長の判断が重要だ。")
    run("--apply")
    listed = client.get(reverse("opinions:opinion-list"), {"stakeholder": "mayors"})
    assert listed.context["paginator"].count == 0
    decide_suggestion(TagSuggestion.objects.get(), approve=True)
    listed = client.get(reverse("opinions:opinion-list"), {"stakeholder": "mayors"})
    assert list(listed.context["object_list"]) == [opinion]
    assert opinion.history.latest().stakeholders.count() == 1
