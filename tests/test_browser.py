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


@pytest.fixture
def ledger_seeded(seeded):
    """The seed plus what the response ledger's migration provides (its 対応区分 and the
    roles' new permissions), which the flush between transactional tests removed."""
    ledger_migration = importlib.import_module("opinions.migrations.0013_responses")
    ledger_migration.seed_categories(django_apps, None)
    ledger_migration.grant(django_apps, None)


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
    assert page.get_by_role("heading", level=1).inner_text() == "事務局の対応"
    assert_accessible(page, "workbench")
    page.locator(f"#remark-{first.pk}").check()
    page.locator(f"#remark-{second.pk}").check()
    page.get_by_role("button", name="まとめて1つの対応にする").click()
    assert "2 件の意見を対応" in page.locator("ul.messages").inner_text()
    page.get_by_label("対応区分").select_option(label="反映済み")
    page.get_by_label("考え方").fill(grouped_reasoning)
    page.locator("#id_ref-0-document").select_option(label="第２期総合戦略")
    page.locator("#id_ref-0-section").fill("第３章 2(1)")
    page.locator("#id_ref-0-page").fill("12")
    page.get_by_label("内部メモ").fill("課長了承済み（内部）")
    page.get_by_role("button", name="下書きを保存").click()
    assert "下書きを保存しました。" in page.locator("ul.messages").inner_text()
    assert "自分が最後に書いた対応は確認できません" in page.content()
    assert_accessible(page, "response edit page")
    shot(page, "response-edit")

    page.goto(f"{page.base}/responses/")
    page.locator(f"tr[data-opinion='{third.pk}']").get_by_role(
        "button", name=re.compile("対応を書く")
    ).click()
    page.get_by_label("対応区分").select_option(label="今後の検討課題")
    page.get_by_label("考え方").fill("今後の検討の参考とさせていただきます。")
    page.get_by_role("button", name="下書きを保存").click()
    page.goto(f"{page.base}/responses/")
    shot(page, "workbench")
    page.set_viewport_size({"width": 1280, "height": 1400})
    page.screenshot(path=ROOT / "docs" / "screenshots" / "responses-workbench.png")
    page.set_viewport_size({"width": 1280, "height": 900})

    # 事務局 (2): a second member confirms and publishes both.
    page.context.clear_cookies()
    log_in(page, "kakunin", "/responses/?state=draft")
    for remark in (first, third):
        page.locator(f"tr[data-opinion='{remark.pk}']").get_by_role(
            "link", name=re.compile("を開く")
        ).click()
        page.get_by_role("button", name="内容を確認した").click()
        assert "確認しました" in page.locator("ul.messages").inner_text()
        page.get_by_role("button", name="公開する").click()
        assert "公開しました" in page.locator("ul.messages").inner_text()
        page.goto(f"{page.base}/responses/?state=draft")

    # The public: the detail page and the list's facet.
    page.context.clear_cookies()
    page.goto(f"{page.base}{first.get_absolute_url()}")
    answer = page.locator("section.response")
    assert grouped_reasoning in answer.inner_text()
    assert "第３章 2(1) p.12" in answer.inner_text()
    assert answer.locator(f"a[href='{second.get_absolute_url()}']").count() == 1
    assert "課長了承済み" not in page.content()
    assert_accessible(page, "detail with a response")
    shot(page, "detail-response")
    page.goto(f"{page.base}/opinions/")
    page.get_by_label(re.compile("^反映済み")).check()
    page.get_by_role("button", name="絞り込む").click()
    assert "2 件の意見" in page.locator("#result-count").inner_text()
    assert page.locator(".response-marker").count() == 2
    assert_accessible(page, "list with the response facet")

    # The author of the first remark on マイページ.
    log_in(page, "iin", "/mypage/")
    assert grouped_reasoning in page.locator(".response--mypage").inner_text()

    # The export, from the workbench's link.
    page.context.clear_cookies()
    log_in(page, "jimukyoku", "/responses/")
    with page.expect_download() as download:
        page.get_by_role("link", name="ご意見と対応（Excel）").click()
    sheet = load_workbook(BytesIO(Path(download.value.path()).read_bytes())).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value]
    assert grouped_reasoning in cells and first.body in cells and second.body in cells
