"""Property-based tests (hypothesis): arbitrary input never makes a page, a form or the
importer crash, and valid documents survive a render → parse round trip."""

import re

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from opinions import roles
from opinions.importers import (
    ParsedDocument,
    ParsedNode,
    ParsedOpinion,
    SummaryParseError,
    parse_summary,
    render_summary,
)
from opinions.models import Opinion, Theme
from tests.factories import OpinionFactory, UserFactory

WEB = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,  # the same examples every run, so CI is deterministic
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

PAGES = ["/opinions/", "/themes/", "/themes/sdgs/", "/crosstab/", "/opinions/1/", "/"]
KNOWN_PARAMS = ["q", "theme", "size", "stakeholder", "document", "meeting", "sort", "page", "axis"]
any_text = st.text(max_size=300)
param_names = st.one_of(st.sampled_from(KNOWN_PARAMS), st.text(min_size=1, max_size=20))
params = st.dictionaries(
    param_names, st.one_of(any_text, st.lists(any_text, max_size=3)), max_size=6
)


def no_server_error(response, what):
    assert response.status_code < 500, f"{what}: {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
def test_any_get_parameters_never_give_a_500(path, seed):
    client = Client()

    @WEB
    @given(query=params)
    def check(query):
        no_server_error(client.get(path, query), f"GET {path} {query!r}")

    check()


@pytest.fixture
def member_client(db):
    member = UserFactory()
    member.groups.add(Group.objects.get(name=roles.MEMBER))
    client = Client()
    client.force_login(member)
    return client, member


FORM_FIELDS = ["body", "theme", "municipality_sizes", "stakeholders", "meeting", "token", "step", "accept", "version", "not_duplicate"]  # fmt: skip
form_data = st.dictionaries(
    st.one_of(st.sampled_from(FORM_FIELDS), st.text(min_size=1, max_size=15)),
    st.one_of(any_text, st.lists(any_text, max_size=3), st.integers().map(str)),
    max_size=8,
)


@pytest.mark.django_db
def test_any_post_to_the_submission_form_gives_form_errors_not_a_500(seed, member_client):
    client, _ = member_client

    @WEB
    @given(data=form_data)
    def check(data):
        no_server_error(client.post("/submit/", data), f"POST /submit/ {data!r}")

    check()


@pytest.mark.django_db
def test_any_post_to_the_edit_and_review_forms_never_gives_a_500(seed, member_client):
    client, member = member_client
    own = OpinionFactory(
        author=member, status=Opinion.Status.PENDING, theme=Theme.objects.get(slug="sdgs")
    )
    staff = UserFactory()
    staff.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    reviewer = Client()
    reviewer.force_login(staff)

    @WEB
    @given(data=form_data)
    def check(data):
        no_server_error(client.post(f"/opinions/{own.pk}/edit/", data), f"edit {data!r}")
        review = {
            f"r{own.pk}-{k}" if k in ("action", "version", "comment") else k: v
            for k, v in data.items()
        }
        no_server_error(reviewer.post(f"/review/{own.pk}/", review), f"review {data!r}")

    check()


@pytest.mark.django_db
def test_any_post_to_login_never_gives_a_500(client):
    @WEB
    @given(data=st.dictionaries(st.sampled_from(["username", "password", "next"]), any_text))
    def check(data):
        no_server_error(client.post("/accounts/login/", data), f"login {data!r}")

    check()


# --- The importer -------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=2000))
def test_importer_on_arbitrary_text_gives_a_tree_or_a_clear_error(text):
    try:
        document = parse_summary(text)
    except SummaryParseError as error:
        assert error.line >= 1 and error.message
    else:
        assert document.title and document.sections


markerish = st.sampled_from(list("【】○〇◯＜＞<>〈〉・･"))
importer_lines = st.lists(
    st.one_of(
        st.builds(lambda m, t: m + t, markerish, st.text(max_size=30)),
        st.text(max_size=40),
        st.just("参考資料１"),
        st.just(""),
    ),
    max_size=40,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(importer_lines, st.sampled_from(["\n", "\r\n", "\r"]))
def test_importer_on_marker_soup_never_crashes(lines, newline):
    try:
        parse_summary(newline.join(lines))
    except SummaryParseError as error:
        assert error.line >= 1


# Text that a summary document can hold: Japanese, ASCII letters and digits, inner spaces.
# A blank between two Japanese characters means nothing (it is how letter-spaced PDF text
# comes out, and the importer drops it), so generated text has none; blanks between Latin
# words stay.
_JAPANESE_BLANK = re.compile(r"(?<=[^\x00-\x7f]) +(?=[^\x00-\x7f])")
word = st.text(alphabet=st.sampled_from(list("地方創生人材育成女性若者高校自治体産業連携課題ＫＰＩabcXYZ0123、。（）「」 ")), min_size=1, max_size=30).map(lambda w: _JAPANESE_BLANK.sub("", w).strip()).filter(bool)  # fmt: skip


@st.composite
def documents(draw):
    def heading(prefix, index):
        return f"{draw(word)}{prefix}{index}"  # sibling names stay unique

    def opinions():
        return [ParsedOpinion(draw(word) + "。") for _ in range(draw(st.integers(0, 3)))]

    sections = []
    for s in range(draw(st.integers(1, 3))):
        themes = []
        for t in range(draw(st.integers(0, 3))):
            subthemes = [
                ParsedNode(3, heading("小", u), opinions=opinions())
                for u in range(draw(st.integers(0, 2)))
            ]
            themes.append(ParsedNode(2, heading("題", t), children=subthemes, opinions=opinions()))
        sections.append(ParsedNode(1, heading("章", s), children=themes))
    document = ParsedDocument(
        title="第" + draw(word) + "回における主なご意見", label="参考資料２", sections=sections
    )
    # A valid document has a remark: one that yields none is refused (nothing to import).
    assume(any(True for _ in document.opinions()))
    return document


@settings(max_examples=150, deadline=None, derandomize=True)
@given(documents())
def test_generated_valid_documents_round_trip_exactly(document):
    assert parse_summary(render_summary(document)) == document


@pytest.mark.django_db
def test_any_post_to_password_change_and_the_admin_import_never_gives_a_500(seed):
    from django.urls import reverse

    member = UserFactory()
    member.groups.add(Group.objects.get(name=roles.MEMBER))
    curator = UserFactory(is_staff=True)
    curator.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    as_member, as_curator = Client(), Client()
    as_member.force_login(member)
    as_curator.force_login(curator)
    import_url = reverse("admin:opinions_sourcedocument_import")
    fields = ["old_password", "new_password1", "new_password2", "committee", "meetings", "file", "preview", "step"]  # fmt: skip

    @WEB
    @given(
        data=st.dictionaries(
            st.sampled_from(fields), st.one_of(any_text, st.lists(any_text, max_size=2))
        )
    )
    def check(data):
        no_server_error(as_member.post("/accounts/password_change/", data), f"password {data!r}")
        no_server_error(as_curator.post(import_url, data), f"import {data!r}")

    check()


# --- The admin, and hostile values of every kind -------------------------------------------

# What an attacker sends besides random text: NUL bytes, bytes that are not UTF-8 (sent
# percent-encoded, as a browser would), huge and non-numeric values where ids are expected.
hostile = st.one_of(
    any_text,
    st.sampled_from(["\x00", "a\x00b", "1\x00", "%00", "%ff%fe", "%c3%28", "-1", "0", "1e9",
                     "9" * 40, "abc", "１２", "x" * 10_000, "' OR 1=1 --", "../", "1,2"]),
)  # fmt: skip
ADMIN_LISTS = [
    "/admin/opinions/opinion/",
    "/admin/opinions/theme/",
    "/admin/opinions/stakeholder/",
    "/admin/opinions/tagsuggestion/",
]
ADMIN_LIST_PARAMS = ["q", "o", "p", "status__exact", "theme__id__exact", "source_document__id__exact", "stakeholders__id__exact", "is_active__exact", "level__exact", "_to_field", "e"]  # fmt: skip


@pytest.fixture
def curator_client(db):
    curator = UserFactory(is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(curator)
    return client


@pytest.mark.django_db
def test_any_admin_list_filter_never_gives_a_500(seed, curator_client):
    @WEB
    @given(
        path=st.sampled_from(ADMIN_LISTS),
        query=st.dictionaries(
            st.one_of(st.sampled_from(ADMIN_LIST_PARAMS), st.text(min_size=1, max_size=20)),
            hostile,
            max_size=4,
        ),
    )
    def check(path, query):
        no_server_error(curator_client.get(path, query), f"GET {path} {query!r}")

    check()


@pytest.mark.django_db
def test_any_admin_autocomplete_request_never_gives_a_500(seed, curator_client):
    names = ["term", "app_label", "model_name", "field_name", "page"]

    @WEB
    @given(
        query=st.fixed_dictionaries(
            {"app_label": st.one_of(st.just("opinions"), hostile)},
            optional={
                "model_name": st.one_of(st.sampled_from(["opinion", "tagsuggestion"]), hostile),
                "field_name": st.one_of(st.sampled_from(["theme", "stakeholders"]), hostile),
                "term": hostile,
                "page": hostile,
            },
        )
    )
    def check(query):
        assert set(query) <= set(names)
        no_server_error(curator_client.get("/admin/autocomplete/", query), f"{query!r}")

    check()


@pytest.mark.django_db
def test_any_admin_history_address_never_gives_a_500(seed, curator_client):
    from urllib.parse import quote

    opinion = Opinion.objects.first()
    opinion.save()  # a history record to open
    pk, record = opinion.pk, Opinion.history.filter(id=opinion.pk).first().history_id

    @WEB
    @given(
        model=st.sampled_from(["opinion", "theme", "stakeholder"]),
        object_id=st.one_of(st.just(str(pk)), hostile),
        version=st.one_of(st.just(str(record)), hostile),
    )
    def check(model, object_id, version):
        base = f"/admin/opinions/{model}/{quote(object_id, safe='')}/history/"
        no_server_error(curator_client.get(base), base)
        form = f"{base}{quote(version, safe='')}/"
        no_server_error(curator_client.get(form), form)

    check()


@pytest.mark.django_db
def test_hostile_values_on_the_login_forms_never_give_a_500(client):
    @WEB
    @given(
        path=st.sampled_from(["/accounts/login/", "/admin/login/"]),
        data=st.dictionaries(st.sampled_from(["username", "password", "next"]), hostile),
    )
    def check(path, data):
        no_server_error(client.post(path, data), f"POST {path} {data!r}")

    check()


@pytest.mark.django_db
def test_a_nul_byte_anywhere_is_the_400_page(seed, curator_client):
    for path in ["/themes/%00/", "/opinions/?q=%00", "/admin/opinions/opinion/?q=a%00",
                 "/admin/autocomplete/?term=a&app_label=opinions&model_name=%00&field_name=theme"]:  # fmt: skip
        response = curator_client.get(path)
        assert response.status_code == 400, path
        assert "リクエストが正しくありません" in response.content.decode()
    response = Client().post("/accounts/login/", {"username": "a\x00", "password": "x"})
    assert response.status_code == 400
