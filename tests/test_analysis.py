"""The offline text analysis: terms, stored embeddings and neighbours, related remarks,
near-duplicates, theme digests, example-based tag suggestions and the gaps page."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import strip_tags

from opinions import roles
from opinions.analysis import digests, examples, tokenise, vectors
from opinions.analysis.models import RemarkAnalysis, RemarkGroup, ThemeDigest
from opinions.analysis.related import near_duplicates, related_by_meaning
from opinions.models import Opinion
from tests.factories import (
    MunicipalitySizeFactory,
    OpinionFactory,
    StakeholderFactory,
    SubthemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def analysed(seed):
    """The seed with its analysis and digests computed."""
    call_command("analyse", stdout=StringIO())
    return seed


def member_of(group_name):
    user = UserFactory()
    user.groups.add(Group.objects.get(name=group_name))
    return user


# --- Terms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variants", "term"),
    [
        (["引っ越し", "引越し", "引越"], "引っ越し"),
        (["子供", "子ども", "こども"], "子供"),
        (["取り組み", "取組", "取組み"], "取り組み"),
        (["コミュニティ", "コミュニティー"], "コミュニティー"),
    ],
)
def test_spelling_variants_give_one_term(variants, term):
    assert {tuple(tokenise.terms(f"{v}の支援")) for v in variants} == {(term, "支援")}


def test_runs_of_nouns_are_joined_into_compound_terms():
    found = tokenise.terms("関係人口の創出と東京一極集中の是正")
    assert "関係人口" in found and "東京一極集中" in found


def test_function_words_and_generic_words_are_not_terms():
    assert tokenise.terms("そういうことが必要ではないか。") == []


# --- Embeddings and neighbours --------------------------------------------------------


def test_embedding_is_deterministic_and_unit_length():
    first = vectors.embed(["地方の高校の魅力化が必要ではないか。"])[0]
    vectors._recent.clear()
    again = vectors.embed(["地方の高校の魅力化が必要ではないか。"])[0]
    assert (first == again).all()
    assert abs(float(first @ first) - 1) < 1e-5


def test_saved_remark_is_analysed_once_the_transaction_commits(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = OpinionFactory(body="高校生に地域の魅力を伝える教育が必要だ。")
        second = OpinionFactory(body="地元の高校生が地域の魅力を学ぶ機会をつくるべきだ。")
    assert len(callbacks) == 1  # one batch for the whole transaction
    rows = RemarkAnalysis.objects.in_bulk([first.pk, second.pk])
    assert rows[first.pk].method == vectors.METHOD
    assert "高校生" in rows[first.pk].terms
    assert rows[first.pk].related[0][0] == second.pk  # offered to its neighbour too
    assert rows[second.pk].related[0][0] == first.pk


def test_neighbour_lists_hold_published_remarks_only(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        published = OpinionFactory(body="女性の就業を支える仕組みが必要だ。")
        pending = OpinionFactory(
            body="女性の就業を支える仕組みがぜひ必要だ。", status=Opinion.Status.PENDING
        )
    related = RemarkAnalysis.objects.get(pk=published.pk).related
    assert pending.pk not in [entry[0] for entry in related]


def test_seed_measurement_prefers_the_embedding(analysed):
    """The table in the README: by meaning finds the same subtheme more often than bigrams."""
    output = StringIO()
    call_command("analyse", "--evaluate", stdout=output)
    rows = {
        line.split("|")[1].strip(): line.split("|")[2].strip()
        for line in output.getvalue().splitlines()
        if line.startswith("| ") and "%" in line
    }
    assert rows["bigram overlap (today)"] == "24%"
    assert int(rows[vectors.METHOD].rstrip("%")) > 35


def test_coarse_cells_keep_neighbours_of_a_large_corpus():
    """k-means cells: a vector's nearest cell holds its nearest neighbours' region."""
    import numpy as np

    rng = np.random.default_rng(1)
    centres = vectors.normalise(rng.normal(size=(5, vectors.DIMENSIONS)))
    points = vectors.normalise(
        np.repeat(centres, 40, axis=0) + 0.1 * rng.normal(size=(200, vectors.DIMENSIONS))
    )
    centroids = vectors.kmeans(points, 5, seed=0)
    again = vectors.kmeans(points, 5, seed=0)
    assert (centroids == again).all()  # a fixed seed, the same cells
    cells = vectors.cells_for(points, centroids)[:, 0]
    assert len(set(cells.tolist())) == 5
    assert all(len(set(cells[i * 40 : (i + 1) * 40].tolist())) == 1 for i in range(5))


# --- Related remarks on the detail page ----------------------------------------------------


def test_detail_page_lists_related_remarks_by_meaning_with_a_reason(client, analysed):
    opinion = Opinion.objects.get(position=50)
    response = client.get(opinion.get_absolute_url())
    related = response.context["related"]
    assert 1 <= len(related) <= 5 and opinion not in related
    assert all(other.related_reason for other in related)
    html = strip_tags(response.content.decode())
    assert "共通の語：" in html or "共通のタグ：" in html


def test_related_remarks_never_show_what_the_visitor_may_not_open(client, analysed):
    opinion = Opinion.objects.get(position=50)
    nearest = RemarkAnalysis.objects.get(pk=opinion.pk).related[0][0]
    Opinion.objects.filter(pk=nearest).update(status=Opinion.Status.HIDDEN)
    related = related_by_meaning(opinion, Opinion.objects.published())
    assert nearest not in [other.pk for other in related]


def test_detail_page_falls_back_when_not_analysed(client, seed):
    response = client.get(Opinion.objects.get(position=34).get_absolute_url())
    assert response.context["related"]


def test_detail_page_queries_do_not_grow_with_the_corpus(
    client, analysed, django_assert_max_num_queries
):
    url = Opinion.objects.get(position=50).get_absolute_url()
    with django_assert_max_num_queries(25) as small:
        client.get(url)
    theme = Opinion.objects.get(position=50).theme
    OpinionFactory.create_batch(30, theme=theme)
    call_command("analyse", stdout=StringIO())
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


# --- Near-duplicates --------------------------------------------------------------------


def test_near_duplicate_found_whatever_the_database_locale(analysed):
    original = Opinion.objects.get(position=50)
    found = near_duplicates(
        original.body.replace("べきではないか", "べきだ"), visible_to=UserFactory()
    )
    assert [o.pk for o in found] == [original.pk]
    assert found[0].similarity >= 0.8


def test_near_duplicates_never_show_another_members_pending_remark(
    django_capture_on_commit_callbacks,
):
    author, other = UserFactory(), UserFactory()
    body = "地域おこし協力隊の任期後の定着を支援する仕組みが必要ではないか。"
    with django_capture_on_commit_callbacks(execute=True):
        mine = OpinionFactory(body=body, author=author, status=Opinion.Status.PENDING)
    assert near_duplicates(body, visible_to=other) == []
    assert near_duplicates(body, visible_to=author) == [mine]


def test_unrelated_text_has_no_near_duplicate(analysed):
    assert near_duplicates("全く関係のない文章です。", visible_to=UserFactory()) == []


def test_a_near_duplicate_is_found_by_meaning_alone_and_by_wording_alone(analysed, monkeypatch):
    """The two ways candidates are found each suffice: the embedding's neighbours (with no
    remark sharing the text's bigrams looked at) and, for a remark not analysed yet, the
    bigram index (or, on SQLite, the newest remarks)."""
    from opinions.analysis import related

    original = Opinion.objects.get(position=50)
    rephrased = original.body.replace("べきではないか", "べきだ")
    anyone = UserFactory()
    monkeypatch.setattr(related, "WORDING_CANDIDATES", 0)
    assert [o.pk for o in near_duplicates(rephrased, visible_to=anyone)] == [original.pk]
    monkeypatch.undo()
    RemarkAnalysis.objects.filter(opinion=original).delete()
    assert [o.pk for o in near_duplicates(rephrased, visible_to=anyone)] == [original.pk]


def test_the_submission_warning_is_the_same_search(analysed):
    """selectors.near_duplicates (the submission form's) and the analysis' are one
    definition: the same remarks with the same similarity."""
    from opinions import selectors

    original = Opinion.objects.get(position=50)
    rephrased = original.body.replace("べきではないか", "べきだ")
    anyone = UserFactory()
    warned = selectors.near_duplicates(rephrased, Opinion.objects.openable_by(anyone))
    found = near_duplicates(rephrased, visible_to=anyone)
    assert [(o.pk, o.similarity) for o in warned] == [(o.pk, o.similarity) for o in found]
    assert warned[0].pk == original.pk


def test_cells_are_found_chunk_by_chunk_as_from_the_whole_score_matrix(monkeypatch):
    """At a million remarks the whole matrix would not fit in memory: chunks give the same
    cells, nearest first, ties to the lower cell."""
    import numpy as np

    rng = np.random.default_rng(1)
    points = vectors.normalise(rng.standard_normal((2_500, vectors.DIMENSIONS)))
    centroids = vectors.normalise(rng.standard_normal((40, vectors.DIMENSIONS)))
    whole = np.argsort(-(points @ centroids.T), axis=1, kind="stable")
    monkeypatch.setattr(vectors, "CELLS_CHUNK", 1_000)
    assert (vectors.cells_for(points, centroids) == whole[:, :1]).all()
    assert (vectors.cells_for(points, centroids, vectors.PROBE) == whole[:, :4]).all()


def test_neighbours_of_many_texts_at_once_are_those_of_each_alone(analysed):
    texts = [o.body for o in Opinion.objects.order_by("pk")[:12]]
    queries = vectors.embed(texts)
    centroids = vectors.centroids_of(vectors.current_index())
    together = vectors.nearest_each(queries, Opinion.objects.all(), limit=5, centroids=centroids)
    alone = [
        vectors.nearest(q, Opinion.objects.all(), limit=5, centroids=centroids) for q in queries
    ]
    assert [[pk for pk, _ in row] for row in together] == [[pk for pk, _ in row] for row in alone]


# --- Theme digests --------------------------------------------------------------------------


def test_theme_digest_is_stored_with_method_and_version(analysed):
    digest = ThemeDigest.objects.get(theme__slug="jinzai-ikusei")
    assert (digest.method, digest.version) == (vectors.METHOD, digests.VERSION)
    assert digest.remarks == 8
    assert "高校" in [term for term, _weight in digest.keywords]
    assert len(digest.central) == digests.CENTRAL
    groups = list(digest.groups.all())
    assert groups and sorted(pk for g in groups for pk in g.members) == sorted(
        Opinion.objects.in_theme(digest.theme).published().values_list("pk", flat=True)
    )


def test_digest_is_deterministic(analysed):
    before = list(RemarkGroup.objects.values_list("digest__theme_id", "members"))
    call_command("analyse", "--force", stdout=StringIO())
    assert list(RemarkGroup.objects.values_list("digest__theme_id", "members")) == before


def test_theme_page_quotes_central_remarks_verbatim_with_their_number(client, analysed):
    digest = ThemeDigest.objects.get(theme__slug="jinzai-ikusei")
    response = client.get(digest.theme.get_absolute_url())
    html = response.content.decode()
    central = Opinion.objects.get(pk=digest.central[0])
    assert central.body in html
    assert f"意見番号 {central.pk}" in strip_tags(html)
    assert "特徴的な語" in html and "意見のまとまり" in html


def test_theme_page_never_quotes_an_unpublished_remark(client, analysed):
    digest = ThemeDigest.objects.get(theme__slug="jinzai-ikusei")
    hidden = Opinion.objects.get(pk=digest.central[0])
    Opinion.objects.filter(pk=hidden.pk).update(status=Opinion.Status.HIDDEN)
    html = client.get(digest.theme.get_absolute_url()).content.decode()
    assert hidden.body not in html


def test_renamed_group_keeps_its_name_while_the_theme_is_unchanged(analysed):
    group = RemarkGroup.objects.filter(digest__theme__slug="jinzai-ikusei").first()
    group.label = "高校と地元"
    group.save()
    call_command("analyse", stdout=StringIO())
    assert RemarkGroup.objects.get(pk=group.pk).display_label == "高校と地元"


def test_staff_merge_groups_in_the_admin(client, analysed):
    digest = ThemeDigest.objects.get(theme__slug="jinzai-ikusei")
    groups = list(digest.groups.all())
    assert len(groups) >= 2
    client.force_login(_staff())
    response = client.post(
        reverse("admin:opinions_remarkgroup_changelist"),
        {"action": "merge", "_selected_action": [g.pk for g in groups[:2]]},
    )
    assert response.status_code == 302
    merged = digest.groups.get()
    assert len(groups) == 2 and sorted(merged.members) == sorted(
        pk for g in groups for pk in g.members
    )


def _staff():
    user = member_of(roles.SECRETARIAT)
    user.is_staff = True
    user.save()
    return user


def test_theme_page_queries_do_not_grow_with_the_digest(
    client, analysed, django_assert_max_num_queries
):
    url = ThemeDigest.objects.get(theme__slug="jinzai-ikusei").theme.get_absolute_url()
    with django_assert_max_num_queries(25) as small:
        client.get(url)
    theme = ThemeDigest.objects.get(theme__slug="jinzai-ikusei").theme
    OpinionFactory.create_batch(30, theme=theme)
    call_command("analyse", stdout=StringIO())
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


# --- Tag suggestions from examples -------------------------------------------------------


def test_suggest_tags_reports_rules_and_examples_separately(analysed):
    output = StringIO()
    call_command("suggest_tags", "--quiet-opinions", stdout=output)
    text = output.getvalue()
    assert "ルール（" in text and "一つ抜き交差検証" in text
    assert text.count("全体") == 2


def test_examples_vote_for_the_tags_most_neighbours_carry(django_capture_on_commit_callbacks):
    women = StakeholderFactory(name="女性")
    bodies = [
        "女性が働き続けられる職場づくりが地方に必要だ。",
        "地方で女性が活躍できる職場を増やすべきだ。",
        "女性の就業を地方で支えることが大切だ。",
        "地方の女性が働ける場をつくるべきではないか。",
        "女性が地方で仕事を続けられる環境を整えるべきだ。",
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for body in bodies:
            OpinionFactory(body=body).stakeholders.add(women)
    suggested = examples.suggest_for_text("地方で女性が働く場所を増やしたい。")
    assert set(suggested) == {(type(women), women.pk)}
    assert "類似の意見" in suggested[(type(women), women.pk)]


def test_leave_one_out_never_uses_the_remark_itself(django_capture_on_commit_callbacks):
    lone = StakeholderFactory(name="外国人材")
    with django_capture_on_commit_callbacks(execute=True):
        tagged = OpinionFactory(body="外国人材の受入れ")
        tagged.stakeholders.add(lone)
        OpinionFactory(body="高校の魅力化")
    curated = examples.load_examples()
    loo = dict(zip(curated.ids, examples.leave_one_out(curated), strict=True))
    assert (type(lone), lone.pk) not in loo[tagged.pk]  # its own tag is not a vote


# --- Gaps ------------------------------------------------------------------------------


def test_gaps_page_lists_empty_and_thin_cells(client, seed):
    response = client.get(reverse("opinions:gaps"))
    text = strip_tags(response.content.decode())
    assert response.status_code == 200
    assert "人材育成 × 数千人規模の町村" in text
    rows = {(r.theme.short_label, r.size.name): r for r in response.context["rows"]}
    cells = {c.stakeholder.name: c.count for c in rows["人材育成", "小規模自治体"].cells}
    assert cells.get("若者・高校生", 0) == 0 or "若者・高校生" not in cells


def test_gaps_count_a_remark_in_every_pair_of_its_tags(client):
    size = MunicipalitySizeFactory(name="小規模自治体")
    youth, women = StakeholderFactory(name="若者"), StakeholderFactory(name="女性")
    opinion = OpinionFactory(theme=SubthemeFactory())
    opinion.municipality_sizes.add(size)
    opinion.stakeholders.add(youth)
    response = client.get(reverse("opinions:gaps"), {"thin": "0"})
    row = next(r for r in response.context["rows"] if r.size == size)
    assert row.total == 1
    assert [c.stakeholder for c in row.cells] == [women]


@pytest.mark.parametrize("thin", ["x", "-1", "99", ""])
def test_gaps_page_ignores_a_bad_threshold(client, seed, thin):
    response = client.get(reverse("opinions:gaps"), {"thin": thin})
    assert response.status_code == 200 and response.context["thin"] == 0


def test_hidden_remarks_are_not_counted_in_gaps(client):
    size = MunicipalitySizeFactory()
    youth = StakeholderFactory()
    opinion = OpinionFactory(theme=SubthemeFactory(), status=Opinion.Status.HIDDEN)
    opinion.municipality_sizes.add(size)
    opinion.stakeholders.add(youth)
    response = client.get(reverse("opinions:gaps"))
    row = next(r for r in response.context["rows"] if r.size == size)
    assert row.total == 0


# --- The benchmark's synthetic remarks ---------------------------------------------------


def test_synthetic_remarks_are_analysed_sentence_by_sentence(seed):
    """The generator writes without save(); analyse --by-sentence embeds each distinct
    sentence once and a remark as the normalised sum of its sentences."""
    from opinions.generators import generate_opinions, split_sentences

    generate_opinions(30, seed=1)
    call_command("analyse", "--by-sentence", stdout=StringIO())
    assert RemarkAnalysis.objects.count() == Opinion.objects.count()
    synthetic = Opinion.objects.order_by("-pk").first()
    parts = split_sentences(synthetic.body)
    expected = vectors.normalise(vectors.embed(parts).sum(axis=0)[None, :])[0]
    stored = vectors.from_bytes(RemarkAnalysis.objects.get(pk=synthetic.pk).vector)
    assert float(stored @ expected) > 0.999


def test_import_preview_checks_every_text_in_one_batch(analysed):
    from opinions.analysis.related import near_duplicates_of_each

    original = Opinion.objects.get(position=50)
    found = near_duplicates_of_each(
        [original.body, "全く関係のない文章です。"], visible_to=UserFactory()
    )
    assert [[o.pk for o in f] for f in found] == [[original.pk], []]
