"""Forms beyond the list's FilterSet: export options and the admin's document import."""

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from . import importers
from .models import Committee, Meeting

# --- Exports -----------------------------------------------------------------------------


class CsvOptionsForm(forms.Form):
    encoding = forms.ChoiceField(
        label=_("文字コード"),
        choices=[("utf-8", _("UTF-8（BOM付き）")), ("cp932", _("Shift_JIS（cp932）"))],
        required=False,
    )

    def clean_encoding(self):
        return self.cleaned_data["encoding"] or "utf-8"


class SummaryScopeForm(forms.Form):
    """What a 「主なご意見」 document covers besides the list's filters: one or more meetings
    (the list itself filters by one)."""

    meeting = forms.ModelMultipleChoiceField(
        label=_("会議"), queryset=Meeting.objects.all(), required=False
    )


# --- Importing a summary document in the admin ---------------------------------------------

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
# The parsed text travels from the preview to the confirmation signed, so what is imported
# is exactly what was previewed, without keeping the upload on the server.
PREVIEW_SALT = "opinions.forms.summary-preview"
PREVIEW_MAX_AGE = 60 * 60


class SummaryImportOptions(forms.Form):
    committee = forms.ModelChoiceField(
        label=_("会議体"), queryset=Committee.objects.all(), empty_label=None
    )
    meetings = forms.ModelMultipleChoiceField(
        label=_("対象の会議"),
        queryset=Meeting.objects.select_related("committee"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("この資料がまとめている会議（複数可）"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # 第1回 alone is ambiguous when there are several committees.
        self.fields["meetings"].label_from_instance = lambda meeting: (
            f"{meeting.committee.name} {meeting}"
        )

    def clean(self):
        cleaned = super().clean()
        committee, meetings = cleaned.get("committee"), cleaned.get("meetings") or []
        if committee and any(meeting.committee_id != committee.pk for meeting in meetings):
            raise forms.ValidationError(
                _("選んだ会議体の会議だけを選んでください。"), code="meeting_committee"
            )
        return cleaned


class SummaryUploadForm(SummaryImportOptions):
    """Step 1: the file. Its text is extracted and parsed here; a parse problem is a
    validation error naming the line."""

    file = forms.FileField(
        label=_("資料のファイル"),
        help_text=_("主なご意見の資料（.txt、.docx、.pdf）"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(importers.UPLOAD_SUFFIXES)}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("ファイルが大きすぎます（%(limit)s MB まで）。")
                % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)},
                code="too_large",
            )
        try:
            text = importers.text_from_upload(upload.name, upload.read())
            self.parsed = importers.parse_summary(text)
        except (importers.DocumentReadError, importers.SummaryParseError) as error:
            raise forms.ValidationError(str(error), code="unreadable") from error
        self.text = text
        return upload

    def preview_token(self) -> str:
        return signing.dumps(
            {"text": self.text, "name": self.cleaned_data["file"].name},
            salt=PREVIEW_SALT,
            compress=True,
        )


class SummaryConfirmForm(SummaryImportOptions):
    """Step 2: the previewed text, signed, with the same options."""

    token = forms.CharField(widget=forms.HiddenInput)

    def clean_token(self):
        try:
            payload = signing.loads(
                self.cleaned_data["token"], salt=PREVIEW_SALT, max_age=PREVIEW_MAX_AGE
            )
            self.parsed = importers.parse_summary(payload["text"])
        except signing.SignatureExpired as error:
            raise forms.ValidationError(
                _("確認画面の有効期限が切れました。もう一度ファイルを選んでください。"),
                code="expired",
            ) from error
        except (signing.BadSignature, KeyError, TypeError, importers.SummaryParseError) as error:
            raise forms.ValidationError(
                _("確認画面のデータが正しくありません。もう一度ファイルを選んでください。"),
                code="bad_token",
            ) from error
        self.filename = payload.get("name", "")
        return self.cleaned_data["token"]
