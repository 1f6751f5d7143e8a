"""Forms: the member's submission flow, the secretariat's review, export options and the
admin's document import (everything beyond the list's FilterSet)."""

import re
import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from . import importers, imports, previews
from .fields import ThemeChoiceField
from .models import (
    Committee,
    Meeting,
    MunicipalitySize,
    Opinion,
    SourceDocument,
    Stakeholder,
    Theme,
)

BODY_MIN_LENGTH = 10
# Removed from a body: zero-width space, word joiner, zero-width no-break space (BOM).
INVISIBLE_FILLERS = re.compile("[\u200b\u2060\ufeff]")
# Not removed (they shape emoji and some scripts) but not text on their own either.
INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u180e]")
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
            # The remark is data, in Japanese whatever the interface's language.
            "body": forms.Textarea(attrs={"rows": 8, "lang": "ja"}),
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
        # Zero-width spaces, word joiners and BOMs carry nothing a reader sees; a body of
        # only those (and the joiners a pasted text may hold) is an empty body.
        body = INVISIBLE_FILLERS.sub("", self.cleaned_data["body"]).strip()
        if not INVISIBLE.sub("", body).strip():
            raise forms.ValidationError(
                _("意見の本文を入力してください（見えない文字だけでは投稿できません）。"),
                code="invisible",
            )
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
    """One remark's review, in one form: the button pressed is the decision, so what is
    typed in the comment is never dropped (a publication carries it to the author too).

    The memo stays with 事務局; the tags, when the form shows them (``edit_tags``), replace
    the remark's.
    """

    ACTIONS = [
        ("publish", _("公開する")),
        ("return", _("差し戻す")),
        ("save", _("メモ・タグだけ保存")),
    ]

    action = forms.ChoiceField(
        choices=ACTIONS,
        error_messages={"required": _("「公開する」か「差し戻す」を選んでください。")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("投稿者へのコメント"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "公開しても差し戻しても、投稿者にメールで届きます。差し戻すときは、直してほしい点を書いてください。"
        ),
    )
    memo = forms.CharField(
        label=_("内部メモ"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("事務局だけが読めます。投稿者には届きません。"),
    )
    edit_tags = forms.BooleanField(required=False, widget=forms.HiddenInput)
    municipality_sizes = forms.ModelMultipleChoiceField(
        label=_("自治体規模"), queryset=MunicipalitySize.objects.all(), required=False
    )
    stakeholders = forms.ModelMultipleChoiceField(
        label=_("関係者"), queryset=Stakeholder.objects.all(), required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "return" and not cleaned.get("comment", "").strip():
            self.add_error(
                "comment",
                forms.ValidationError(_("差し戻す理由を書いてください。"), code="required"),
            )
        if cleaned.get("action") == "save" and cleaned.get("comment", "").strip():
            # Saving notes sends nothing: a comment typed for the author would be lost.
            self.add_error(
                "comment",
                forms.ValidationError(
                    _(
                        "コメントは公開または差し戻しのときに投稿者へ送られます。「公開する」か「差し戻す」を選んでください。"
                    ),
                    code="comment_not_sent",
                ),
            )
        return cleaned

    def tag_changes(self) -> dict:
        """The tags to set, as keyword arguments for the review services (none if not shown)."""
        if not self.cleaned_data.get("edit_tags"):
            return {}
        return {
            "municipality_sizes": self.cleaned_data["municipality_sizes"],
            "stakeholders": self.cleaned_data["stakeholders"],
        }


# --- Exports -----------------------------------------------------------------------------


class CsvOptionsForm(forms.Form):
    encoding = forms.ChoiceField(
        label=_("文字コード"),
        choices=[("utf-8", _("UTF-8（BOM付き）")), ("cp932", _("Shift_JIS（cp932）"))],
        required=False,
    )

    def clean_encoding(self):
        return self.cleaned_data["encoding"] or "utf-8"


class BlankTolerantMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Empty values are "not given": the list form sends ``meeting=`` for 「すべての会議」."""

    def clean(self, value):
        if value is not None and not isinstance(value, str):
            value = [v for v in value if str(v).strip()]
        return super().clean(value)


class SummaryScopeForm(forms.Form):
    """What a 「主なご意見」 document covers besides the list's filters: one or more meetings
    (the list itself filters by one)."""

    meeting = BlankTolerantMultipleChoiceField(
        label=_("会議"),
        queryset=Meeting.objects.all(),
        required=False,
        error_messages={
            "invalid_choice": _("会議「%(value)s」は見つかりません。"),
            "invalid_pk_value": _("会議の指定「%(pk)s」が正しくありません。"),
        },
    )


class CrossTabForm(forms.Form):
    """What a cross-tab counts: everything, or one document's or one meeting's remarks."""

    document = forms.ModelChoiceField(
        label=_("資料"),
        queryset=SourceDocument.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("すべての資料"),
    )
    meeting = forms.ModelChoiceField(
        label=_("会議"),
        queryset=Meeting.objects.select_related("committee"),
        required=False,
        empty_label=_("すべての会議"),
    )


# --- Importing a summary document in the admin ---------------------------------------------

MAX_UPLOAD_BYTES = 20 * 1024 * 1024


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
    new_meeting_number = forms.IntegerField(
        label=_("会議を追加（回）"),
        required=False,
        min_value=1,
        max_value=32767,
        help_text=_("まだ登録していない会議なら、その回を入れると取り込むときに追加します。"),
    )
    new_meeting_held_on = forms.DateField(
        label=_("追加する会議の開催日（任意）"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    headings = forms.CharField(
        label=_("見出しの記号"),
        required=False,
        max_length=100,
        help_text=_(
            "上の段から順に、空白で区切って（例: 【】 ○ ＜＞）。空なら資料から読み取ります。"
        ),
    )
    bullets = forms.CharField(
        label=_("意見の記号"),
        required=False,
        max_length=100,
        help_text=_("意見の行頭の記号（例: ・）。記号のない段落が意見なら「段落」。"),
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
        if cleaned.get("new_meeting_held_on") and not cleaned.get("new_meeting_number"):
            self.add_error(
                "new_meeting_number", _("開催日を入れたときは、会議の回も入れてください。")
            )
        headings, bullets = cleaned.get("headings", ""), cleaned.get("bullets", "")
        self.profile = None
        if headings or bullets:
            try:
                self.profile = importers.LayoutProfile.from_text(headings, bullets or "・")
            except ValueError as error:
                self.add_error("headings" if headings else "bullets", str(error))
        return cleaned

    @property
    def new_meeting(self) -> imports.NewMeeting | None:
        number = self.cleaned_data.get("new_meeting_number")
        if not number:
            return None
        return imports.NewMeeting(
            number=number, held_on=self.cleaned_data.get("new_meeting_held_on")
        )

    def parse(self, lines):
        """The document parsed with the profile the form gives (or the inferred one); a
        parse problem is an error of the form naming the line."""
        try:
            return importers.parse_summary(lines, self.profile)
        except importers.SummaryParseError as error:
            raise forms.ValidationError(str(error), code="unreadable") from error


class SummaryUploadForm(SummaryImportOptions):
    """Step 1: the file. Its lines are read here (refused over the size caps) and parsed;
    a parse problem is a validation error naming the line."""

    file = forms.FileField(
        label=_("資料のファイル"),
        help_text=_("主なご意見の資料（.txt、.docx、.pdf、20 MB まで）"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(importers.UPLOAD_SUFFIXES)}),
    )

    labels = forms.FileField(
        label=_("ラベルのファイル（任意）"),
        required=False,
        help_text=_(
            "見出しごとの短いラベルとスラッグ（タブ区切りの path、short_label、slug。"
            "fixtures/source/theme_labels.tsv と同じ形式）。ないときは見出しから作ります。"
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".tsv,.txt"}),
    )

    field_order = ["file", "labels", "committee", "meetings", "new_meeting_number"]

    def clean_labels(self):
        upload = self.cleaned_data.get("labels")
        self.label_text = ""
        if not upload:
            return upload
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("ラベルのファイルが大きすぎます。"), code="too_large")
        try:
            self.label_text = importers.decode_text(upload.read())
            imports.parse_theme_labels(self.label_text)
        except (importers.SummaryParseError, imports.LabelsError) as error:
            raise forms.ValidationError(str(error), code="unreadable") from error
        return upload

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("ファイルが大きすぎます（%(limit)s MB まで）。")
                % {"limit": MAX_UPLOAD_BYTES // (1024 * 1024)},
                code="too_large",
            )
        try:
            self.lines = importers.lines_from_upload(upload.name, upload.read())
        except (importers.DocumentReadError, importers.SummaryParseError) as error:
            raise forms.ValidationError(str(error), code="unreadable") from error
        return upload

    def clean(self):
        cleaned = super().clean()
        if (
            hasattr(self, "lines")
            and not self.has_error("headings")
            and not self.has_error("bullets")
        ):
            try:
                self.parsed = self.parse(self.lines)
            except forms.ValidationError as error:
                self.add_error("file", error)
        return cleaned

    def store(self) -> str:
        """Keep the lines for the confirmation step; the signed id to find them by."""
        return previews.store(
            {
                "lines": importers.lines_to_json(self.lines),
                "name": self.cleaned_data["file"].name,
                "labels": self.label_text,
            }
        )


class SummaryConfirmForm(SummaryImportOptions):
    """Step 2: the kept lines (by their signed id), the options, and per remark the match
    the admin chose (``match-<n>``: a stored remark's id, ``new``, or ``auto``) and whether
    a remark another document has is linked to it (``link-<n>``: ``link`` or ``new``)."""

    preview = forms.CharField(widget=forms.HiddenInput)

    def clean_preview(self):
        try:
            payload = previews.load(self.cleaned_data["preview"])
            self.lines = importers.lines_from_json(payload["lines"])
            label_text = payload.get("labels") or ""
            self.labels = imports.parse_theme_labels(label_text) if label_text else {}
        except previews.PreviewExpired as error:
            raise forms.ValidationError(
                _("確認画面の有効期限が切れました。もう一度ファイルを選んでください。"),
                code="expired",
            ) from error
        except (previews.PreviewInvalid, KeyError, TypeError, ValueError) as error:
            raise forms.ValidationError(
                _("確認画面のデータが正しくありません。もう一度ファイルを選んでください。"),
                code="bad_token",
            ) from error
        self.filename = payload.get("name", "")
        return self.cleaned_data["preview"]

    def clean(self):
        cleaned = super().clean()
        if hasattr(self, "lines") and not self.errors:
            try:
                self.parsed = self.parse(self.lines)
            except forms.ValidationError as error:
                self.add_error(None, error)
        return cleaned

    def choices(self) -> tuple[dict[int, int | str], dict[int, bool]]:
        """The admin's matches and links from the preview's per-remark fields."""
        matches, links = {}, {}
        for key, value in self.data.items():
            kind, _sep, index = key.partition("-")
            if not index.isdigit():
                continue
            if kind == "match" and value == imports.NEW:
                matches[int(index)] = imports.NEW
            elif kind == "match" and value.isdigit():
                matches[int(index)] = int(value)
            elif kind == "link" and value in ("link", "new"):
                links[int(index)] = value == "link"
        return matches, links
