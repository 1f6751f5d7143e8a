"""Forms of the member's submission flow and the secretariat's review."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from .filters import ThemeChoiceField
from .models import Meeting, MunicipalitySize, Opinion, Stakeholder, Theme

BODY_MIN_LENGTH = 10
BODY_MAX_LENGTH = 2000


class OpinionForm(forms.ModelForm):
    """What a member types. Lengths are counted in characters (not bytes)."""

    theme = ThemeChoiceField(
        label=_("テーマ"),
        queryset=Theme.objects.in_tree_order(),
        empty_label=_("テーマを選んでください"),
        help_text=_("章・テーマ・小テーマのうち、いちばん近いものを選んでください。"),
        error_messages={
            "required": _("テーマを選んでください。"),
            "invalid_choice": _("選んだテーマが見つかりません。もう一度選んでください。"),
        },
    )

    class Meta:
        model = Opinion
        fields = ["body", "theme", "municipality_sizes", "stakeholders", "meeting"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 8}),
            "municipality_sizes": forms.CheckboxSelectMultiple,
            "stakeholders": forms.CheckboxSelectMultiple,
        }
        labels = {"body": _("意見の本文")}
        help_texts = {
            "municipality_sizes": _(
                "特定の規模の自治体についての意見なら選んでください（複数可）。"
            ),
            "stakeholders": _("意見が関わる主体を選んでください（複数可）。"),
        }
        error_messages = {"body": {"required": _("意見の本文を入力してください。")}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Interpolated here, per request: at import time it would be frozen in one language.
        self.fields["body"].help_text = _("%(min)s〜%(max)s 文字で入力してください。") % {
            "min": BODY_MIN_LENGTH,
            "max": BODY_MAX_LENGTH,
        }
        # Only active tags are offered; an inactive one already on the remark stays.
        self.fields["municipality_sizes"].queryset = MunicipalitySize.objects.offered_for(
            self.instance
        )
        self.fields["stakeholders"].queryset = Stakeholder.objects.offered_for(self.instance)
        self.fields["meeting"].queryset = Meeting.objects.select_related("committee")
        self.fields["meeting"].empty_label = _("指定しない")
        for name in ("municipality_sizes", "stakeholders"):
            self.fields[name].error_messages["invalid_choice"] = _(
                "選んだ項目「%(value)s」は選べません。"
            )

    def clean_body(self):
        body = self.cleaned_data["body"].strip()
        length = len(body)
        if length < BODY_MIN_LENGTH:
            raise forms.ValidationError(
                _("%(min)s 文字以上で入力してください（いまは %(length)s 文字です）。"),
                code="too_short",
                params={"min": BODY_MIN_LENGTH, "length": length},
            )
        if length > BODY_MAX_LENGTH:
            raise forms.ValidationError(
                _("%(max)s 文字以内で入力してください（いまは %(length)s 文字です）。"),
                code="too_long",
                params={"max": BODY_MAX_LENGTH, "length": length},
            )
        return body


class SubmissionForm(OpinionForm):
    """A new remark: the form fields plus the one-time token that makes saving idempotent,
    and the member's acknowledgement of near-duplicates when there are any."""

    token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)
    not_duplicate = forms.BooleanField(
        label=_("似た意見があることを確認したうえで投稿します"), required=False
    )


class RevisionForm(OpinionForm):
    """An edit by the author: carries the version it was made from."""

    version = forms.IntegerField(widget=forms.HiddenInput)


class ReviewForm(forms.Form):
    ACTIONS = [("publish", _("公開する")), ("return", _("差し戻す"))]

    action = forms.ChoiceField(choices=ACTIONS, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("投稿者へのコメント"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("差し戻すときは、直してほしい点を書いてください。"),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "return" and not cleaned.get("comment", "").strip():
            self.add_error(
                "comment",
                forms.ValidationError(_("差し戻す理由を書いてください。"), code="required"),
            )
        return cleaned
