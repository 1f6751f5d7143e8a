"""The summary-document parser, on the committee's own document and on broken input."""

from pathlib import Path

import pytest

from opinions.importers import (
    SummaryParseError,
    decode_text,
    join_wrapped,
    parse_summary,
    render_summary,
)

TITLE = "第１回、第２回における主なご意見"

# Opinions per node, read off the document.
EXPECTED_COUNTS = {
    "第１期の地方創生の評価と今後の方向性（総論）": 46,
    "第１期の地方創生の成果": 4,
    "成果の要因": 2,
    "成果の横展開": 2,
    "第１期の地方創生の課題": 17,
    "地方公共団体の課題": 6,
    "地域の課題": 2,
    "地方公共団体の規模別の課題・対応方針": 6,
    "広域連携の視点": 3,
    "地域の担い手、企業など「民」の力の活用": 7,
    "地域の担い手の活用・支援": 4,
    "産業界との連携": 3,
    "第１期「まち・ひと・しごと創生総合戦略」に関する検証": 18,
    "基本目標の KPI": 2,
    "東京一極集中の是正": 6,
    "地方創生版・三本の矢": 5,
    "地方版総合戦略": 4,
    "第２期の検討テーマ（各論）": 22,
    "人材育成等・関係人口": 8,
    "人材育成の視点": 3,
    "高校生に対する地域教育": 5,
    "稼げるしごとと働き方": 2,
    "未来技術（Society 5.0等）": 5,
    "少子化対策・全世代活躍まちづくり": 0,
    "グローバル化（対日直接投資、地元産品の海外展開等）": 0,
    "SDGs": 3,
    "地域交通": 1,
    "スポーツ・健康まちづくり": 0,
    "多文化共生": 1,
    "防災": 1,
    "国土構造": 1,
}


@pytest.fixture(scope="module")
def document(seed_text):
    return parse_summary(seed_text)


def node_named(document, name, level=None):
    matches = [n for n in document.nodes() if n.name == name and level in (None, n.level)]
    assert len(matches) == 1, f"{name}: {len(matches)} nodes"
    return matches[0]


def test_seed_has_the_documents_shape(document):
    assert document.counts() == {"sections": 2, "themes": 14, "subthemes": 17, "opinions": 68}


def test_title_and_page_header_become_document_fields(document):
    assert document.title == TITLE
    assert document.label == "参考資料１"


@pytest.mark.parametrize(("name", "count"), EXPECTED_COUNTS.items())
def test_opinion_count_per_node(document, name, count):
    assert node_named(document, name).opinion_count == count


def test_both_other_nodes_are_counted_separately(document):
    other_theme = node_named(document, "その他", level=2)
    other_subtheme = node_named(document, "その他", level=3)
    assert (other_theme.opinion_count, other_subtheme.opinion_count) == (2, 1)


def test_the_three_themes_without_opinions_are_kept(document):
    empty = [n.name for n in document.nodes() if n.level == 2 and n.opinion_count == 0]
    assert empty == [
        "少子化対策・全世代活躍まちづくり",
        "グローバル化（対日直接投資、地元産品の海外展開等）",
        "スポーツ・健康まちづくり",
    ]


@pytest.mark.parametrize(
    ("node", "first", "last"),
    [
        (
            "成果の要因",
            "第１期において、大きな成果が上がっているのは、人口規模が比較的小さい中で、危機感が強く、"
            "コミュニティがしっかりしているところが多かったのではないか。",
            "比較的成果を上げている地域活性化の取組に共通するのは、①地域資源の徹底活用で地域の所得向上を"
            "目指していること、②結婚・出産・子育て・教育などの支援策、いわゆる現役世代への投資を行っている"
            "ということ、③地域の多様なステークホルダーが連携・協働し、地域ぐるみの体制の中で取り組んでいる"
            "こと、④首長の強いリーダーシップがあることの４点であると考える。",
        ),
        (
            # The last opinion here continues across a page break (" が回っていく…").
            "地方公共団体の規模別の課題・対応方針",
            "中核市などの圏域の中心になるような規模の自治体においては、コミュニティが弱く危機感の共有が"
            "十分にできずに、あまり大きな成果が上がらなかったのではないか。",
            "数千人規模の町については、暮らしを保つということが至上命題になっている。経済には、貨幣経済"
            "以外にも、自給経済、お裾分け経済の３種類があり、小さな自治体では、貨幣経済の割合が小さくても、"
            "自給経済とお裾分け経済を強化することで、うまく地域が回っていくのではないか。",
        ),
        (
            # The last opinion here had a trailing space inside a wrapped line (そのためには、 ).
            "地方公共団体の課題",
            "地方創生にどのように取り組んでいけば良いかよく分からないという状況に陥っている地方自治体が"
            "あるのではないか。地方自治体については、マーケティング戦略などの考え方が十分にまだ浸透して"
            "いないと思われる。産官学金労言が一体となった会議体はあっても、そこが実際に十分に機能していない"
            "という課題があるのではないか。",
            "第２期総合戦略に向けては、プロセスの質を高めることが重要である。そのためには、しっかりとした"
            "マーケティングやニーズ調査を行うとともに、プロセスにおいて関係者を巻き込んでいくことが必要である。",
        ),
        (
            "稼げるしごとと働き方",
            "人材育成やインフラの整備などを含め、産業連関表で見るような体系的な産業構造を地方につくり、"
            "産業的な意味でのエコシステムを構築することが重要ではないか。",
            "介護の産業化をもっと積極的に進めていくべきではないか。産業化することで地域振興にもなるし、"
            "労働力の吸収にもつながる。地域と産業の両者にとってウィン・ウィンのモデルを構想すべきではないか。",
        ),
        (
            "SDGs",
            "SDGsは地方創生において非常に重要であり、特にゴール 17のパートナーシップが重要。パートナー"
            "シップをいかに結んでいくかを中心に、自治体においても SDGs の取組を見直すことを検討すべきではないか。",
            "SDGsについては、産学官の連携で進めることになっているが、現状は縦割りになっている。連携させて"
            "新しいビジネスをつくったり、新しい人材が育成されるというような観点で進めていくべきである。",
        ),
        (
            "多文化共生",
            "観光や外国人材の受入れに向けては、「ボイストラ」という 31言語の多言語音声翻訳システムが開発"
            "されており、自治体や政府機関等も低コストで対応できるため、積極的に活用を検討するべきである。",
            None,
        ),
    ],
)
def test_first_and_last_opinion_texts(document, node, first, last):
    opinions = node_named(document, node).opinions
    assert opinions[0].body == first
    assert opinions[-1].body == (last or first)


def test_no_opinion_keeps_a_line_break_header_or_title(document):
    for _, opinion in document.opinions():
        assert "\n" not in opinion.body and "\r" not in opinion.body
        assert "参考資料" not in opinion.body
        assert TITLE not in opinion.body
        assert opinion.body == opinion.body.strip()
        assert not opinion.body.startswith("・")


def test_section_and_theme_order_follows_the_document(document):
    sections = [s.name for s in document.sections]
    assert sections == [
        "第１期の地方創生の評価と今後の方向性（総論）",
        "第２期の検討テーマ（各論）",
    ]
    assert [t.name for t in document.sections[1].children][-2:] == ["多文化共生", "その他"]


def test_theme_with_kanji_zero_mark_is_a_theme(document):
    # 〇第１期「まち・ひと・しごと…」 uses U+3007, not ○ U+25CB.
    assert node_named(document, "第１期「まち・ひと・しごと創生総合戦略」に関する検証").level == 2


def test_crlf_and_bom_give_the_same_tree(seed_text, document):
    variant = "\ufeff" + seed_text.replace("\n", "\r\n")
    assert parse_summary(variant) == document


def test_leading_ideographic_and_ascii_spaces_are_ignored(seed_text, document):
    variant = "\n".join(f"\u3000 {line}" for line in seed_text.splitlines())
    assert parse_summary(variant) == document


def test_shift_jis_file_decodes_like_utf8(seed_text, document):
    assert parse_summary(decode_text(seed_text.encode("cp932"))) == document


def test_rendered_text_parses_back_to_the_same_tree(document):
    assert parse_summary(render_summary(document)) == document


def test_wrapped_japanese_joins_without_a_space():
    assert (
        join_wrapped("危機感が強く、コミュニ", "ティがしっかり")
        == "危機感が強く、コミュニティがしっかり"
    )


def test_wrapped_english_words_get_their_space_back():
    assert join_wrapped("Society", "5.0") == "Society 5.0"
    assert join_wrapped("KPI", "の立て方") == "KPIの立て方"


def test_repeated_title_and_page_headers_are_dropped():
    text = "題名\n【章】\n○テーマ\n・前半の\n参考資料１\n題名\n- 2 -\n後半。\n"
    document = parse_summary(text)
    [(_, opinion)] = list(document.opinions())
    assert opinion.body == "前半の後半。"


def test_half_width_brackets_and_marks_are_accepted():
    document = parse_summary("題名\n【章】\n〇テーマ\n<小テーマ>\n･意見。\n")
    assert [(n.level, n.name) for n in document.nodes()] == [
        (1, "章"),
        (2, "テーマ"),
        (3, "小テーマ"),
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", 1, "空"),
        ("題名\n本文だけの行\n", 2, "見出しが一つもありません"),
        ("題名\nただの文章\nもう一行\n", 2, "見出しが一つもありません"),
        ("【章】\n", 1, "題名"),
        ("題名\n【章】\n＜小テーマ＞\n", 3, "意見が一つも読み取れません"),
        ("題名\n○テーマ\n", 2, "意見が一つも読み取れません"),
        ("題名\n【章\n", 2, "閉じていません"),
        ("題名\n【】\n", 2, "空"),
        ("題名\n【章】\n○テーマ\n＜小テーマ\n", 4, "閉じていません"),
        ("題名\n【章】\n○\n", 3, "空"),
        ("題名\n【章】\n○テーマ\n・\n", 4, "本文が空"),
        ("題名\n【章】\n○テーマ\n説明文\n・意見。\n", 4, "「・」で始まらない"),
        (
            "題名\n【章】\n○テーマ\n＜小＞\n・意見。\n【章２】\n＜小２＞\n・意見。\n",
            7,
            "一つ上の見出し（○）がありません",
        ),
        ("題名\n【章】\n○テーマ\n＜小＞\n・意見。\n■別\n・意見。\n", 6, "3段まで"),
        ("題名\n【章】\n○テーマ\n・意見\n○テーマ\n", 5, "3行目にも"),
        ("題名\n【章】\n\n\n○Ａ\n○Ａ\n", 6, "同じ見出し"),
    ],
)
def test_malformed_input_names_the_line(text, line, message):
    with pytest.raises(SummaryParseError) as caught:
        parse_summary(text)
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{line}行目")


def test_undecodable_bytes_name_their_line():
    data = "題名\n【章】\n".encode() + b"\xff\xfe\xfa\n"
    with pytest.raises(SummaryParseError) as caught:
        decode_text(data)
    assert caught.value.line == 3


def test_seed_copy_is_the_shared_document_unchanged(seed_text):
    shared = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_7e59f9f179f907ca.txt"
    if not shared.exists():
        pytest.skip("../shared is not beside this checkout")
    assert shared.read_text(encoding="utf-8") == seed_text


def test_a_broken_shift_jis_file_names_the_line_where_it_breaks(seed_text):
    """Not always 1行目: the line of the byte neither UTF-8 nor Shift_JIS can read."""
    lines = seed_text.encode("cp932").split(b"\n")
    lines[41] = lines[41][:4] + b"\x85\x40" + lines[41][4:]  # no character in cp932
    with pytest.raises(SummaryParseError) as caught:
        decode_text(b"\n".join(lines))
    assert caught.value.line == 42
    assert "42行目" in str(caught.value)
