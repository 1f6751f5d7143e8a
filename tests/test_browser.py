"""Key journeys in real Chromium against a live server, with axe-core accessibility checks.

Debian's chromium is driven by the ``playwright`` package (``executable_path``; no
browser download). Screenshots go to ``artifacts/browser/`` (git-ignored). Run alone:
``.venv/bin/python -m pytest tests/test_browser.py`` (with DATABASE_URL as for make test).
"""

import importlib
import os
import re
import shutil
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group

from opinions import roles
from opinions.management.commands.load_seed import load_seed_fixture
from opinions.models import Opinion, Stakeholder, TagMerge
from tests.conftest import ROOT
from tests.factories import UserFactory

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "artifacts" / "browser"
PASSWORD = "kaigi-2019-portal"

playwright_api = pytest.importorskip("playwright.sync_api")

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
    # Transactional tests flush the database between tests; put back what the data
    # migrations provide (the three roles) before loading the seed.
    roles_migration = importlib.import_module("opinions.migrations.0003_roles")
    roles_migration.create_roles(django_apps, None)
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


# --- Journeys -------------------------------------------------------------------------------


def test_browse_by_theme_filter_search_open_detail_follow_tag(page, seeded):
    page.goto(f"{page.base}/")
    assert page.title().startswith("テーマ別")
    assert_accessible(page, "theme index")
    shot(page, "themes")

    page.get_by_role("link", name="○第１期「まち・ひと・しごと創生総合戦略」に関する検証").click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("○第１期「まち")
    assert_accessible(page, "theme summary")
    shot(page, "theme-summary")

    page.get_by_role("link", name="18 件の意見").click()
    page.get_by_label("女性").check()
    page.get_by_role("button", name="絞り込む").click()
    assert "2 件の意見" in page.locator("#result-count").inner_text()  # #34, #35
    page.get_by_label("東京圏").check()
    page.get_by_role("button", name="絞り込む").click()
    assert "1 件の意見" in page.locator("#result-count").inner_text()  # #34
    page.get_by_label("東京圏").uncheck()

    page.get_by_label("キーワード").fill("仕事")  # a two-character term
    page.get_by_role("button", name="絞り込む").click()
    assert "1 件の意見" in page.locator("#result-count").inner_text()
    assert page.locator("mark").first.inner_text() == "仕事"
    assert_accessible(page, "list with filters and search")
    shot(page, "list-filtered")

    page.get_by_role("link", name=re.compile("全文")).first.click()
    assert "女性が東京に流出し" in page.locator(".opinion-detail__body").inner_text()
    assert_accessible(page, "detail")
    shot(page, "detail")

    page.locator(".opinion-detail__meta").get_by_role("link", name="女性").click()
    assert "4 件の意見" in page.locator("#result-count").inner_text()
    assert "stakeholder=women" in page.url


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
    assert page.url.endswith("/submit/")

    page.get_by_role("button", name="確認画面へ").click()  # empty: errors, nothing lost
    assert page.locator("#id_body_error").inner_text() == "意見の本文を入力してください。"
    assert_accessible(page, "submission form with errors")
    shot(page, "form-errors")

    page.get_by_label("意見の本文").fill(body)
    page.get_by_label("テーマ").select_option(label="\u3000人材育成")
    page.get_by_role("button", name="確認画面へ").click()
    assert "次の内容で投稿します" in page.content()
    assert_accessible(page, "confirmation step")
    shot(page, "confirm")

    page.get_by_role("button", name="＋ 女性").click()  # one click accepts a suggested tag
    assert page.locator(".confirm .tag").get_by_text("女性", exact=True).is_visible()
    page.get_by_role("button", name="この内容で投稿する").click()
    assert "受け付けました" in page.content()
    shot(page, "done")

    opinion = Opinion.objects.get(body=body)
    assert opinion.status == "pending"
    assert list(opinion.stakeholders.values_list("slug", flat=True)) == ["women"]

    page.get_by_role("link", name="マイページへ").click()
    assert "確認待ち" in page.content()
    assert_accessible(page, "mypage")

    page.context.clear_cookies()
    log_in(page, "jimukyoku", "/review/")
    card = page.locator("article", has_text=body)
    card.get_by_role("button", name=re.compile("公開する")).click()
    assert "公開しました" in page.locator("ul.messages").inner_text()
    page.context.clear_cookies()
    page.goto(f"{page.base}/opinions/?q=テレワーク")
    assert "1 件の意見" in page.locator("#result-count").inner_text()


def test_admin_merges_two_tags(page, seeded):
    user_in(roles.ADMINISTRATOR, "kanri", is_staff=True)
    log_in(page, "kanri", "/admin/opinions/stakeholder/")
    for name in ("若者・高校生", "高校・専門高校"):
        page.get_by_role("checkbox", name=f"アクション用にこのオブジェクトを選択 - {name}").check()
    page.locator("select[name=action]").select_option("merge_selected")
    page.locator("button[name=index]").click()
    page.get_by_label("若者・高校生").check()
    shot(page, "merge")
    page.get_by_role("button", name="統合する").click()
    assert "統合しました" in page.locator("ul.messagelist").inner_text()
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
    assert "件の意見" in page.locator("#result-count").inner_text()
    # Focus is visible: the focused element gets an outline.
    page.keyboard.press("Tab")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"


def test_crosstab_and_empty_theme_are_accessible(page, seeded):
    page.goto(f"{page.base}/crosstab/")
    assert_accessible(page, "cross-tab")
    shot(page, "crosstab")
    page.goto(f"{page.base}/themes/global/")
    assert "意見なし" in page.content()
    assert_accessible(page, "empty theme")


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
    assert "新規 1、修正 1、移動 0、変更なし 67" in page.locator(".import-summary").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=ARTIFACTS / "import-preview.png",
        clip={"x": 0, "y": 0, "width": 1280, "height": 1400},
        full_page=True,
    )
    shot(page, "preview")

    page.get_by_label("9行目の意見に対応する既存の意見", exact=True).select_option("new")
    page.get_by_role("button", name="この設定で読み直す").click()
    assert "新規 2、修正 0" in page.locator(".import-summary").inner_text()
    page.get_by_role("button", name="取り込む", exact=True).click()
    assert "を取り込みました" in page.locator(".messagelist").inner_text()
    tagged.refresh_from_db()
    assert tagged.status == Opinion.Status.HIDDEN  # the admin chose: hidden, not deleted
    assert Opinion.objects.filter(body__endswith="と考える。", position=1).exists()
