from django import template
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
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


@register.simple_tag
def facet_options(options):
    """The ``<option>`` elements of a facet's ``<select>`` (includes/facet_select.html):
    the tree's indent, the label, and the count as the list shows it. The same markup a
    template loop gives, built here: a list page's three selects hold a few hundred options
    (themes, documents, meetings), and looping over them in the template language cost 7 ms
    of a first visit's 57 at a million remarks."""
    pattern = gettext("（%(count)s）")

    def count(option):
        shown = conditional_escape(localize(approximate(option.count, option.estimated)))
        return mark_safe(pattern % {"count": shown})

    return format_html_join(
        "\n",
        '<option value="{}"{}{}{} lang="ja">{}{}{}</option>',
        (
            (
                option.value,
                mark_safe(" selected") if option.selected else "",
                mark_safe(" disabled") if option.disabled else "",
                format_html(' title="{}"', option.title) if option.title else "",
                indent(option.depth),
                option.label,
                count(option),
            )
            for option in options
        ),
    )
