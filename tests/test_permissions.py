"""The permission matrix: every URL × anonymous / 委員 / another 委員 / 事務局 / 管理者, and
unpublished remarks never reaching anyone who may not see them."""

import uuid

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from opinions import roles, services
from opinions.models import Opinion, Response, ResponseCategory, Theme
from opinions.responses import services as response_services
from tests.factories import UserFactory
from tests.pages import fresh_get

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "member", "other_member", "secretariat", "administrator"]
SECRET = "非公開にすべき秘密の内容です"


@pytest.fixture
def world(seed):
    def user(name, group, **extra):
        account = UserFactory(username=name, **extra)
        account.groups.add(Group.objects.get(name=group))
        return account

    users = {
        "anonymous": None,
        "member": user("member", roles.MEMBER),
        "other_member": user("other_member", roles.MEMBER),
        "secretariat": user("secretariat", roles.SECRETARIAT, is_staff=True),
        "administrator": user("administrator", roles.ADMINISTRATOR, is_staff=True),
    }
    theme = Theme.objects.get(slug="sdgs")
    remarks = {}
    for status in ("pending", "returned", "withdrawn", "hidden"):
        opinion, _ = services.submit_opinion(
            author=users["member"],
            token=uuid.uuid4(),
            body=f"{SECRET}（{status}）",
            theme=theme,
        )
        Opinion.objects.filter(pk=opinion.pk).update(status=status)
        remarks[status] = Opinion.objects.get(pk=opinion.pk)
    remarks["published"] = Opinion.objects.get(position=1)
    remarks.update(answered(users))
    return users, remarks


DRAFT_REASONING = "まだ公開していない考え方です"
MEMO = "課長だけが知る内部メモです"


def answered(users):
    """A draft, a confirmed and a published response (each with a memo) on published remarks."""
    writer = users["secretariat"]
    checker = UserFactory(username="checker", is_staff=True)
    checker.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    made = {}
    for position, state in ((2, "draft"), (3, "confirmed"), (4, "published")):
        remark = Opinion.objects.get(position=position)
        response = response_services.group_remarks(remarks=[remark], by=writer)
        reasoning = f"{DRAFT_REASONING}（{state}）" if state != "published" else "公開した考え方"
        response = response_services.save_response(
            response.pk,
            by=writer,
            expected_version=Response.objects.get(pk=response.pk).version,
            category=ResponseCategory.objects.get(slug="future-study"),
            reasoning=reasoning,
            memo=f"{MEMO}（{state}）",
            references=[],
        )
        if state != "draft":
            response = response_services.confirm_response(
                response.pk, by=checker, expected_version=response.version
            )
        if state == "published":
            response = response_services.publish_response(
                response.pk, by=checker, expected_version=response.version
            )
        made[f"{state}_response"] = response
        made[f"{state}_answered"] = remark
    return made


def url_table(remarks):
    """(name, method, url, {role: expected status})."""
    ok = dict.fromkeys(ROLES, 200)
    login = "login"  # a redirect to the login page
    member_only = {
        "anonymous": login,
        "member": 200,
        "other_member": 200,
        "secretariat": 403,
        "administrator": 200,
    }
    # Another member cannot open the remark, so for them it does not exist (404, not a 403
    # that would tell which ids hold unpublished remarks); staff may open it but not edit it.
    author_only = {
        "anonymous": login,
        "member": 200,
        "other_member": 404,
        "secretariat": 403,
        "administrator": 403,
    }
    staff_only = {
        "anonymous": login,
        "member": 403,
        "other_member": 403,
        "secretariat": 200,
        "administrator": 200,
    }
    exporter = {"anonymous": login, "member": 403, "other_member": 403, "secretariat": 200, "administrator": 200}  # fmt: skip
    admin_site = {
        "anonymous": login,
        "member": login,
        "other_member": login,
        "secretariat": 200,
        "administrator": 200,
    }
    pending, published = remarks["pending"], remarks["published"]
    return [
        ("home", "get", "/", dict.fromkeys(ROLES, 302)),
        ("theme index", "get", reverse("opinions:theme-index"), ok),
        ("theme", "get", reverse("opinions:theme-detail", args=["sdgs"]), ok),
        ("cross-tab", "get", reverse("opinions:crosstab"), ok),
        ("list", "get", reverse("opinions:opinion-list"), ok),
        ("published detail", "get", published.get_absolute_url(), ok),
        ("pending detail", "get", pending.get_absolute_url(),
         {"anonymous": 404, "member": 200, "other_member": 404, "secretariat": 200, "administrator": 200}),
        ("hidden detail", "get", remarks["hidden"].get_absolute_url(),
         {"anonymous": 404, "member": 200, "other_member": 404, "secretariat": 200, "administrator": 200}),
        ("submit", "get", reverse("opinions:submit"), member_only),
        ("submit done", "get", reverse("opinions:submit-done", args=[pending.pk]),
         {"anonymous": login, "member": 200, "other_member": 404, "secretariat": 404, "administrator": 404}),
        ("mypage", "get", reverse("opinions:mypage"),
         {"anonymous": login, "member": 200, "other_member": 200, "secretariat": 200, "administrator": 200}),
        ("edit", "get", reverse("opinions:opinion-edit", args=[pending.pk]), author_only),
        ("edit published", "get", reverse("opinions:opinion-edit", args=[published.pk]),
         {"anonymous": login, "member": 403, "other_member": 403, "secretariat": 403, "administrator": 403}),
        ("withdraw", "get", reverse("opinions:opinion-withdraw", args=[pending.pk]), author_only),
        ("edit returned", "get", reverse("opinions:opinion-edit", args=[remarks["returned"].pk]), author_only),
        ("edit hidden", "get", reverse("opinions:opinion-edit", args=[remarks["hidden"].pk]),
         {"anonymous": login, "member": 403, "other_member": 404, "secretariat": 403, "administrator": 403}),
        ("withdraw hidden", "get", reverse("opinions:opinion-withdraw", args=[remarks["hidden"].pk]),
         {"anonymous": login, "member": 403, "other_member": 404, "secretariat": 403, "administrator": 403}),
        ("withdraw withdrawn", "post", reverse("opinions:opinion-withdraw", args=[remarks["withdrawn"].pk]),
         {"anonymous": login, "member": 403, "other_member": 404, "secretariat": 403, "administrator": 403}),
        ("edit missing", "get", reverse("opinions:opinion-edit", args=[999999]),
         {"anonymous": login, "member": 404, "other_member": 404, "secretariat": 404, "administrator": 404}),
        ("review queue", "get", reverse("opinions:review-queue"), staff_only),
        # An empty decision is shown again with its errors in the queue (200).
        ("review action", "post", reverse("opinions:review-action", args=[pending.pk]),
         {"anonymous": login, "member": 403, "other_member": 403, "secretariat": 200, "administrator": 200}),
        ("bulk publish", "post", reverse("opinions:review-bulk-publish"),
         {"anonymous": login, "member": 403, "other_member": 403, "secretariat": 302, "administrator": 302}),
        ("save search", "post", reverse("opinions:saved-search-create"),
         {"anonymous": login, "member": 302, "other_member": 302, "secretariat": 302, "administrator": 302}),
        ("unknown feed", "get", "/searches/feed/00000000-0000-0000-0000-000000000000/",
         dict.fromkeys(ROLES, 404)),
        ("admin", "get", reverse("admin:index"), admin_site),
        ("admin remarks", "get", reverse("admin:opinions_opinion_changelist"), admin_site),
        ("admin add tag", "get", reverse("admin:opinions_stakeholder_add"),
         {"anonymous": login, "member": login, "other_member": login, "secretariat": 403, "administrator": 200}),
        ("admin delete remark", "get", reverse("admin:opinions_opinion_delete", args=[published.pk]),
         {"anonymous": login, "member": login, "other_member": login, "secretariat": 403, "administrator": 403}),
        ("admin tokens", "get", reverse("admin:knox_authtoken_changelist"),
         {"anonymous": login, "member": login, "other_member": login, "secretariat": 403, "administrator": 200}),
        ("login", "get", reverse("login"), ok),
        ("password change", "get", reverse("password_change"),
         {"anonymous": login, "member": 200, "other_member": 200, "secretariat": 200, "administrator": 200}),
        ("healthz", "get", "/healthz", ok),
        ("export csv", "get", reverse("opinions:opinion-export-csv"), exporter),
        ("export xlsx", "get", reverse("opinions:opinion-export-xlsx"), exporter),
        ("summary docx", "get", reverse("opinions:summary-docx"), exporter),
        ("summary text", "get", reverse("opinions:summary-text"), exporter),
        ("api list", "get", reverse("opinions:api-opinion-list"), ok),
        ("api published", "get", reverse("opinions:api-opinion-detail", args=[published.pk]), ok),
        ("api pending", "get", reverse("opinions:api-opinion-detail", args=[pending.pk]),
         {"anonymous": 404, "member": 200, "other_member": 404, "secretariat": 200, "administrator": 200}),
        # Staff open a withdrawn remark's page, and so its API record; nobody else.
        ("withdrawn detail", "get", remarks["withdrawn"].get_absolute_url(),
         {"anonymous": 404, "member": 200, "other_member": 404, "secretariat": 200, "administrator": 200}),
        ("api withdrawn", "get", reverse("opinions:api-opinion-detail", args=[remarks["withdrawn"].pk]),
         {"anonymous": 404, "member": 200, "other_member": 404, "secretariat": 200, "administrator": 200}),
        ("api themes", "get", reverse("opinions:api-theme-list"), ok),
        ("api tags", "get", reverse("opinions:api-tags"), ok),
        ("api schema", "get", reverse("opinions:api-schema"), ok),
        ("response workbench", "get", reverse("opinions:response-workbench"), staff_only),
        ("response workbench theme", "get", reverse("opinions:response-workbench") + "?theme=sdgs", staff_only),
        ("response edit", "get", remarks["draft_response"].get_absolute_url(), staff_only),
        ("response published edit", "get", remarks["published_response"].get_absolute_url(), staff_only),
        ("response bulk", "post", reverse("opinions:response-bulk"),
         {"anonymous": login, "member": 403, "other_member": 403, "secretariat": 302, "administrator": 302}),
        ("response remove remark", "post",
         # a confirmed response keeps its remarks (refused with a message), so the matrix can go on
         reverse("opinions:response-remove-remark", args=[remarks["confirmed_response"].pk, remarks["confirmed_answered"].pk]),
         {"anonymous": login, "member": 403, "other_member": 403, "secretariat": 302, "administrator": 302}),
        ("response export docx", "get", reverse("opinions:response-export-docx"), exporter),
        ("response export xlsx", "get", reverse("opinions:response-export-xlsx"), exporter),
        ("api responses", "get", reverse("opinions:api-response-list"), ok),
        ("api published response", "get",
         reverse("opinions:api-response-detail", args=[remarks["published_response"].pk]), ok),
        ("api draft response", "get",
         reverse("opinions:api-response-detail", args=[remarks["draft_response"].pk]),
         {"anonymous": 404, "member": 404, "other_member": 404, "secretariat": 200, "administrator": 200}),
        ("admin responses", "get", reverse("admin:opinions_response_changelist"), admin_site),
        ("admin add category", "get", reverse("admin:opinions_responsecategory_add"),
         {"anonymous": login, "member": login, "other_member": login, "secretariat": 403, "administrator": 200}),
    ]  # fmt: skip


def test_permission_matrix(client, world):
    users, remarks = world
    failures = []
    for name, method, url, expected_by_role in url_table(remarks):
        for role in ROLES:
            client.logout()
            if users[role]:
                client.force_login(users[role])
            response = getattr(client, method)(url)
            expected = expected_by_role[role]
            if expected == "login":
                got_login = response.status_code == 302 and "login" in response.url
                if not got_login:
                    failures.append(
                        f"{name} as {role}: {response.status_code}, expected login redirect"
                    )
            elif response.status_code != expected:
                failures.append(f"{name} as {role}: {response.status_code}, expected {expected}")
    assert failures == []


PUBLIC_PAGES = [
    "/opinions/",
    "/opinions/?q=%E7%A7%98%E5%AF%86",  # 秘密
    "/opinions/?theme=sdgs",
    "/themes/",
    "/themes/sdgs/",
    "/themes/dai2ki-theme/",
    "/crosstab/",
    "/crosstab/?axis=size",
]


@pytest.mark.parametrize("role", ["anonymous", "member", "other_member"])
def test_unpublished_remarks_appear_nowhere_for_those_who_may_not_see_them(client, world, role):
    users, _remarks = world
    if users[role]:
        client.force_login(users[role])
    for url in PUBLIC_PAGES:
        response = client.get(url)
        html = response.content.decode()
        assert (
            "（pending）" not in html and "（hidden）" not in html and "（returned）" not in html
        ), url
        assert "（withdrawn）" not in html, url
        if "paginator" in (response.context or {}):
            visible = response.context["paginator"].count
            assert (
                visible
                == Opinion.objects.published()
                .filter(pk__in=response.context["filter"].qs.values("pk"))
                .count()
            )
    # Counts: SDGs has 3 published remarks; the 4 unpublished ones are not counted anywhere.
    assert fresh_get(client, "/themes/sdgs/").context["summary"].node.count == 3
    facets = fresh_get(client, "/opinions/").context["facets"]
    assert next(o for o in facets.theme if o.value == "sdgs").count == 3
    index = {n.theme.slug: n.count for n in fresh_get(client, "/themes/").context["nodes"]}
    assert index["sdgs"] == 3 and index["dai2ki-theme"] == 22


@pytest.mark.parametrize("role", ["anonymous", "member", "other_member"])
def test_unpublished_remarks_are_not_in_the_api(client, world, role):
    users, _remarks = world
    if users[role]:
        client.force_login(users[role])
    listing = client.get(reverse("opinions:api-opinion-list"), {"page_size": 200}).json()
    assert listing["count"] == 68
    assert all(SECRET not in item["body"] for item in listing["results"])
    searched = client.get(reverse("opinions:api-opinion-list"), {"q": "秘密"}).json()
    assert searched["count"] == 0
    themes = str(client.get(reverse("opinions:api-theme-list")).json())
    assert SECRET not in themes


def test_exports_for_the_secretariat_hold_unpublished_but_not_withdrawn(client, world):
    users, _remarks = world
    client.force_login(users["secretariat"])
    csv_text = b"".join(
        client.get(reverse("opinions:opinion-export-csv"), {"theme": "sdgs"}).streaming_content
    ).decode("utf-8-sig")
    assert "（pending）" in csv_text and "（withdrawn）" not in csv_text


def test_secretariat_lists_unpublished_but_never_withdrawn(client, world):
    users, _remarks = world
    client.force_login(users["secretariat"])
    html = client.get("/opinions/?theme=sdgs").content.decode()
    assert "（pending）" in html and "（hidden）" in html and "（returned）" in html
    assert "（withdrawn）" not in html
    assert client.get("/themes/sdgs/").context["summary"].node.count == 6


# --- The submission preview's near-duplicate warning ----------------------------------------


def near_copy_of(remark) -> str:
    return f"{remark.body}。"


@pytest.mark.parametrize("role", ["other_member"])
def test_the_duplicate_warning_never_shows_another_members_unpublished_remark(client, world, role):
    """委員 B typing text close to 委員 A's pending remark sees neither its text, its status
    nor its theme in the confirmation step."""
    users, remarks = world
    client.force_login(users[role])
    for status in ("pending", "returned", "hidden"):
        response = client.post(
            reverse("opinions:submit"),
            {
                "body": near_copy_of(remarks[status]),
                "theme": remarks[status].theme_id,
                "token": str(uuid.uuid4()),
                "step": "confirm",
            },
        )
        assert response.status_code == 200
        assert response.context["duplicates"] == []
        html = response.content.decode()
        assert "よく似た意見がすでにあります" not in html
        assert "確認待ち" not in html


@pytest.mark.parametrize("role", ["member", "administrator"])
def test_the_duplicate_warning_shows_remarks_the_user_may_open(client, world, role):
    """The author is warned about their own pending remark, and so is a 管理者 (who may
    open every remark)."""
    users, remarks = world
    client.force_login(users[role])
    response = client.post(
        reverse("opinions:submit"),
        {
            "body": near_copy_of(remarks["pending"]),
            "theme": remarks["pending"].theme_id,
            "token": str(uuid.uuid4()),
            "step": "confirm",
        },
    )
    assert response.context["duplicates"] == [remarks["pending"]]
    assert "よく似た意見がすでにあります" in response.content.decode()


def test_the_duplicate_warning_shows_a_published_remark_to_every_member(client, world):
    users, remarks = world
    client.force_login(users["other_member"])
    response = client.post(
        reverse("opinions:submit"),
        {
            "body": near_copy_of(remarks["published"]),
            "theme": remarks["published"].theme_id,
            "token": str(uuid.uuid4()),
            "step": "confirm",
        },
    )
    assert response.context["duplicates"] == [remarks["published"]]


@pytest.mark.parametrize("export", ["opinions:summary-text", "opinions:summary-docx"])
def test_the_summary_document_leaves_out_returned_remarks(client, world, export):
    """差し戻し remarks are being revised by their authors: the 主なご意見 document for
    staff has the pending one but neither the returned nor the hidden or withdrawn ones."""
    users, _remarks = world
    client.force_login(users["secretariat"])
    response = client.get(reverse(export), {"theme": "sdgs"})
    assert response.status_code == 200
    if export == "opinions:summary-docx":
        import io

        import docx

        document = docx.Document(io.BytesIO(b"".join(response.streaming_content)))
        text = "\n".join(paragraph.text for paragraph in document.paragraphs)
    else:
        text = response.content.decode()
    assert "（pending）" in text
    assert "（returned）" not in text and "（hidden）" not in text and "（withdrawn）" not in text


RESPONSE_PAGES = [
    *PUBLIC_PAGES,
    "/opinions/?response=future-study",
    "/opinions/?response=none",
]


@pytest.mark.parametrize("role", ["anonymous", "member", "other_member"])
def test_draft_and_confirmed_responses_and_memos_appear_nowhere_public(client, world, role):
    users, remarks = world
    if users[role]:
        client.force_login(users[role])
    pages = [
        *RESPONSE_PAGES,
        *(
            remarks[f"{state}_answered"].get_absolute_url()
            for state in ("draft", "confirmed", "published")
        ),
        *(
            remarks[f"{state}_answered"].theme.get_absolute_url()
            for state in ("draft", "confirmed")
        ),
        reverse("opinions:api-response-list"),
        reverse("opinions:api-opinion-list"),
        reverse("opinions:mypage") if users[role] else "/opinions/",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert DRAFT_REASONING not in html, url
        assert MEMO not in html, url
    published_page = client.get(remarks["published_answered"].get_absolute_url()).content.decode()
    assert "公開した考え方" in published_page


@pytest.mark.parametrize("role", ["anonymous", "member", "other_member"])
def test_the_category_facet_counts_only_published_responses(client, world, role):
    users, remarks = world
    if users[role]:
        client.force_login(users[role])
    facet = {o.value: o.count for o in client.get("/opinions/").context["response_facet"]}
    assert facet["future-study"] == 1
    section = remarks["published_answered"].breadcrumbs[0]
    bars = client.get(section.get_absolute_url()).context["category_bars"]
    assert {bar.label: bar.count for bar in bars}["今後の検討課題"] == 1


def test_the_ledger_export_holds_published_responses_only_even_for_the_secretariat(client, world):
    from io import BytesIO

    from docx import Document
    from openpyxl import load_workbook

    users, _remarks = world
    client.force_login(users["secretariat"])
    docx = client.get(reverse("opinions:response-export-docx"))
    text = "\n".join(
        cell.text
        for table in Document(BytesIO(b"".join(docx.streaming_content))).tables
        for row in table.rows
        for cell in row.cells
    )
    xlsx = client.get(reverse("opinions:response-export-xlsx"))
    sheet = load_workbook(BytesIO(b"".join(xlsx.streaming_content))).active
    cells = "\n".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value)
    for exported in (text, cells):
        assert "公開した考え方" in exported
        assert DRAFT_REASONING not in exported and MEMO not in exported
        assert SECRET not in exported  # unpublished remarks are not in it either


def test_the_api_never_gives_the_memo_even_to_staff(client, world):
    users, _remarks = world
    client.force_login(users["secretariat"])
    listing = str(client.get(reverse("opinions:api-response-list")).json())
    assert DRAFT_REASONING in listing and MEMO not in listing
