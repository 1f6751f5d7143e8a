"""Synthetic remarks for benchmarks: realistic, deterministic, loaded in bulk."""

from collections import Counter

import pytest
from django.core.management import call_command

from opinions.generators import Corpus, generate_opinions, split_sentences
from opinions.models import Opinion
from opinions.tagging import normalize


def test_the_corpus_is_the_seeds_curated_remarks():
    corpus = Corpus.from_fixture()
    assert len(corpus.templates) == 68
    assert sum(template.sentences for template in corpus.templates) == len(corpus.sentences)
    assert Counter(bool(t.sizes) for t in corpus.templates)[True] == 18  # as curated
    assert split_sentences("一つ目。二つ目。三つ目") == ["一つ目。", "二つ目。", "三つ目"]


def _snapshot():
    return list(
        Opinion.objects.exclude(source_document__slug__startswith="参考資料")
        .order_by("pk")
        .values_list("body", "theme__slug", "status", "position")
    )


@pytest.mark.django_db
def test_generated_remarks_look_like_the_seed(seed):
    created = generate_opinions(200, seed=7)
    generated = Opinion.objects.filter(source_document__committee__slug="synthetic-benchmark") | (
        Opinion.objects.filter(meeting__committee__slug="synthetic-benchmark")
    )
    assert created == generated.count() == 200
    statuses = Counter(generated.values_list("status", flat=True))
    assert statuses["published"] > 150 and statuses["pending"] + statuses["hidden"] > 0
    sentences = set(Corpus.from_fixture().sentences)
    for opinion in generated[:50]:
        assert opinion.search_text == normalize(opinion.body)
        assert all(part in sentences for part in split_sentences(opinion.body))
    tagged = generated.filter(stakeholders__isnull=False).distinct().count()
    assert 80 < tagged < 200  # the seed tags most remarks with a stakeholder, not all
    # Positions continue within each synthetic document; the constraint holds.
    assert generated.filter(source_document__isnull=False, position__isnull=True).count() == 0


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_remarks(seed):
    generate_opinions(50, seed=3)
    first = [row[:3] for row in _snapshot()]
    Opinion.objects.filter(source_document__committee__slug="synthetic-benchmark").delete()
    Opinion.objects.filter(meeting__committee__slug="synthetic-benchmark").delete()
    generate_opinions(50, seed=3)
    assert [row[:3] for row in _snapshot()] == first


@pytest.mark.django_db
def test_the_command_refuses_without_the_seed_themes(capsys):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="load_seed"):
        call_command("generate_opinions", "--count", "5", "--no-progress")
