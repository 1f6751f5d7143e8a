"""Key journeys in real Chromium against a live server, with axe-core accessibility checks.

Debian's chromium is driven by the ``playwright`` package (``executable_path``; no
browser download). Screenshots go to ``artifacts/browser/`` (git-ignored). Run alone:
``.venv/bin/python -m pytest tests/test_browser.py`` (with DATABASE_URL as for make test).
"""

import importlib
import os
import re
import shutil
import uuid
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group

from opinions import roles
from opinions.importers import normalize_extracted_text
from opinions.management.commands.load_seed import load_seed_fixture
from opinions.models import Opinion, Stakeholder, TagMerge
from tests.conftest import ROOT
from tests.factories import UserFactory
from tests.rendering import to_png

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "artifacts" / "browser"
PASSWORD = "kaigi-2019-portal"

playwright_api = pytest.importorskip("playwright.sync_api")
# Assertions through ``expect`` retry until the page shows what they look for: a click that
# navigates returns before the next page has loaded, so a look at once may see the old one.
expect = playwright_api.expect
expect.set_options(timeout=15_000)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"Chromium not found at {CHROMIUM} (.ci/run installs it)",
    ),
    pytest.mark.skipif(
        not AXE.exists(), reason="node_modules/axe-core missing: run `npm ci` (make test does)"
    ),
]


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are ordinary synchronous calls, so allow them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def seeded(transactional_db):
    # Transactional tests flush the database between tests; put back the roles as
    # declared (opinions/roles.py) before loading the seed.
    roles.apply()
    load_seed_fixture()


@pytest.fixture
def page(browser, live_server, request):
    # bypass_csp: axe-core is injected as an inline script, which the CSP rightly forbids.
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.base = live_server.url
    page.shots = 0
    page.test_name = re.sub(r"[^\w-]", "_", request.node.name)
    yield page
    context.close()


def shot(page, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.shots += 1
    page.screenshot(
        path=ARTIFACTS / f"{page.test_name}-{page.shots:02d}-{name}.png", full_page=True
    )


def assert_accessible(page, what):
    """axe-core finds no WCAG 2.1 A/AA violation on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
        })"""
    )
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
    ]
    assert problems == [], f"{what}: " + "\n".join(problems)


def user_in(group_name, username, **extra):
    user = UserFactory(username=username, password=PASSWORD, **extra)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def log_in(page, username, next_path="/"):
    page.goto(f"{page.base}/accounts/login/?next={next_path}")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


# --- Journeys -------------------------------------------------------------------------------


def test_browse_by_theme_filter_search_open_detail_follow_tag(page, seeded):
    page.goto(f"{page.base}/")
    assert page.title().startswith("テーマ別")
    assert_accessible(page, "theme index")
    shot(page, "themes")

    page.get_by_role("link", name="○第１期「まち・ひと・しごと創生総合戦略」に関する検証").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^○第１期「まち"))
    assert_accessible(page, "theme summary")
    shot(page, "theme-summary")

    page.get_by_role("link", name="18 件の意見").click()
    page.get_by_label("女性").check()
    page.get_by_role("button", name="絞り込む").click()
    expect(page.locator("#result-count")).to_contain_text("2 件の意見")  # #34, #35
    page.get_by_label("東京圏").check()
    page.get_by_role("button", name="絞り込む").click()
    expect(page.locator("#result-count")).to_contain_text("1 件の意見")  # #34
    page.get_by_label("東京圏").uncheck()

    page.get_by_label("キーワード").fill("仕事")  # a two-character term
    page.get_by_role("button", name="絞り込む").click()
    expect(page.locator("#result-count")).to_contain_text("1 件の意見")
    expect(page.locator("mark").first).to_have_text("仕事")
    assert_accessible(page, "list with filters and search")
    shot(page, "list-filtered")

    page.get_by_role("link", name=re.compile("全文")).first.click()
    expect(page.locator(".opinion-detail__body")).to_contain_text("女性が東京に流出し")
    assert_accessible(page, "detail")
    shot(page, "detail")

    page.locator(".opinion-detail__meta").get_by_role("link", name="女性").click()
    expect(page.locator("#result-count")).to_contain_text("4 件の意見")
    expect(page).to_have_url(re.compile("stakeholder=women"))


def test_member_submits_accepting_a_suggestion_then_secretariat_publishes(page, seeded):
    user_in(roles.MEMBER, "iin")
    user_in(roles.SECRETARIAT, "jimukyoku")
    body = (
        "女性が地元で働き続けられるよう、テレワークの拠点を小規模自治体にも整備すべきではないか。"
    )

    page.goto(f"{page.base}/submit/")
    assert "/accounts/login/" in page.url  # sent to login, then back
    assert_accessible(page, "login")
    log_in(page, "iin", "/submit/")
    expect(page).to_have_url(re.compile("/submit/$"))

    page.get_by_role("button", name="確認画面へ").click()  # empty: errors, nothing lost
    expect(page.locator("#id_body_error")).to_have_text("意見の本文を入力してください。")
    assert_accessible(page, "submission form with errors")
    shot(page, "form-errors")

    page.get_by_label("意見の本文").fill(body)
    page.get_by_label("テーマ").select_option(label="\u3000人材育成")
    page.get_by_role("button", name="確認画面へ").click()
    expect(page.locator("body")).to_contain_text("次の内容で投稿します")
    assert_accessible(page, "confirmation step")
    shot(page, "confirm")

    page.get_by_role("button", name="＋ 女性").click()  # one click accepts a suggested tag
    expect(page.locator(".confirm .tag").get_by_text("女性", exact=True)).to_be_visible()
    page.get_by_role("button", name="この内容で投稿する").click()
    expect(page.locator("body")).to_contain_text("受け付けました")
    shot(page, "done")

    opinion = Opinion.objects.get(body=body)
    assert opinion.status == "pending"
    assert list(opinion.stakeholders.values_list("slug", flat=True)) == ["women"]

    page.get_by_role("link", name="マイページへ").click()
    expect(page).to_have_url(re.compile("/mypage/$"))
    expect(page.locator("body")).to_contain_text("確認待ち")
    assert_accessible(page, "mypage")

    page.context.clear_cookies()
    log_in(page, "jimukyoku", "/review/")
    card = page.locator("article", has_text=body)
    card.get_by_role("button", name=re.compile("公開する")).click()
    expect(page.locator("ul.messages")).to_contain_text("公開しました")
    page.context.clear_cookies()
    page.goto(f"{page.base}/opinions/?q=テレワーク")
    expect(page.locator("#result-count")).to_contain_text("1 件の意見")


def test_admin_merges_two_tags(page, seeded):
    user_in(roles.ADMINISTRATOR, "kanri", is_staff=True)
    log_in(page, "kanri", "/admin/opinions/stakeholder/")
    for name in ("若者・高校生", "高校・専門高校"):
        page.get_by_role("checkbox", name=f"アクション用にこのオブジェクトを選択 - {name}").check()
    page.locator("select[name=action]").select_option("merge_selected")
    with page.expect_navigation():
        page.locator("button[name=index]").click()
    page.get_by_label("若者・高校生").check()
    shot(page, "merge")
    page.get_by_role("button", name="統合する").click()
    expect(page.locator("ul.messagelist")).to_contain_text("統合しました")
    assert not Stakeholder.objects.filter(slug="high-schools").exists()
    assert Stakeholder.objects.get(slug="youth").opinions.count() == 9  # 6 ∪ 5, two shared
    assert TagMerge.objects.get().merged_name == "高校・専門高校"


def test_phone_viewport_has_no_horizontal_scrolling(browser, live_server, seeded):
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 360, "height": 740}, is_mobile=True
    )
    page = context.new_page()
    page.base, page.shots, page.test_name = live_server.url, 0, "phone"
    user_in(roles.MEMBER, "iin-phone")
    for path in ("/opinions/?stakeholder=women", "/opinions/34/", "/themes/dai1ki-kadai/"):
        page.goto(f"{page.base}{path}")
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], (path, width)
    shot(page, "list")
    log_in(page, "iin-phone", "/submit/")
    page.get_by_label("意見の本文").fill("スマートフォンからの投稿のテストです。地域交通の課題。")
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    shot(page, "form")
    context.close()


def test_keyboard_alone_reaches_content_and_searches(page, seeded):
    page.goto(f"{page.base}/opinions/")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "本文へスキップ"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.locator("#id_q").focus()
    page.keyboard.type("高校")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "q=%E9%AB%98%E6%A0%A1" in page.url
    expect(page.locator("#result-count")).to_contain_text("件の意見")
    # Focus is visible: the focused element gets an outline.
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_crosstab_and_empty_theme_are_accessible(page, seeded):
    page.goto(f"{page.base}/crosstab/")
    assert_accessible(page, "cross-tab")
    shot(page, "crosstab")
    page.goto(f"{page.base}/themes/global/")
    expect(page.locator("body")).to_contain_text("意見なし")
    assert_accessible(page, "empty theme")


@pytest.mark.parametrize(
    ("path", "rendered"),
    [("/api/docs/", ".opblock-summary-path"), ("/api/redoc/", "[data-section-id]")],
    ids=["swagger", "redoc"],
)
def test_api_documentation_works_under_its_content_security_policy(
    browser, live_server, seeded, path, rendered
):
    """Swagger UI and Redoc draw the operations with the CSP enforced (no bypass here), and
    the browser reports no blocked script, style or worker of theirs. (Redoc's links to
    fonts and a logo on other origins are blocked, as everything off this origin is.)"""
    context = browser.new_context(locale="ja-JP")
    page = context.new_page()
    violations = []

    def record(message):
        blocked = re.search(r"Loading the [\w ]+ '([^']+)'", message.text)
        elsewhere = blocked and not blocked.group(1).startswith(live_server.url)
        if "Content Security Policy" in message.text and not elsewhere:
            violations.append(message.text)

    page.on("console", record)
    page.goto(f"{live_server.url}{path}")
    page.wait_for_selector(rendered, timeout=30_000)
    assert page.locator(rendered).count() > 0
    context.close()
    assert violations == []


# Each export link of the list, with the content type its file must have.
EXPORT_LINKS = {
    "CSV": "text/csv; charset=utf-8",
    "CSV（Shift_JIS）": "text/csv; charset=Shift_JIS",
    "Excel（XLSX）": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "主なご意見（Word）": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    ),
    "主なご意見（テキスト）": "text/plain; charset=utf-8",
}


def choose_nothing(page):
    pass


def choose_stakeholder_and_keyword(page):
    page.get_by_label("女性").check()
    page.get_by_label("キーワード").fill("東京")


def choose_every_kind_of_field(page):
    page.get_by_label("テーマ").select_option(index=2)
    page.get_by_label("小規模自治体").check()
    page.get_by_label("資料", exact=True).select_option(index=1)
    page.get_by_label("会議", exact=True).select_option(index=1)


def choose_a_meeting_only(page):
    page.get_by_label("会議", exact=True).select_option(index=2)


@pytest.mark.parametrize(
    "choose",
    [
        choose_nothing,
        choose_stakeholder_and_keyword,
        choose_every_kind_of_field,
        choose_a_meeting_only,
    ],
)
def test_every_export_link_works_after_filtering_with_the_form(page, seeded, choose):
    """The form leaves its empty fields out of the URL, and every export link built from
    that URL downloads a file of its type."""
    user_in(roles.SECRETARIAT, "jimukyoku")
    log_in(page, "jimukyoku", "/opinions/")
    choose(page)
    with page.expect_navigation():
        page.get_by_role("button", name="絞り込む").click()
    assert not re.search(r"[?&][a-z]+=(&|$)", page.url), page.url  # no empty field in the URL
    follow_every_export_link(page)


def test_every_export_link_works_from_the_form_without_scripts(browser, live_server, seeded):
    """Without the script the form sends its empty fields; the list redirects to the address
    without them, and every export link built from it works."""
    context = browser.new_context(locale="ja-JP", java_script_enabled=False)
    page = context.new_page()
    page.base = live_server.url
    user_in(roles.SECRETARIAT, "jimukyoku")
    log_in(page, "jimukyoku", "/opinions/")
    choose_stakeholder_and_keyword(page)
    with page.expect_navigation():
        page.get_by_role("button", name="絞り込む").click()
    assert not re.search(r"[?&][a-z]+=(&|$)", page.url), page.url
    follow_every_export_link(page)
    context.close()


def follow_every_export_link(page):
    from django.utils import timezone

    exports = page.get_by_role("navigation", name="書き出し")
    today = timezone.localdate().isoformat()
    for name, content_type in EXPORT_LINKS.items():
        link = exports.get_by_role("link", name=name, exact=True)
        export_response = re.compile(r"/opinions/(export|summary)/")
        with (
            page.expect_download() as download_info,
            page.expect_response(export_response) as response_info,
        ):
            link.click()
        response = response_info.value
        assert response.status == 200, (name, page.url)
        assert response.headers["content-type"] == content_type, name
        # Chromium takes the UTF-8 name (RFC 5987): what the file holds, and the day.
        filename = download_info.value.suggested_filename
        kind = "主なご意見_" if name.startswith("主なご意見") else "意見一覧_"
        assert filename.startswith(kind) and f"_{today}." in filename, (name, filename)
        assert ("_Shift_JIS_" in filename) == ("Shift_JIS" in name), filename


def test_copy_the_source_of_a_remark(page, seeded):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.base)
    page.goto(f"{page.base}/opinions/")
    first = page.locator(".opinion-card").first
    number = first.locator(".opinion-card__number").inner_text()
    assert re.fullmatch(r"意見番号 \d+", number)  # visible, not only to screen readers
    first.get_by_role("link", name=re.compile("全文")).click()
    expect(page.locator(".meeting-list li")).to_have_text(
        ["第1回（開催日未登録）", "第2回（2019年4月9日）"]
    )
    page.get_by_role("button", name="出典をコピー").click()
    # The clipboard answers asynchronously: wait for the status rather than look at once.
    page.get_by_role("status").filter(has_text="コピーしました").wait_for(timeout=10_000)
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == page.locator("#citation-text").inner_text()
    assert "参考資料１「第１回、第２回における主なご意見」" in copied
    assert copied.endswith(f"{number}、{page.url}")
    assert_accessible(page, "detail with its citation")
    shot(page, "citation")


def test_a_search_hit_keeps_its_search_on_the_detail_page(page, seeded):
    page.goto(f"{page.base}/opinions/")
    page.get_by_label("キーワード").fill("女性")
    page.get_by_role("button", name="絞り込む").click()
    expect(page).to_have_url(re.compile("q="))
    total = int(re.search(r"(\d+) 件の意見", page.locator("#result-count").inner_text())[1])
    list_url = page.url
    page.get_by_role("link", name=re.compile("全文")).nth(1).click()
    hits = page.get_by_role("navigation", name="検索結果の中の前後の意見")
    expect(hits.get_by_text(f"2 / {total} 件目")).to_be_visible()
    expect(page.locator(".opinion-detail__body mark").first).to_have_text("女性")
    assert_accessible(page, "detail from a search")
    shot(page, "search-hit")
    hits.get_by_role("link", name=re.compile("次の結果")).click()
    hits = page.get_by_role("navigation", name="検索結果の中の前後の意見")
    expect(hits.get_by_text(f"3 / {total} 件目")).to_be_visible()
    hits.get_by_role("link", name="一覧に戻る").click()
    expect(page).to_have_url(re.compile(re.escape(list_url.split("?")[0]) + r"\?"))
    assert "q=%E5%A5%B3%E6%80%A7" in page.url and "page=1" in page.url
    expect(page.get_by_label("キーワード")).to_have_value("女性")


def printed(page, path, name) -> list[str]:
    """The page at ``path`` printed by Chromium (A4, its print style sheet): the text of
    each PDF page. The PDF is kept in artifacts/browser/ to look at."""
    import pypdfium2

    page.goto(f"{page.base}{path}")
    page.emulate_media(media="print")
    data = page.pdf(prefer_css_page_size=True, print_background=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.pdf_path = ARTIFACTS / f"{page.test_name}-{name}.pdf"
    page.pdf_path.write_bytes(data)
    document = pypdfium2.PdfDocument(data)  # the importer's PDF reader
    sheets = [document[index] for index in range(len(document))]
    page.pdf_pages = [sheet.get_size() for sheet in sheets]  # (width, height) in points
    # PDF text of Japanese comes with look-alike radicals (⾒ for 見): as the importer reads it.
    return [
        re.sub(r"\s+", "", normalize_extracted_text(sheet.get_textpage().get_text_range()))
        for sheet in sheets
    ]


def picture(pdf, *, page=1):
    """A printed page as PNG beside its PDF, for the README (``make render-exports``)."""
    if shutil.which("pdftoppm"):
        to_png(pdf, page=page)


def test_hand_outs_print_with_a_title_block_page_numbers_and_every_number(page, seeded):
    sheets = printed(page, "/opinions/?stakeholder=women&size=_none", "list")
    picture(page.pdf_path)
    assert "有識者会議意見ポータル" in sheets[0] and "出力日" in sheets[0]
    assert "stakeholder=women" in sheets[0]  # the URL it was printed from
    assert "関係者:女性" in sheets[0] and "自治体規模:規模を問わない" in sheets[0]  # conditions
    assert "3件の意見" in sheets[0] and "意見番号" in sheets[0]
    assert all(f"{n}/{len(sheets)}" in sheet for n, sheet in enumerate(sheets, 1))  # page numbers

    sheets = printed(page, "/themes/dai1ki-kadai/", "theme")
    assert "意見の数" in "".join(sheets)  # the charts' tables, though closed on screen

    sheets = printed(page, "/crosstab/", "crosstab")
    landscape = [n for n, (width, height) in enumerate(page.pdf_pages) if width > height]
    assert landscape  # the table on A4 landscape
    picture(page.pdf_path, page=landscape[0] + 1)
    # Radicals NFKC leaves (⺠ for 民), and ‧ for ・, as the PDF's text gives them.
    table = "".join(sheets[n] for n in landscape).translate(str.maketrans("⺠⻑‧", "民長・"))
    for name in [*Stakeholder.objects.values_list("name", flat=True), "関係者の指定なし", "合計"]:
        assert name in table, name  # no column cut off


def test_secretariat_publishes_with_a_comment_then_two_at_once(page, seeded):
    """The review queue: a comment typed before 公開する reaches the author, a memo stays
    inside, a tag is corrected; then two remarks are published together after confirming."""
    from opinions import services

    member = user_in(
        roles.MEMBER, "iin", first_name="太郎", last_name="田中", email="iin@example.jp"
    )
    user_in(roles.SECRETARIAT, "jimukyoku")
    theme = Opinion.objects.first().theme
    bodies = [
        f"地域の公共交通を維持するため、自治体間の連携を支援すべきではないか。その{n}。"
        for n in range(3)
    ]
    remarks = [
        services.submit_opinion(author=member, token=uuid.uuid4(), body=body, theme=theme)[0]
        for body in bodies
    ]

    log_in(page, "jimukyoku", "/review/")
    nav = page.get_by_role("navigation", name="メインメニュー")
    expect(nav.get_by_role("link", name=re.compile(r"確認待ち\s*3\s*件"))).to_be_visible()
    assert_accessible(page, "review queue")
    shot(page, "queue")

    card = page.locator(f"#remark-{remarks[0].pk}")
    card.get_by_label("投稿者へのコメント").fill("具体的で分かりやすいご意見です。")
    card.get_by_label("内部メモ").fill("次回の会議資料に入れる")
    card.locator("summary").click()
    card.get_by_label("女性").check()
    card.get_by_role("button", name=re.compile("^公開する")).click()
    expect(page.locator("ul.messages")).to_contain_text("公開しました")
    assert_accessible(page, "review queue with a flash message")
    remarks[0].refresh_from_db()
    assert remarks[0].status == "published"
    assert remarks[0].review_comment == "具体的で分かりやすいご意見です。"
    assert remarks[0].internal_memo == "次回の会議資料に入れる"
    assert list(remarks[0].stakeholders.values_list("name", flat=True)) == ["女性"]

    for remark in remarks[1:]:
        page.locator(f"#remark-{remark.pk}").get_by_label(re.compile("まとめて公開")).check()
    page.get_by_role("button", name="選んだ意見をまとめて公開する…").click()
    expect(page.locator("body")).to_contain_text("次の 2 件の意見を公開します")
    assert_accessible(page, "bulk confirmation")
    shot(page, "bulk-confirm")
    page.get_by_role("button", name="2 件を公開する").click()
    expect(page.locator("ul.messages")).to_contain_text("2 件の意見を公開しました")
    expect(page.locator("body")).to_contain_text("確認待ちの意見はありません")
    assert Opinion.objects.filter(pk__in=[r.pk for r in remarks], status="published").count() == 3


def contrast_problems(page, selector):
    """Text under ``selector`` whose contrast with its background is under 4.5:1 (axe skips
    text of one character, such as the cross-tab's 「0」)."""
    return page.evaluate(
        """(selector) => {
            const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
            const lum = ([r, g, b]) => [r, g, b].map((v) => {
                v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
            }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
            const background = (el) => {
                for (; el; el = el.parentElement) {
                    const c = rgb(getComputedStyle(el).backgroundColor);
                    if (c.length < 4 || c[3] > 0) return c.slice(0, 3);
                }
                return [255, 255, 255];
            };
            return [...document.querySelectorAll(selector)].map((el) => {
                const [a, b] = [lum(rgb(getComputedStyle(el).color)), lum(background(el))];
                const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
                return ratio < 4.5 ? `${el.textContent} ${ratio.toFixed(2)}:1` : null;
            }).filter(Boolean);
        }""",
        selector,
    )


def test_phone_shows_results_first_a_compact_header_and_readable_charts(
    browser, live_server, seeded
):
    """At 360 px: the header is one line with a menu, the list starts with its results
    (filters behind 「絞り込み」), the cross-tab keeps its theme column in view, headers break
    between words, chart text is at least 12 px, and the grey 「0」 is readable."""
    context = browser.new_context(
        locale="ja-JP", viewport={"width": 360, "height": 740}, is_mobile=True, bypass_csp=True
    )
    page = context.new_page()
    page.base, page.shots, page.test_name = live_server.url, 0, "phone-layout"

    page.goto(f"{page.base}/opinions/")
    header = page.locator(".site-header").bounding_box()
    assert header["height"] <= 740 * 0.12, header
    expect(page.get_by_role("link", name="テーマ別")).to_be_hidden()
    page.get_by_text("メニュー", exact=True).click()
    expect(page.get_by_role("link", name="テーマ別")).to_be_visible()
    shot(page, "menu-open")
    page.get_by_text("メニュー", exact=True).click()

    assert page.locator("#result-count").bounding_box()["y"] < 740 / 2
    assert page.locator(".opinion-card").first.bounding_box()["y"] < 740
    expect(page.get_by_label("キーワード")).to_be_hidden()
    shot(page, "list")
    page.locator(".filter-panel__toggle").click()
    page.get_by_label("キーワード").fill("高校")
    page.get_by_role("button", name="絞り込む").click()
    expect(page).to_have_url(re.compile("q="))
    expect(page.locator("#result-count")).to_contain_text("件の意見")
    assert_accessible(page, "phone list")

    page.goto(f"{page.base}/crosstab/")
    page.locator(".table-scroll").evaluate("(el) => el.scrollBy(400, 0)")
    first = page.locator(".heatmap tbody th").first.bounding_box()
    assert first["x"] <= 20, first  # still at the left edge after scrolling sideways
    words = page.evaluate(
        """() => [...document.querySelectorAll('.heatmap thead th')].map(
            (th) => getComputedStyle(th).wordBreak)"""
    )
    assert set(words) == {"keep-all"}
    assert "・<wbr>" in page.locator(".heatmap thead").inner_html()
    assert contrast_problems(page, ".heat__zero") == []
    shot(page, "crosstab")

    page.goto(f"{page.base}/themes/dai1ki-kadai/")
    sizes = page.evaluate(
        """() => [...document.querySelectorAll('.chart__svg text')].map((t) =>
            t.getBoundingClientRect().height && parseFloat(getComputedStyle(t).fontSize)
            * t.getScreenCTM().a)"""
    )
    assert sizes and min(sizes) >= 12, sizes
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]
    shot(page, "theme-charts")
    context.close()


def test_desktop_shows_the_menu_and_the_filters_without_toggles(page, seeded):
    page.goto(f"{page.base}/opinions/")
    expect(page.get_by_label("キーワード")).to_be_visible()
    expect(page.get_by_role("link", name="テーマ別")).to_be_visible()
    expect(page.locator(".site-menu__toggle")).to_be_hidden()
    expect(page.locator(".filter-panel__toggle")).to_be_hidden()


ADMIN_PAGES = [
    "/admin/",
    "/admin/opinions/",
    "/admin/opinions/theme/",
    "/admin/opinions/stakeholder/",
    "/admin/opinions/municipalitysize/",
    "/admin/opinions/opinion/",
    "/admin/opinions/opinion/?status__exact=published",
    "/admin/opinions/opinion/1/change/",
    "/admin/opinions/opinion/1/history/",
    "/admin/opinions/theme/1/change/",
    "/admin/opinions/tagsuggestion/",
    "/admin/opinions/tagrule/",
    "/admin/opinions/synonymgroup/",
    "/admin/opinions/sourcedocument/",
    "/admin/opinions/tagmerge/",
]


def test_the_admin_pages_administrators_use_are_accessible(page, seeded):
    """管理者 meet the admin as they are, so its pages pass axe like the portal's, with a
    flash message too."""
    user_in(roles.ADMINISTRATOR, "kanri", is_staff=True)
    log_in(page, "kanri", "/admin/")
    problems = []
    for path in ADMIN_PAGES:
        page.goto(f"{page.base}{path}")
        try:
            assert_accessible(page, path)
        except AssertionError as error:
            problems.append(str(error))
    page.goto(f"{page.base}/admin/opinions/stakeholder/")
    with page.expect_navigation():
        page.locator("#changelist-form [name=_save]").click()  # a flash message
    try:
        assert_accessible(page, "changelist after saving")
    except AssertionError as error:
        problems.append(str(error))
    assert problems == [], "\n".join(problems)


def test_member_saves_a_search_and_asks_for_a_daily_mail(page, seeded):
    user_in(roles.MEMBER, "iin", email="iin@example.jp")
    log_in(page, "iin", "/opinions/?stakeholder=women")
    page.get_by_text("この条件を保存する").click()
    page.get_by_label("名前").fill("女性の活躍")
    page.get_by_role("button", name="保存する").click()
    expect(page.locator("ul.messages")).to_contain_text("「女性の活躍」として保存しました")
    expect(page).to_have_url(re.compile(r"/opinions/\?stakeholder=women$"))
    assert_accessible(page, "list after saving a search")

    page.goto(f"{page.base}/mypage/")
    page.get_by_label(re.compile("新着の通知")).select_option("daily")
    page.get_by_role("button", name=re.compile("変更する")).click()
    expect(page.locator("ul.messages")).to_contain_text("毎日メールで知らせる")
    assert_accessible(page, "mypage with a saved search")
    shot(page, "mypage-saved-search")
    page.get_by_role("link", name="女性の活躍", exact=True).click()
    expect(page).to_have_url(re.compile("stakeholder=women"))
    expect(page.locator("#result-count")).to_contain_text("4 件の意見")


def test_every_portal_page_is_accessible_in_its_states(page, seeded):
    """axe on each page a member or 事務局 reaches, with flash messages and errors shown."""
    from opinions import services

    member = user_in(roles.MEMBER, "iin", first_name="太郎", last_name="田中")
    user_in(roles.SECRETARIAT, "jimukyoku")
    theme = Opinion.objects.first().theme
    remark, _created = services.submit_opinion(
        author=member,
        token=uuid.uuid4(),
        body="小規模自治体の職員が疲弊しないよう、手続きを簡素化すべきではないか。",
        theme=theme,
    )
    problems = []

    def check(what):
        try:
            assert_accessible(page, what)
        except AssertionError as error:
            problems.append(str(error))

    for path, what in [
        ("/opinions/?size=nowhere&page=99", "list with notices"),
        ("/opinions/?q=高校", "search results"),
        ("/themes/", "theme index"),
        ("/crosstab/?axis=size", "cross-tab by size"),
        ("/opinions/999999/", "not found"),
    ]:
        page.goto(f"{page.base}{path}")
        check(what)

    log_in(page, "iin", f"/opinions/{remark.pk}/edit/")
    check("edit form")
    page.get_by_label("意見の本文").fill("短い")
    page.get_by_role("button", name=re.compile("保存")).click()
    expect(page.locator("#id_body_error")).to_be_visible()
    check("edit form with an error")
    page.goto(f"{page.base}/opinions/{remark.pk}/withdraw/")
    check("withdraw confirmation")
    page.goto(f"{page.base}/opinions/{remark.pk}/")
    check("own pending remark")

    page.context.clear_cookies()
    log_in(page, "jimukyoku", "/review/")
    card = page.locator(f"#remark-{remark.pk}")
    card.get_by_role("button", name=re.compile("^差し戻す")).click()  # no reason: an error
    expect(page.locator("body")).to_contain_text("差し戻す理由を書いてください")
    check("review queue with a form error")
    page.goto(f"{page.base}/review/?remark={remark.pk}&sort=theme")
    check("review queue filtered")
    assert problems == [], "\n".join(problems)


def test_import_a_revised_document_preview_change_a_match_and_import(page, seeded, tmp_path):
    """An administrator imports a revision of the seed: the preview lists what each remark
    becomes; one match is changed and read again before 「取り込む」 writes it."""
    from opinions.importers import parse_summary, render_summary

    user_in(roles.ADMINISTRATOR, "kanri", is_staff=True)
    document = parse_summary(
        (ROOT / "fixtures" / "source" / "000_7e59f9f179f907ca.txt").read_text()
    )
    first = document.sections[0].children[0].children[0].opinions
    first.insert(
        1, type(first[0])(body="改訂で加わった意見で、地域の担い手を育てる仕組みが必要である。")
    )
    first[0].body = first[0].body.replace("ではないか。", "と考える。")
    revised = tmp_path / "revised.txt"
    revised.write_text(render_summary(document), encoding="utf-8")
    tagged = Opinion.objects.get(position=1)

    log_in(page, "kanri", "/admin/opinions/sourcedocument/import/")
    page.get_by_label("資料のファイル").set_input_files(str(revised))
    page.get_by_role("button", name="読み取って確認する").click()
    expect(page.locator(".import-summary")).to_contain_text("新規 1、修正 1、移動 0、変更なし 67")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=ARTIFACTS / "import-preview.png",
        clip={"x": 0, "y": 0, "width": 1280, "height": 1400},
        full_page=True,
    )
    shot(page, "preview")

    page.get_by_label("9行目の意見に対応する既存の意見", exact=True).select_option("new")
    page.get_by_role("button", name="この設定で読み直す").click()
    expect(page.locator(".import-summary")).to_contain_text("新規 2、修正 0")
    page.get_by_role("button", name="取り込む", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("を取り込みました")
    tagged.refresh_from_db()
    assert tagged.status == Opinion.Status.HIDDEN  # the admin chose: hidden, not deleted
    assert Opinion.objects.filter(body__endswith="と考える。", position=1).exists()


@pytest.fixture
def ledger_seeded(seeded):
    """The seed plus the 対応区分 the response ledger's migration provides, which the flush
    between transactional tests removed (the roles' permissions: ``seeded``)."""
    ledger_migration = importlib.import_module("opinions.migrations.0019_responses")
    ledger_migration.seed_categories(django_apps, None)


def test_secretariat_answers_groups_confirms_publishes_and_exports(page, seeded, ledger_seeded):
    from io import BytesIO

    from openpyxl import load_workbook

    from opinions.models import PolicyDocument

    author = user_in(roles.MEMBER, "iin", email="iin@example.jp")
    user_in(roles.SECRETARIAT, "jimukyoku", is_staff=True)
    user_in(roles.SECRETARIAT, "kakunin", is_staff=True)
    PolicyDocument.objects.create(
        title="第２期「まち・ひと・しごと創生総合戦略」", short_title="第２期総合戦略"
    )
    first, second, third = Opinion.objects.published().in_document_order()[:3]
    Opinion.objects.filter(pk=first.pk).update(author=author)
    grouped_reasoning = "ご意見を踏まえ、第２期総合戦略に関係人口の創出・拡大を盛り込みました。"

    # 事務局 (1): two remarks under one response, a third on its own.
    log_in(page, "jimukyoku", "/responses/")
    expect(page.get_by_role("heading", level=1)).to_have_text("事務局の対応")
    assert_accessible(page, "workbench")
    page.locator(f"#remark-{first.pk}").check()
    page.locator(f"#remark-{second.pk}").check()
    page.get_by_role("button", name="まとめて1つの対応にする").click()
    expect(page.locator("ul.messages")).to_contain_text("2 件の意見を対応")
    page.get_by_label("対応区分").select_option(label="反映済み")
    page.get_by_label("考え方").fill(grouped_reasoning)
    page.locator("#id_ref-0-document").select_option(label="第２期総合戦略")
    page.locator("#id_ref-0-section").fill("第３章 2(1)")
    page.locator("#id_ref-0-page").fill("12")
    page.get_by_label("内部メモ").fill("課長了承済み（内部）")
    page.get_by_role("button", name="下書きを保存").click()
    expect(page.locator("ul.messages")).to_contain_text("下書きを保存しました。")
    expect(page.locator("body")).to_contain_text("自分が最後に書いた対応は確認できません")
    assert_accessible(page, "response edit page")
    shot(page, "response-edit")

    page.goto(f"{page.base}/responses/")
    page.locator(f"tr[data-opinion='{third.pk}']").get_by_role(
        "button", name=re.compile("対応を書く")
    ).click()
    expect(page).to_have_url(re.compile(r"/responses/\d+/$"))
    page.get_by_label("対応区分").select_option(label="今後の検討課題")
    page.get_by_label("考え方").fill("今後の検討の参考とさせていただきます。")
    page.get_by_role("button", name="下書きを保存").click()
    expect(page.locator("ul.messages")).to_contain_text("下書きを保存しました。")
    page.goto(f"{page.base}/responses/")
    shot(page, "workbench")
    page.set_viewport_size({"width": 1280, "height": 1400})
    # The README's picture (docs/screenshots/responses-workbench.png) is copied from this one
    # when the page changes; a test run never rewrites a committed file.
    page.screenshot(path=ARTIFACTS / "responses-workbench.png")
    page.set_viewport_size({"width": 1280, "height": 900})

    # 事務局 (2): a second member confirms and publishes both.
    page.context.clear_cookies()
    log_in(page, "kakunin", "/responses/?state=draft")
    for remark in (first, third):
        page.locator(f"tr[data-opinion='{remark.pk}']").get_by_role(
            "link", name=re.compile("を開く")
        ).click()
        page.get_by_role("button", name="内容を確認した").click()
        expect(page.locator("ul.messages")).to_contain_text("確認しました")
        page.get_by_role("button", name="公開する").click()
        expect(page.locator("ul.messages")).to_contain_text("公開しました")
        page.goto(f"{page.base}/responses/?state=draft")

    # The public: the detail page and the list's facet.
    page.context.clear_cookies()
    page.goto(f"{page.base}{first.get_absolute_url()}")
    answer = page.locator("section.response")
    expect(answer).to_contain_text(grouped_reasoning)
    expect(answer).to_contain_text("第３章 2(1) p.12")
    expect(answer.locator(f"a[href='{second.get_absolute_url()}']")).to_have_count(1)
    assert "課長了承済み" not in page.content()
    assert_accessible(page, "detail with a response")
    shot(page, "detail-response")
    page.goto(f"{page.base}/opinions/")
    page.get_by_label(re.compile("^反映済み")).check()
    page.get_by_role("button", name="絞り込む").click()
    expect(page).to_have_url(re.compile(r"\?."))
    expect(page.locator("#result-count")).to_contain_text("2 件の意見")
    expect(page.locator(".response-marker")).to_have_count(2)
    assert_accessible(page, "list with the response facet")

    # The author of the first remark on マイページ.
    log_in(page, "iin", "/mypage/")
    expect(page.locator(".response--mypage")).to_contain_text(grouped_reasoning)

    # The export, from the workbench's link.
    page.context.clear_cookies()
    log_in(page, "jimukyoku", "/responses/")
    with page.expect_download() as download:
        page.get_by_role("link", name="ご意見と対応（Excel）").click()
    sheet = load_workbook(BytesIO(Path(download.value.path()).read_bytes())).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert grouped_reasoning in cells and first.body in cells and second.body in cells
