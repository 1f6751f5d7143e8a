import html

from django import template
from django.conf import settings
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.utils.translation import get_language, gettext

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``mapping[key]`` in a template (None when missing)."""
    return mapping.get(key)


@register.filter
def lang_ja(value):
    """``value`` (data, always Japanese) in a ``<span lang="ja">``, escaped: for data inside a
    translated sentence, where no element of its own holds it (screen readers then read it as
    Japanese on the English pages too)."""
    return format_html('<span lang="ja">{}</span>', value)


@register.filter
def indent(depth):
    """Ideographic spaces for a tree level (inside <option>, where CSS cannot indent)."""
    return "\u3000" * int(depth or 0)


@register.filter
def heat(table, count):
    """The heat level (0–5) of a cross-tab cell."""
    return table.level(count)


@register.filter
def minutes(duration):
    """A timedelta as whole minutes (rounded up)."""
    seconds = duration.total_seconds() if duration else 0
    return max(1, -(-int(seconds) // 60))


@register.filter
def person_name(user):
    """The person's name, 姓 名 (see opinions.people)."""
    from opinions.people import person_name as name

    return name(user)


@register.filter
def break_at_dots(value):
    """A label, escaped, that may break after each 「・」 and nowhere inside a word (with CSS
    ``word-break: keep-all``): 「言論・メディア」 wraps as 「言論・／メディア」, never 「メデ／ィア」."""
    return mark_safe(conditional_escape(value).replace("・", "・<wbr>"))


@register.filter
def approximate(count, estimated=True):
    """A count as the list shows it: the number itself, or for an estimate 「約 51 万」 /
    "about 510,000" (two significant digits), and 「ごく少数」 for an estimate of none (the
    sample found none; a search finds some)."""
    if not estimated:
        return count
    count = int(count)
    if count <= 0:
        return gettext("ごく少数")
    digits = len(str(count)) - 2
    rounded = round(count, -digits) if digits > 0 else count
    if rounded >= 10_000 and get_language().startswith("ja"):
        return gettext("約 %(count)s万") % {"count": f"{rounded / 10_000:g}"}
    return gettext("約 %(count)s") % {"count": f"{rounded:,}"}


def _escape(value) -> str:
    """``conditional_escape`` without its lazy-string wrapper, for the tags below that build
    hundreds of elements a page: safe strings as they are, the rest as Django escapes them
    (``html.escape``, quotes included)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _localized(value) -> str:
    """``localize``, with its shortcut for a whole number where no thousands separator is
    set (Django's default): the digits, as ``localize`` gives them, without reading three
    formats of the language for each of a page's few hundred counts."""
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return localize(value)


def _option(option, pattern: str) -> str:
    flags = (" selected" if option.selected else "") + (" disabled" if option.disabled else "")
    title = f' title="{_escape(option.title)}"' if option.title else ""
    shown = _escape(_localized(approximate(option.count, option.estimated)))
    return (
        f'<option value="{_escape(option.value)}"{flags}{title} lang="ja">'
        f"{indent(option.depth)}{_escape(option.label)}{pattern % {'count': shown}}</option>"
    )


@register.simple_tag
def facet_options(options):
    """The ``<option>`` elements of a facet's ``<select>`` (includes/facet_select.html):
    the tree's indent, the label, and the count as the list shows it. The same markup a
    template loop gives, built here: a list page's three selects hold a few hundred options
    (themes, documents, meetings), and looping over them in the template language cost 7 ms
    of a first visit's 57 at a million remarks; ``format_html`` for each, half of what was
    left of it."""
    pattern = gettext("（%(count)s）")
    return mark_safe("\n".join(_option(option, pattern) for option in options))


@register.simple_tag
def remark_card(opinion, snippet=None, detail_query=""):
    """A remark as a card of the list and the theme pages: its number, the theme path, the
    text (``snippet``, the search's marked excerpt, or the first 200 characters), its tags,
    the response's 対応区分 and its status where not published, and the link to its page
    (with ``detail_query``, the list it was opened from).

    Built here rather than in a template, as Django's admin builds its change list's rows
    (``items_for_result``): fifty cards of a dozen lookups, loops and translations each cost
    a list page's first visit 35 ms in the template language, 10 ms built here.
    """
    number = _escape(_localized(opinion.pk))
    trail = " › ".join(
        f'<a href="{_escape(node.get_list_url())}">{_escape(node.short_label)}</a>'
        for node in opinion.breadcrumbs
    )
    # A list's and a theme page's rows carry their tags (browsing.cards); others ask.
    tags = getattr(opinion, "card_tags", None) or {
        "size": opinion.municipality_sizes.all(),
        "stakeholder": opinion.stakeholders.all(),
    }
    sizes, stakeholders = (
        "".join(
            f'<a class="tag tag--{kind}" href="{_escape(tag.get_absolute_url())}" lang="ja">'
            f"{_escape(tag.name)}</a>"
            for tag in tags[kind]
        )
        for kind in ("size", "stakeholder")
    )
    marker = ""
    if link := getattr(opinion, "published_link", None):
        category = link.response.category
        title, label = _escape(gettext("事務局の対応")), _escape(gettext("対応"))
        name = _escape(category.name if category is not None else "")
        marker = (
            f'<span class="response-marker" title="{title}">{label}: '
            f'<span lang="ja">{name}</span></span>'
        )
    status = ""
    if opinion.status != "published":
        status = (
            f'<span class="status status--{_escape(opinion.status)}">'
            f"{_escape(opinion.get_status_display())}</span>"
        )
    body = _escape(snippet if snippet else Truncator(opinion.body).chars(200))
    url = _escape(opinion.get_absolute_url()) + _escape(detail_query)
    numbered = gettext("意見番号 %(pk)s") % {"pk": number}
    more, more_of = _escape(gettext("全文")), gettext("（意見 %(pk)s）") % {"pk": number}
    return mark_safe(
        "\n"
        '<article class="opinion-card">\n'
        '  <p class="opinion-card__theme"><span class="opinion-card__number">'
        f"{numbered}</span>\n"
        f'    <span lang="ja">{trail}</span>\n'
        "  </p>\n"
        f'  <p class="opinion-card__body" lang="ja">{body}</p>\n'
        '  <p class="opinion-card__meta">\n'
        f"    {sizes}\n"
        f"    {stakeholders}\n"
        f"    {marker}\n"
        f"    {status}\n"
        f'    <a class="opinion-card__more" href="{url}">{more}'
        f'<span class="visually-hidden">{more_of}</span></a>\n'
        "  </p>\n"
        "</article>\n"
    )


def _share(count, total) -> str:
    """``{% widthratio count total 100 %}``: the percentage, rounded as Django rounds it."""
    try:
        return str(round(float(count) / float(total) * 100))
    except ZeroDivisionError:
        return "0"


@register.simple_tag
def heatmap_cells(table, cells, row_total, level=None, share=True):
    """A cross-tab row's cells (crosstab.html): each count linked to its remarks with its
    share of the row (``share``), shaded by its heat, or 「section」 for a section's row
    (``level`` 1). The same markup the template loop gave, built here: the theme axis has
    about 600 cells, which cost the page half its time in the template language."""
    cells_html = []
    for count, url in cells:
        heat = "section" if level == 1 else _escape(_localized(table.level(count)))
        if count:
            shown = _escape(_localized(count))
            part = f'<span class="heat__share"> {_share(count, row_total)}%</span>' if share else ""
            inner = f'<a href="{_escape(url)}">{shown}{part}</a>'
        else:
            inner = '<span class="heat__zero">0</span>'
        cells_html.append(f'\n          <td class="heat heat--{heat}">{inner}</td>\n        ')
    return mark_safe("".join(cells_html))


@register.simple_tag
def choice_options(choices, chosen=None, value="pk", lang=""):
    """The ``<option>`` elements of a plain select of model instances (the cross-tab's
    documents and meetings): each one's ``value`` field, its name, ``selected`` for
    ``chosen``. The same markup as the template loop, without its hundreds of lookups."""
    chosen_pk = getattr(chosen, "pk", None)
    lang_attr = f' lang="{_escape(lang)}"' if lang else ""
    return mark_safe(
        "".join(
            f'<option value="{_escape(getattr(choice, value))}"{lang_attr}'
            f"{' selected' if chosen_pk is not None and choice.pk == chosen_pk else ''}>"
            f"{_escape(choice)}</option>"
            for choice in choices
        )
    )
