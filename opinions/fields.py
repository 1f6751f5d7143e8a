"""Form fields the forms and the list's filters share."""

from django import forms

from .models import Theme


class ThemeSelect(forms.Select):
    """The theme options marked as Japanese (their labels are data); not the empty choice,
    which is interface text."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value != "":
            option["attrs"]["lang"] = "ja"
        return option


class ThemeChoiceField(forms.ModelChoiceField):
    """Themes as an indented tree."""

    widget = ThemeSelect

    def label_from_instance(self, obj: Theme) -> str:
        return "\u3000" * (obj.level - 1) + obj.short_label
