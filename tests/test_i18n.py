"""Japanese by default, English on request: the language switch, the English pages, the catalogue.

The code's msgids are the Japanese interface, so an English page that still shows Japanese
outside the data (remark texts, theme and tag names…) has a string the catalogue misses.
"""

import re
import shutil
from pathlib import Path

import lxml.html  # comes with python-docx (the DOCX export)
import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils.html import escape

from opinions import roles, services
from opinions.models import (
    Committee,
    MunicipalitySize,
    Opinion,
    ResponseCategory,
    SourceDocument,
    Stakeholder,
    TagRule,
    Theme,
)
from tests.factories import (
    MeetingFactory,
    MunicipalitySizeFactory,
    OpinionFactory,
    SectionFactory,
    SourceDocumentFactory,
    StakeholderFactory,
    SubthemeFactory,
    ThemeFactory,
    UserFactory,
)

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
# What the README tells people to run; the completeness check runs the same.
MAKEMESSAGES_IGNORE = [".venv", "node_modules", "staticfiles"]

# Kana, CJK ideographs, Japanese punctuation and full-width forms. The ideographic space
# (U+3000) is left out: it indents the theme tree inside <option>, where CSS cannot.
JAPANESE = re.compile(r"[\u3001-\u30ff\u3400-\u9fff\uff01-\uffef]+")
# The switch names each language in itself, so 日本語 is on every English page by design.
LANGUAGE_NAMES = {"日本語"}
# Kana and CJK ideographs: words a screen reader reading English would mangle (unlike 「…」
# quoting an example in the English help of the search box).
JAPANESE_WORDS = re.compile(r"[\u3041-\u30ff\u3400-\u9fff]")
# Read by screen readers besides the text; an element's lang applies to them too.
SPOKEN_ATTRIBUTES = ("title", "aria-label", "alt")

BODY = "関係人口を増やすため都市部の若者が週末に農村で働ける仕組みを整えるべきだ。"


def read_catalogue(path: Path):
    with path.open("rb") as handle:
        return read_po(handle)


def untranslated(catalogue) -> list:
    """Entries without a translation (any plural form empty) or marked fuzzy."""
    return [
        message.id
        for message in catalogue
        if message.id
        and (message.fuzzy or not all(message.string if message.pluralizable else [message.string]))
    ]


def japanese_chrome(html: str, entered: tuple[str, ...] = ()) -> list[str]:
    """Runs of Japanese in ``html`` that are not data from the database, what the user
    ``entered``, nor 日本語."""
    data = "\n".join(
        [
            *entered,
            *Opinion.objects.values_list("body", flat=True),
            *(
                text
                for theme in Theme.objects.all()
                for text in (theme.name, theme.short_label, theme.display_name)
            ),
            *(
                text
                for model in (MunicipalitySize, Stakeholder)
                for tag in model.objects.all()
                for text in (tag.name, tag.description)
            ),
            *Committee.objects.values_list("name", flat=True),
            # The 対応区分 are a curated vocabulary (data, like the tags), seeded in Japanese.
            *(
                text
                for category in ResponseCategory.objects.all()
                for text in (category.name, category.description)
            ),
            *(str(document) for document in SourceDocument.objects.all()),
            *SourceDocument.objects.values_list("slug", flat=True),  # in links and <option>s
        ]
    )
    return sorted(
        {run for run in JAPANESE.findall(html) if run not in data and run not in LANGUAGE_NAMES}
    )


@pytest.fixture
def english(client):
    """The client after choosing English with the switch in the header."""
    response = client.post(reverse("set_language"), {"language": "en", "next": "/themes/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


@pytest.fixture
def remarks(db):
    """A small tree of Japanese data, with words that appear nowhere in the interface."""
    section = SectionFactory(name="地方への新しい人の流れ", short_label="人の流れ")
    theme = ThemeFactory(parent=section, name="地域を担う人材", short_label="地域人材")
    subtheme = SubthemeFactory(parent=theme, name="広域での連携", short_label="広域連携")
    size = MunicipalitySizeFactory(name="中山間地域", description="山あいの小さな町村")
    stakeholder = StakeholderFactory(name="地元企業", description="地域に根ざした企業")
    TagRule.objects.create(municipality_size=size, pattern="農村")
    meeting = MeetingFactory(committee__name="総合戦略策定会議", number=1, held_on="2019-05-20")
    document = SourceDocumentFactory(
        committee=meeting.committee, title="主な論点の整理", label="別添"
    )
    document.meetings.add(meeting)
    opinions = [
        OpinionFactory(
            body=body, theme=node, source_document=document, position=position, meeting=meeting
        )
        for position, (body, node) in enumerate(
            [
                (BODY, subtheme),
                ("移住の相談窓口を一本化して若者の不安を減らすべきだ。", theme),
                ("農村の空き家を活用した住まいの確保が必要だ。", subtheme),
            ],
            start=1,
        )
    ]
    for opinion in opinions:
        opinion.municipality_sizes.add(size)
        opinion.stakeholders.add(stakeholder)
    return {
        "section": section,
        "theme": theme,
        "subtheme": subtheme,
        "size": size,
        "stakeholder": stakeholder,
        "opinion": opinions[0],
    }


@pytest.fixture
def member():
    user = UserFactory(username="tanaka", email="tanaka@example.jp")
    user.groups.add(Group.objects.get(name=roles.MEMBER))
    return user


def assert_english(
    response, *expected: str, entered: tuple[str, ...] = (), status: int = 200
) -> str:
    assert response.status_code == status
    html = response.content.decode()
    assert '<html lang="en">' in html
    for text in expected:
        assert text in html, f"{text!r} is not on the page"
    assert japanese_chrome(html, entered) == [], "Japanese interface text on an English page"
    return html


def declared_language(element) -> str:
    """The lang of the nearest element, from ``element`` up, that has one."""
    found = element.xpath("ancestor-or-self::*[@lang][1]/@lang")
    return found[0] if found else ""


def spoken(html: str) -> list[tuple[str, str]]:
    """What a screen reader reads in the page's <body> (text, and the attributes it speaks),
    each with the language it is declared in."""
    # A <wbr> (a line-break opportunity, e.g. after 「・」) is not a pause: read across it.
    body = lxml.html.document_fromstring(html.replace("<wbr>", "")).body
    nodes = body.xpath(
        ".//text()[not(ancestor::script or ancestor::style)]"
        + "".join(f" | .//@{name}" for name in SPOKEN_ATTRIBUTES)
    )
    texts = []
    for node in nodes:
        element = node.getparent()
        if node.is_tail:  # the text after an element is its parent's
            element = element.getparent()
        texts.append((str(node), declared_language(element)))
    return texts


def assert_data_in_japanese(response, *data: str, entered: tuple[str, ...] = ()) -> str:
    """An English page whose Japanese (the data) is all inside elements with lang="ja", so
    that screen readers read it as Japanese; each of ``data`` is shown there."""
    html = assert_english(response, entered=entered)
    texts = spoken(html)
    read_as_english = [
        text.strip() for text, lang in texts if JAPANESE_WORDS.search(text) and lang != "ja"
    ]
    assert read_as_english == [], 'Japanese data outside any lang="ja" element'
    in_japanese = [text for text, lang in texts if lang == "ja"]
    for text in data:
        assert any(text in piece for piece in in_japanese), f'{text!r} is not marked lang="ja"'
    return html


# --- The switch ---------------------------------------------------------------------------


def test_japanese_is_the_default_even_for_a_browser_asking_for_english(client, remarks):
    response = client.get(reverse("opinions:theme-index"), HTTP_ACCEPT_LANGUAGE="en-US,en")
    html = response.content.decode()
    assert '<html lang="ja">' in html
    assert "テーマ別の意見" in html
    assert response.headers["Content-Language"] == "ja"


def test_a_language_the_portal_does_not_have_falls_back_to_japanese(client, remarks):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert '<html lang="ja">' in client.get(reverse("opinions:theme-index")).content.decode()


def test_the_header_has_a_language_switch_back_to_the_current_page(client, remarks):
    url = f"{reverse('opinions:opinion-list')}?size={remarks['size'].slug}"
    html = client.get(url).content.decode()
    form = re.search(r'<form class="language-switch".*?</form>', html, re.S).group(0)
    assert f'action="{reverse("set_language")}"' in form
    # No CSRF token: the switch is csrf_exempt so anonymous pages can be cached whole.
    assert 'name="csrfmiddlewaretoken"' not in form
    assert f'name="next" value="{url}"' in form.replace("&amp;", "&")
    assert 'role="group" aria-label="表示言語"' in form
    # The current language is marked, the other is a button named in its own language.
    current = '<span class="language-switch__current" lang="ja" aria-current="true">日本語</span>'
    assert current in form
    assert 'name="language" value="en" lang="en" class="link-button">English</button>' in form


def test_choosing_english_comes_back_to_the_page_in_english(client, remarks):
    url = f"{reverse('opinions:opinion-list')}?size={remarks['size'].slug}"
    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    assert response.url == url
    response = client.get(url)
    html = response.content.decode()
    assert '<html lang="en">' in html and response.headers["Content-Language"] == "en"
    assert '<span class="language-switch__current" lang="en" aria-current="true">English' in html
    assert 'value="ja" lang="ja" class="link-button">日本語</button>' in html
    client.post(reverse("set_language"), {"language": "ja", "next": url})
    assert '<html lang="ja">' in client.get(url).content.decode()


# --- English pages: English interface, Japanese data -------------------------------------


def test_theme_index_in_english(english, remarks):
    html = assert_english(
        english.get(reverse("opinions:theme-index")),
        "<title>By theme | Expert Committee Remarks Portal</title>",
        "Remarks by theme",
        "3 remarks",
        "All remarks",
        "Cross-tabulation",
        "Skip to main content",
    )
    assert remarks["section"].display_name in html  # data as entered


def test_list_with_facets_and_search_in_english(english, remarks):
    url = (
        f"{reverse('opinions:opinion-list')}?q=農村&theme={remarks['section'].slug}"
        f"&size={remarks['size'].slug}&stakeholder={remarks['stakeholder'].slug}"
    )
    html = assert_english(
        english.get(url),
        "Search results for “農村”",
        "2 remarks",
        "Keywords",
        "Municipality size",
        "Stakeholder",
        "All documents",
        "Clear all filters",
        "Relevance",
        "Apply filters",
    )
    assert "<mark>農村</mark>" in html


def test_one_remark_is_counted_in_the_singular(english, remarks):
    url = f"{reverse('opinions:opinion-list')}?q=相談窓口"
    html = assert_english(english.get(url), "1 remark")
    assert "1 remarks" not in html


def test_detail_in_english(english, remarks):
    opinion = remarks["opinion"]
    html = assert_english(
        english.get(opinion.get_absolute_url()),
        f"<title>Remark {opinion.pk}: 広域連携 | Expert Committee Remarks Portal</title>",
        "Municipality size",
        "Source",
        " (remark no. 1)",
        "Meeting 1 (May 20, 2019)",
        "Link to this remark",
        "Next remark",
        "Related remarks",
    )
    assert BODY in html


def test_theme_summary_in_english(english, remarks):
    assert_english(
        english.get(remarks["section"].get_absolute_url()),
        "Breakdown",
        "Remarks by municipality size",
        "Show the figures as a table",
        "Themes",
        "Remarks",
    )


@pytest.mark.parametrize("axis", ["stakeholder", "size"])
def test_crosstab_in_english(english, remarks, axis):
    label = {"stakeholder": "Stakeholder", "size": "Municipality size"}[axis]
    assert_english(
        english.get(f"{reverse('opinions:crosstab')}?axis={axis}"),
        f"<title>Cross-tabulation: Theme × {label} | Expert Committee Remarks Portal</title>",
        f'<caption id="crosstab-caption">Theme × {label}</caption>',
    )


def test_login_in_english(english, remarks):
    assert_english(
        english.get(f"{reverse('login')}?next={reverse('opinions:submit')}"),
        "Please log in to continue.",
        "Username",
        "Password",
        "Required",
    )


def test_submission_form_its_errors_and_confirmation_in_english(english, remarks, member):
    english.force_login(member)
    submit = reverse("opinions:submit")
    assert_english(
        english.get(submit),
        "Submit a remark",
        "Text of the remark",
        "Between 10 and 2000 characters.",
        "Continue to confirmation",
        "My page",
    )
    data = {"body": "短い", "theme": remarks["theme"].pk, "step": "confirm"}
    data["token"] = "0b5c3f5e-3d36-4d47-9d55-2a8d1f6f0c11"
    assert_english(
        english.post(submit, data),
        "Please check what you entered.",
        "Enter at least 10 characters (it currently has 2).",
        entered=(data["body"],),
    )
    data["body"] = "農村の暮らしを支える交通の確保が欠かせない。"
    html = assert_english(
        english.post(submit, data),
        "You are about to submit the following",
        "Add these tags too?",
        "+ 中山間地域",
        "“農村”",
        "Submit this remark",
        entered=(data["body"],),
    )
    assert data["body"] in html


def test_my_page_in_english(english, remarks, member):
    english.force_login(member)
    OpinionFactory(
        body="空き家の改修に補助を出すべきだ。",
        author=member,
        theme=remarks["theme"],
        status=Opinion.Status.RETURNED,
    )
    assert_english(
        english.get(reverse("opinions:mypage")),
        "Remarks submitted by tanaka.",
        "Returned",
        "Withdraw",
        "Change password",
    )


def test_mail_follows_the_language_of_whoever_acts(
    english, remarks, member, mailoutbox, django_capture_on_commit_callbacks
):
    """The member submitting in English gets an English mail; the Secretariat's stays Japanese."""
    staff = UserFactory(username="suzuki", email="suzuki@example.jp")
    staff.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    english.force_login(member)
    data = {
        "body": "地域の交通を守るための財源が必要だ。",
        "theme": remarks["theme"].pk,
        "token": "6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
        "step": "save",
    }
    with django_capture_on_commit_callbacks(execute=True):
        english.post(reverse("opinions:submit"), data)
    mail = {message.to[0]: message for message in mailoutbox}
    assert mail[member.email].subject == "[Remarks Portal] Your remark has been received"
    assert mail[member.email].body.startswith("Dear tanaka,")
    assert mail[staff.email].subject.startswith("【意見ポータル】確認待ちの意見（新規）")
    assert mail[staff.email].body.startswith("事務局 各位")


def test_the_other_pages_in_english(english, remarks, member):
    """Review queue, edit, withdraw, done, password change, 404 and 403: no Japanese left."""
    pending = OpinionFactory(
        body="空き家の改修に補助を出すべきだ。",
        author=member,
        theme=remarks["theme"],
        status=Opinion.Status.PENDING,
    )
    english.force_login(member)
    for url, expected in [
        (reverse("opinions:opinion-edit", args=[pending.pk]), "Edit remark"),
        (reverse("opinions:opinion-withdraw", args=[pending.pk]), "Withdraw a remark"),
        (reverse("opinions:submit-done", args=[pending.pk]), "Reference number"),
        (reverse("password_change"), "Change password"),
    ]:
        assert_english(english.get(url), expected)
    assert_english(english.get(reverse("opinions:review-queue")), "You cannot do this", status=403)
    assert_english(english.get("/no-such-page/"), "Page not found", status=404)

    staff = UserFactory(username="suzuki")
    staff.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    english.force_login(staff)
    assert_english(
        english.get(reverse("opinions:review-queue")),
        "Remarks awaiting review",
        "1 remark",
        "Comment to the author",
        "Publish",
        "Return",
    )


# --- English pages: the data marked as Japanese, for screen readers ----------------------


def tags_of(remark) -> list[str]:
    return [tag.name for tag in (*remark.municipality_sizes.all(), *remark.stakeholders.all())]


def test_list_marks_remarks_snippets_themes_tags_and_facets_as_japanese(english, seed):
    response = english.get(reverse("opinions:opinion-list"), {"q": "地方公共団体"})
    remarks = list(response.context["object_list"])
    facets = response.context["facets"]
    options = [*facets.theme, *facets.size, *facets.stakeholder, *facets.document, *facets.meeting]
    html = assert_data_in_japanese(
        response,
        *(node.short_label for remark in remarks for node in remark.breadcrumbs),
        *(name for remark in remarks for name in tags_of(remark)),
        *(option.label for option in options if option.lang == "ja"),
        *(option.title for option in options if option.title),
        "地方公共団体",  # in the line saying the search took its synonyms too
    )
    marks = lxml.html.document_fromstring(html).body.xpath(".//mark")
    assert marks and remarks
    assert {declared_language(mark) for mark in marks} == {"ja"}


def test_list_chips_mark_the_data_as_japanese_and_the_meeting_number_not(english, seed):
    theme = Theme.objects.get(slug="dai1ki-kadai")
    document = SourceDocument.objects.first()
    meeting = document.meetings.first()
    response = english.get(
        reverse("opinions:opinion-list"),
        {
            "q": "地方",
            "theme": theme.slug,
            "stakeholder": "women",
            "size": "small-municipality",
            "document": document.slug,
            "meeting": meeting.pk,
        },
    )
    data = ["地方", theme.short_label, "女性", "小規模自治体", str(document)]
    html = assert_data_in_japanese(response, *data)
    chips = lxml.html.document_fromstring(html).body.find_class("chip")[:-1]  # not "Clear all"
    values = {chip.text_content().split(": ", 1)[1].split("×")[0]: chip for chip in chips}
    number = f"Meeting {meeting.number}"  # 第1回: the interface's words, not data
    assert values.keys() == {*data, number}
    assert declared_language(values[number][1]) == "en"


def test_detail_marks_the_remark_its_themes_tags_source_and_neighbours_as_japanese(english, seed):
    opinion = (
        Opinion.objects.filter(municipality_sizes__isnull=False, stakeholders__isnull=False)
        .order_by("pk")
        .first()
    )
    response = english.get(opinion.get_absolute_url())
    context = response.context
    neighbours = [other for other in (context["previous"], context["next"]) if other]
    assert neighbours and context["related"]
    assert_data_in_japanese(
        response,
        opinion.body[:20],
        *(node.short_label for node in opinion.breadcrumbs),  # the breadcrumbs
        *(node.display_name for node in opinion.breadcrumbs),  # the heading and the trail
        *tags_of(opinion),
        str(opinion.source_document),
        *(other.body[:20] for other in neighbours),
        *(other.body[:20] for other in context["related"]),
    )


def test_detail_marks_the_committee_but_not_the_meeting_number(english, remarks):
    html = assert_data_in_japanese(english.get(remarks["opinion"].get_absolute_url()))
    assert '<span lang="ja" class="opinion-detail__committee">総合戦略策定会議</span>' in html
    assert "<li>Meeting 1 (May 20, 2019)</li>" in html


def test_theme_index_marks_every_theme_as_japanese(english, seed):
    assert_data_in_japanese(
        english.get(reverse("opinions:theme-index")),
        *(theme.display_name for theme in Theme.objects.all()),
    )


def test_theme_page_marks_themes_chart_labels_and_remarks_as_japanese(english, seed):
    response = english.get(reverse("opinions:theme-detail", args=["dai1ki-kadai"]))
    summary = response.context["summary"]
    bars = [*summary.size_bars, *summary.stakeholder_bars, *response.context["category_bars"]]
    html = assert_data_in_japanese(
        response,
        *(node.theme.display_name for node in summary.subtree),
        *(bar.label for bar in bars if bar.lang == "ja"),
        *(remark.body[:20] for _, remarks in summary.opinions_by_node for remark in remarks),
    )
    labels = lxml.html.document_fromstring(html).body.find_class("chart__label")
    assert [label.text for label in labels] == [bar.label for bar in bars]
    # The tags' names are data; the bar of the remarks without a tag is in English.
    assert [declared_language(label) for label in labels] == [bar.lang or "en" for bar in bars]
    assert [bar.label for bar in bars if not bar.lang] == ["Any size", "No stakeholder given"]


@pytest.mark.parametrize("axis", ["stakeholder", "size"])
def test_crosstab_marks_themes_and_tags_as_japanese(english, seed, axis):
    response = english.get(reverse("opinions:crosstab"), {"axis": axis})
    table = response.context["table"]
    assert_data_in_japanese(
        response,
        *(tag.name for tag in table.columns if tag.pk),
        *(
            node.theme.display_name if node.theme.level == 1 else node.theme.short_label
            for node, _cells in table.rows
        ),
    )


def test_member_and_secretariat_pages_mark_the_data_as_japanese(english, remarks, member):
    """Submission (form, confirmation, done), マイページ, edit, withdraw and the review queue."""
    english.force_login(member)
    submit = reverse("opinions:submit")
    assert_data_in_japanese(
        english.get(submit), remarks["subtheme"].short_label, remarks["stakeholder"].name
    )
    data = {
        "body": "農村の暮らしを支える交通の確保が欠かせない。",
        "theme": remarks["theme"].pk,
        "stakeholders": remarks["stakeholder"].pk,
        "token": "2d4c1b6a-8e9f-4a0b-9c1d-3e5f7a9b1c2d",
        "step": "confirm",
    }
    assert_data_in_japanese(
        english.post(submit, data),
        data["body"],
        remarks["theme"].display_name,
        remarks["stakeholder"].name,
        "中山間地域",  # the tag suggested
        "農村",  # the words it was suggested for
        entered=(data["body"],),
    )
    data["step"] = "save"
    done = english.post(submit, data)
    mine = Opinion.objects.get(author=member)
    assert done.url == reverse("opinions:submit-done", args=[mine.pk])
    assert_data_in_japanese(english.get(done.url), data["body"], remarks["theme"].display_name)

    returned = OpinionFactory(
        body="空き家の改修に補助を出すべきだ。",
        author=member,
        theme=remarks["subtheme"],
        status=Opinion.Status.RETURNED,
        review_comment="対象となる地域を書き添えてください。",
    )
    assert_data_in_japanese(
        english.get(reverse("opinions:mypage")),
        returned.body,
        returned.review_comment,
        remarks["subtheme"].short_label,
        entered=(returned.review_comment,),
    )
    assert_data_in_japanese(
        english.get(reverse("opinions:opinion-edit", args=[returned.pk])),
        returned.body,  # in the text area
        returned.review_comment,
        remarks["subtheme"].short_label,  # among the options
        entered=(returned.review_comment,),
    )
    assert_data_in_japanese(
        english.get(reverse("opinions:opinion-withdraw", args=[returned.pk])), returned.body
    )

    staff = UserFactory(username="suzuki")
    staff.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    english.force_login(staff)
    assert_data_in_japanese(
        english.get(reverse("opinions:review-queue")),
        data["body"],
        remarks["theme"].display_name,  # in the heading "Remark 12: …"
        remarks["stakeholder"].name,
    )


def test_an_edit_conflict_marks_the_changed_data_but_not_the_status(english, remarks, member):
    pending = OpinionFactory(body=BODY, author=member, theme=remarks["theme"], status="pending")
    english.force_login(member)
    edit = reverse("opinions:opinion-edit", args=[pending.pk])
    started_at = english.get(edit).context["form"]["version"].value()
    services.review_opinion(
        pending.pk,
        by=UserFactory(),
        expected_version=pending.version,
        publish=False,
        comment="表現を見直してください",
    )
    response = english.post(
        edit, {"body": BODY, "theme": remarks["theme"].pk, "version": started_at}
    )
    html = assert_data_in_japanese(
        response, "表現を見直してください", entered=("表現を見直してください",)
    )
    rows = lxml.html.document_fromstring(html).body.xpath(".//table[@class='diff']/tbody/tr")
    cells = {
        row[0].text: [(cell.text_content(), declared_language(cell)) for cell in row[1:]]
        for row in rows
    }
    assert cells["Status"] == [("Awaiting review", "en"), ("Returned", "en")]
    assert cells["Comment from the Secretariat"] == [("—", "ja"), ("表現を見直してください", "ja")]


def test_data_marked_inside_a_translated_sentence_is_still_escaped(english, remarks, member):
    theme = ThemeFactory(name="<b>太字</b>のテーマ", short_label="<b>太字</b>")
    pending = OpinionFactory(body=BODY, author=member, theme=theme, status="pending")
    staff = UserFactory()
    staff.groups.add(Group.objects.get(name=roles.SECRETARIAT))
    english.force_login(staff)
    html = english.get(reverse("opinions:review-queue")).content.decode()
    heading = f'Remark {pending.pk}: <span lang="ja">{escape(theme.display_name)}</span></h2>'
    assert heading in html and "<b>太字" not in html


def test_japanese_pages_stay_japanese_throughout(client, seed):
    """lang="ja" is on the data on every page (redundant on Japanese ones, and harmless): the
    page is still Japanese as a whole, and nothing on it claims another language but the
    switch's "English"."""
    response = client.get(reverse("opinions:theme-detail", args=["dai1ki-kadai"]))
    html = response.content.decode()
    assert '<html lang="ja">' in html and response.headers["Content-Language"] == "ja"
    assert "小規模自治体</a></th><td>5</td>" in html  # the chart's table, as it was
    languages = {lang for text, lang in spoken(html) if text.strip()}
    assert languages == {"ja", "en"}
    assert [text for text, lang in spoken(html) if lang == "en"] == ["English"]


# --- The catalogue ---------------------------------------------------------------------------


def test_every_entry_of_the_catalogue_is_translated_and_none_is_fuzzy():
    catalogue = read_catalogue(CATALOGUE)
    assert not catalogue.fuzzy, "the header is marked fuzzy: Babel would not compile it"
    assert untranslated(catalogue) == []


@pytest.mark.parametrize("language", ["en", "ja"])
def test_translations_keep_the_placeholders_of_the_original(language):
    """%(name)s in the msgid is %(name)s in the msgstr (Babel's own checks); ja holds the
    Japanese of third-party apps' English strings (django-simple-history)."""
    catalogue = read_catalogue(ROOT / "locale" / language / "LC_MESSAGES" / "django.po")
    problems = [(message.id, errors) for message, errors in catalogue.check()]
    assert problems == []
    assert untranslated(catalogue) == []


def test_catalogue_is_complete_against_the_code(tmp_path, monkeypatch, settings):
    """makemessages on a copy of the project finds no string the committed catalogue lacks,
    and none it has that the code no longer uses."""
    if not (shutil.which("xgettext") and shutil.which("msgmerge")):
        pytest.skip(
            "GNU gettext (xgettext, msgmerge) is not installed, so makemessages cannot run; "
            "CI installs it (apt-get install gettext)"
        )
    copy = tmp_path / "project"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git", *MAKEMESSAGES_IGNORE, "__pycache__", ".*_cache", "*.mo", "*.sqlite3"
        ),
    )
    monkeypatch.chdir(copy)
    settings.LOCALE_PATHS = [copy / "locale"]
    call_command("makemessages", locale=["en"], ignore_patterns=MAKEMESSAGES_IGNORE, verbosity=0)

    regenerated = read_catalogue(copy / "locale" / "en" / "LC_MESSAGES" / "django.po")
    committed = read_catalogue(CATALOGUE)

    def keys(catalogue):
        return {(message.context, message.id) for message in catalogue if message.id}

    assert untranslated(regenerated) == [], (
        "strings in the code without an English translation: run makemessages and translate "
        "them (README, Languages)"
    )
    assert keys(committed) == keys(regenerated), "the catalogue is out of date: run makemessages"


def test_counts_in_the_selects_are_localized_as_the_template_language_would(settings):
    """A shortcut gives a whole number's digits; with a thousands separator set, localize."""
    from django.template import engines
    from django.utils import translation

    from opinions.browsing.facets import FacetOption
    from opinions.templatetags.opinions_extras import facet_options

    options = [FacetOption("a", "資料", 1234567, False), FacetOption("b", "会議", 0, False)]
    loop = engines["django"].from_string(
        "{% for option in options %}{{ option.count }}|{% endfor %}"
    )
    for grouping in (False, True):
        settings.USE_THOUSAND_SEPARATOR = grouping
        with translation.override("en"):
            shown = loop.render({"options": options}).split("|")[:2]
            html = str(facet_options(options))
        assert f"({shown[0]})" in html and f"({shown[1]})" in html
    assert "1,234,567" in html
