"""Forms of the workbench: a response's text and 反映先, and the bulk actions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Opinion
from .models import PolicyDocument, Response, ResponseCategory, ResponseReference

REASONING_MAX_LENGTH = 4000


class ResponseForm(forms.ModelForm):
    """The draft's 対応区分, 考え方 and memo; ``version`` is the one the edit started from."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = Response
        fields = ["category", "reasoning", "memo"]
        widgets = {
            "reasoning": forms.Textarea(attrs={"rows": 8, "lang": "ja"}),
            "memo": forms.Textarea(attrs={"rows": 3, "lang": "ja"}),
        }
        help_texts = {
            "reasoning": _("ご意見とあわせて公開されます（e-Gov の「意見に対する考え方」）。"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        # Active categories, plus the one already set (an inactive one never silently goes).
        current = self.instance.category_id if self.instance.pk else None
        category.queryset = ResponseCategory.objects.filter(is_active=True) | (
            ResponseCategory.objects.filter(pk=current)
        )
        category.empty_label = _("未設定")
        category.error_messages["invalid_choice"] = _("選んだ対応区分は選べません。")

    def clean_reasoning(self):
        reasoning = self.cleaned_data["reasoning"].strip()
        if len(reasoning) > REASONING_MAX_LENGTH:
            raise forms.ValidationError(
                _("%(max)s 文字以内で入力してください（いまは %(length)s 文字です）。"),
                code="too_long",
                params={"max": REASONING_MAX_LENGTH, "length": len(reasoning)},
            )
        return reasoning


class ReferenceForm(forms.ModelForm):
    """One 反映先: a policy document, and where in it."""

    url = forms.URLField(
        label=_("URL"),
        required=False,
        assume_scheme="https",
        error_messages={
            "invalid": _("URL の形式が正しくありません（https://… で入力してください）。")
        },
    )

    class Meta:
        model = ResponseReference
        fields = ["document", "section", "page", "url"]
        widgets = {"section": forms.TextInput(attrs={"lang": "ja"})}
        error_messages = {
            "page": {"invalid": _("ページは数字で入力してください。")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document"].queryset = PolicyDocument.objects.all()
        self.fields["document"].required = False
        self.fields["document"].empty_label = _("（選ばない）")
        self.fields["page"].min_value = 1
        self.fields["page"].widget.attrs["min"] = 1

    def clean(self):
        cleaned = super().clean()
        has_detail = any(cleaned.get(name) for name in ("section", "page", "url"))
        if has_detail and not cleaned.get("document"):
            self.add_error("document", _("反映先の政策文書を選んでください。"))
        return cleaned


ReferenceFormSet = forms.formset_factory(ReferenceForm, extra=2, max_num=20)


class BulkForm(forms.Form):
    """The workbench's action on the checked remarks."""

    ACTIONS = [
        ("group", _("まとめて1つの対応にする")),
        ("ungroup", _("対応から外す")),
        ("category", _("対応区分を設定する")),
    ]

    action = forms.ChoiceField(
        label=_("操作"), choices=ACTIONS, error_messages={"required": _("操作を選んでください。")}
    )
    remarks = forms.ModelMultipleChoiceField(
        label=_("意見"),
        queryset=Opinion.objects.none(),
        error_messages={
            "required": _("意見を1件以上選んでください。"),
            "invalid_choice": _("選んだ意見が見つかりません。"),
            "invalid_pk_value": _("選んだ意見が見つかりません。"),
        },
    )
    category = forms.ModelChoiceField(
        label=_("対応区分"),
        queryset=ResponseCategory.objects.filter(is_active=True),
        required=False,
        empty_label=_("選んでください"),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, opinions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if opinions is not None:
            self.fields["remarks"].queryset = opinions

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "category" and not cleaned.get("category"):
            self.add_error("category", _("設定する対応区分を選んでください。"))
        return cleaned
