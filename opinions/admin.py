"""The curators' tools: every model, bulk actions on remarks, tag merges, history."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .forms import SummaryConfirmForm, SummaryUploadForm
from .models import (
    Committee,
    Meeting,
    MunicipalitySize,
    Opinion,
    SourceDocument,
    Stakeholder,
    SynonymGroup,
    TagMerge,
    TagRule,
    TagSuggestion,
    Theme,
)

admin.site.site_header = gettext_lazy("有識者会議 意見ポータル 管理")
admin.site.site_title = gettext_lazy("意見ポータル 管理")
admin.site.index_title = gettext_lazy("データの管理")


class MeetingInline(admin.TabularInline):
    model = Meeting
    extra = 0


@admin.register(Committee)
class CommitteeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    ordering = ["name"]
    inlines = [MeetingInline]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["__str__", "committee", "held_on"]
    list_filter = ["committee"]
    list_select_related = ["committee"]
    search_fields = ["committee__name"]
    ordering = ["committee", "number"]


@admin.register(SourceDocument)
class SourceDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "label", "committee", "published_on"]
    list_filter = ["committee"]
    list_select_related = ["committee"]
    filter_horizontal = ["meetings"]
    search_fields = ["title", "label"]
    ordering = ["committee", "pk"]
    change_list_template = "admin/opinions/sourcedocument/change_list.html"
    # Importing writes documents, themes and remarks: only who may add all of them.
    import_permissions = [
        "opinions.add_sourcedocument",
        "opinions.add_theme",
        "opinions.add_opinion",
        "opinions.change_opinion",
    ]

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="opinions_sourcedocument_import",
            ),
            *super().get_urls(),
        ]

    def has_import_permission(self, request) -> bool:
        return request.user.has_perms(self.import_permissions)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "can_import": self.has_import_permission(request)}
        return super().changelist_view(request, extra_context)

    def import_view(self, request):
        """Upload (.txt, .docx, .pdf) → preview of the parsed tree → confirm → import."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "token" in request.POST:
            confirm = SummaryConfirmForm(request.POST)
            if confirm.is_valid():
                return self._import(request, confirm)
            # Back to the first step, with the options kept and the reason shown.
            upload = SummaryUploadForm(
                initial={
                    "committee": request.POST.get("committee"),
                    "meetings": request.POST.getlist("meetings"),
                }
            )
            for errors in confirm.errors.values():
                for error in errors:
                    self.message_user(request, error, messages.ERROR)
        elif request.method == "POST":
            upload = SummaryUploadForm(request.POST, request.FILES)
            if upload.is_valid():
                return self._preview(request, upload)
        else:
            upload = SummaryUploadForm()
        return self._render_import(request, form=upload, title=_("主なご意見の資料を取り込む"))

    def _preview(self, request, upload):
        options = upload.cleaned_data
        labels = services.parse_theme_labels(upload.label_text) if upload.label_text else {}
        result = services.preview_summary_import(
            upload.parsed,
            committee=options["committee"],
            meeting_numbers=[meeting.number for meeting in options["meetings"]],
            labels=labels,
        )
        confirm = SummaryConfirmForm(
            initial={
                "token": upload.preview_token(),
                "committee": options["committee"].pk,
                "meetings": [meeting.pk for meeting in options["meetings"]],
            }
        )
        return self._render_import(
            request,
            form=confirm,
            title=_("取り込む内容の確認"),
            parsed=upload.parsed,
            counts=upload.parsed.counts(),
            result=result,
            notes=import_notes(upload.parsed, result),
            filename=options["file"].name,
            options=options,
            labels=labels,
        )

    def _import(self, request, confirm):
        options = confirm.cleaned_data
        result = services.import_summary_document(
            confirm.parsed,
            committee=options["committee"],
            meeting_numbers=[meeting.number for meeting in options["meetings"]],
            labels=confirm.labels,
        )
        self.message_user(
            request,
            _(
                "「%(document)s」を取り込みました。新規 %(created)s 件、更新 %(updated)s 件、"
                "変更なし %(unchanged)s 件、非公開化 %(hidden)s 件、テーマ新規 %(themes)s 件。"
            )
            % {
                "document": result.document,
                "created": result.opinions_created,
                "updated": result.opinions_updated,
                "unchanged": result.opinions_unchanged,
                "hidden": result.opinions_hidden,
                "themes": result.themes_created,
            },
            messages.SUCCESS if result.changed else messages.INFO,
        )
        return redirect("admin:opinions_sourcedocument_change", result.document.pk)

    def _render_import(self, request, **context):
        return TemplateResponse(
            request,
            "admin/opinions/sourcedocument/import.html",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )


def import_notes(parsed, result: services.ImportResult) -> list[tuple[str, str]]:
    """What a curator should look at before confirming, as (level, message)."""
    notes = []
    if result.opinions_hidden:
        notes.append(
            (
                "warning",
                _("%(count)s 件の意見はこの資料にないため、非公開になります（削除はされません）。")
                % {"count": result.opinions_hidden},
            )
        )
    if not result.document_created:
        notes.append(("info", _("同じ題名の資料が既にあります。変わった意見だけが更新されます。")))
    for node in parsed.nodes():
        if node.opinion_count == 0:
            notes.append(
                (
                    "info",
                    _(
                        "%(line)s行目「%(name)s」には意見がありません（資料のとおりなら問題ありません）。"
                    )
                    % {"line": node.line, "name": node.name},
                )
            )
    notes.extend(("info", message) for message in result.messages)
    return notes


@admin.register(Theme)
class ThemeAdmin(SimpleHistoryAdmin):
    list_display = ["indented_name", "short_label", "slug", "level", "position"]
    list_editable = ["short_label"]
    list_filter = ["level"]
    list_select_related = ["parent"]
    search_fields = ["name", "short_label", "slug"]
    autocomplete_fields = ["parent"]
    # Document order (depth first) comes from get_queryset, not from a column.
    sortable_by = []

    def get_queryset(self, request):
        return super().get_queryset(request).in_tree_order()

    def get_ordering(self, request):
        return []

    @admin.display(description=gettext_lazy("見出し"))
    def indented_name(self, obj):
        # Ideographic spaces rather than an inline style, which the CSP forbids.
        return "\u3000" * 2 * (obj.level - 1) + obj.display_name

    actions = ["move_up", "move_down"]

    @admin.action(description=gettext_lazy("選択したテーマを一つ上へ"), permissions=["change"])
    def move_up(self, request, queryset):
        self._move(request, queryset, -1)

    @admin.action(description=gettext_lazy("選択したテーマを一つ下へ"), permissions=["change"])
    def move_down(self, request, queryset):
        self._move(request, queryset, 1)

    def _move(self, request, queryset, offset):
        # Moving several at once would swap them with each other; one at a time is clear.
        if queryset.count() != 1:
            self.message_user(
                request, _("並べ替えるテーマを1つだけ選んでください。"), messages.WARNING
            )
        elif services.move_theme(queryset.get(), offset, by=request.user):
            self.message_user(request, _("テーマを移動しました。"))
        else:
            self.message_user(request, _("これ以上移動できません。"), messages.WARNING)


class TagRuleInline(admin.TabularInline):
    model = TagRule
    extra = 1
    fields = ["pattern", "is_regex", "is_active"]


class TagChoiceForm(forms.Form):
    """Pick one tag of either vocabulary (used by the bulk add/remove actions)."""

    tag = forms.ChoiceField(label=gettext_lazy("タグ"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [
            (
                model._meta.verbose_name,
                [
                    (f"{model._meta.model_name}:{tag.pk}", tag.name)
                    for tag in model.objects.active()
                ],
            )
            for model in (MunicipalitySize, Stakeholder)
        ]

    def clean_tag(self):
        model_name, _sep, pk = self.cleaned_data["tag"].partition(":")
        model = {"municipalitysize": MunicipalitySize, "stakeholder": Stakeholder}[model_name]
        return model.objects.get(pk=pk)


class MergeForm(forms.Form):
    keep = forms.ModelChoiceField(
        queryset=None, label=gettext_lazy("残すタグ"), widget=forms.RadioSelect, empty_label=None
    )

    def __init__(self, *args, tags, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].queryset = tags


def _intermediate(modeladmin, request, queryset, *, form, action, title, template):
    return TemplateResponse(
        request,
        template,
        {
            **modeladmin.admin_site.each_context(request),
            "opts": modeladmin.opts,
            "title": title,
            "form": form,
            "queryset": queryset,
            "action": action,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        },
    )


class VocabularyAdmin(SimpleHistoryAdmin):
    list_display = ["name", "slug", "position", "is_active", "opinion_count"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    ordering = ["position", "name"]
    inlines = [TagRuleInline]
    actions = ["merge_selected", "deactivate_selected", "activate_selected"]

    def has_delete_permission(self, request, obj=None):
        # A tag in use is merged or deactivated, never deleted: deleting would drop it from
        # remarks without a trace in their history.
        if obj is not None and obj.opinions.exists():
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # bulk delete would bypass the check above
        return actions

    def get_queryset(self, request):
        # Count(distinct) because rule and suggestion joins would otherwise multiply rows.
        return super().get_queryset(request).annotate(n_opinions=Count("opinions", distinct=True))

    @admin.display(description=gettext_lazy("意見の数"), ordering="n_opinions")
    def opinion_count(self, obj):
        return obj.n_opinions

    @admin.action(description=gettext_lazy("選択したタグを一つに統合"), permissions=["delete"])
    def merge_selected(self, request, queryset):
        if queryset.count() < 2:
            self.message_user(request, _("統合するタグを2つ以上選んでください。"), messages.WARNING)
            return None
        form = MergeForm(request.POST if "apply" in request.POST else None, tags=queryset)
        if form.is_valid():
            keep = form.cleaned_data["keep"]
            records = services.merge_tags(
                keep=keep, merge=list(queryset.exclude(pk=keep.pk)), by=request.user
            )
            self.message_user(
                request,
                ngettext(
                    "%(count)s 個のタグを「%(keep)s」に統合しました（意見 %(moved)s 件を移動）。",
                    "%(count)s 個のタグを「%(keep)s」に統合しました（意見 %(moved)s 件を移動）。",
                    len(records),
                )
                % {
                    "count": len(records),
                    "keep": keep.name,
                    "moved": sum(r.opinions_moved for r in records),
                },
            )
            return None
        return _intermediate(
            self,
            request,
            queryset,
            form=form,
            action="merge_selected",
            title=_("タグの統合"),
            template="admin/opinions/merge_tags.html",
        )

    @admin.action(description=gettext_lazy("選択したタグを無効にする"), permissions=["change"])
    def deactivate_selected(self, request, queryset):
        self._set_active(request, queryset, False)

    @admin.action(description=gettext_lazy("選択したタグを有効にする"), permissions=["change"])
    def activate_selected(self, request, queryset):
        self._set_active(request, queryset, True)

    def _set_active(self, request, queryset, active):
        for tag in queryset.exclude(is_active=active):
            tag.is_active = active
            tag._history_user = request.user
            tag.save(update_fields=["is_active"])
        self.message_user(request, _("タグの有効・無効を更新しました。"))


@admin.register(MunicipalitySize)
class MunicipalitySizeAdmin(VocabularyAdmin):
    list_display = [*VocabularyAdmin.list_display, "min_population", "max_population"]


@admin.register(Stakeholder)
class StakeholderAdmin(VocabularyAdmin):
    list_display = [*VocabularyAdmin.list_display, "group"]
    list_filter = [*VocabularyAdmin.list_filter, "group"]


class OpinionAdminForm(forms.ModelForm):
    class Meta:
        model = Opinion
        fields = [
            "body",
            "theme",
            "status",
            "municipality_sizes",
            "stakeholders",
            "source_document",
            "position",
            "meeting",
            "author",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Inactive tags are not offered, but stay on the remarks that already have them.
        for name, model in (
            ("municipality_sizes", MunicipalitySize),
            ("stakeholders", Stakeholder),
        ):
            if name in self.fields:
                self.fields[name].queryset = model.objects.offered_for(self.instance)


class TagSuggestionInline(admin.TabularInline):
    model = TagSuggestion
    extra = 0
    fields = ["tag_name", "reason", "status", "decided_by", "decided_at"]
    readonly_fields = fields
    can_delete = False

    @admin.display(description=gettext_lazy("タグ"))
    def tag_name(self, obj):
        return obj.tag.name

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Opinion)
class OpinionAdmin(SimpleHistoryAdmin):
    form = OpinionAdminForm
    list_display = ["__str__", "theme", "source_document", "position", "status", "updated_at"]
    list_filter = [
        "status",
        "source_document",
        "theme__level",
        "municipality_sizes",
        "stakeholders",
    ]
    list_select_related = ["theme", "source_document"]
    search_fields = ["body"]
    ordering = ["source_document", "position", "pk"]
    autocomplete_fields = ["theme", "author"]
    filter_horizontal = ["municipality_sizes", "stakeholders"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [TagSuggestionInline]
    actions = ["add_tag", "remove_tag", "publish", "hide"]

    @admin.action(description=gettext_lazy("選択した意見にタグを追加"), permissions=["change"])
    def add_tag(self, request, queryset):
        return self._tag_action(request, queryset, "add_tag", services.add_tag)

    @admin.action(description=gettext_lazy("選択した意見からタグを外す"), permissions=["change"])
    def remove_tag(self, request, queryset):
        return self._tag_action(request, queryset, "remove_tag", services.remove_tag)

    def _tag_action(self, request, queryset, action, service):
        form = TagChoiceForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            tag = form.cleaned_data["tag"]
            changed = service(queryset, tag, by=request.user)
            self.message_user(
                request,
                ngettext(
                    "「%(tag)s」：%(count)s 件の意見を更新しました。",
                    "「%(tag)s」：%(count)s 件の意見を更新しました。",
                    changed,
                )
                % {"tag": tag.name, "count": changed},
            )
            return None
        return _intermediate(
            self,
            request,
            queryset,
            form=form,
            action=action,
            title=_("タグを追加") if action == "add_tag" else _("タグを外す"),
            template="admin/opinions/choose_tag.html",
        )

    @admin.action(description=gettext_lazy("選択した意見を公開"), permissions=["publish"])
    def publish(self, request, queryset):
        count = services.set_status(queryset, Opinion.Status.PUBLISHED, by=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)s 件の意見を公開しました。", "%(count)s 件の意見を公開しました。", count
            )
            % {"count": count},
        )

    @admin.action(description=gettext_lazy("選択した意見を非公開"), permissions=["publish"])
    def hide(self, request, queryset):
        count = services.set_status(queryset, Opinion.Status.HIDDEN, by=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)s 件の意見を非公開にしました。",
                "%(count)s 件の意見を非公開にしました。",
                count,
            )
            % {"count": count},
        )

    def has_publish_permission(self, request):
        return request.user.has_perm("opinions.publish_opinion")

    def has_delete_permission(self, request, obj=None):
        # No hard deletes: remarks are hidden or withdrawn, and their history stays.
        return False


@admin.register(TagRule)
class TagRuleAdmin(SimpleHistoryAdmin):
    list_display = ["pattern", "municipality_size", "stakeholder", "is_regex", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "is_regex", "municipality_size", "stakeholder"]
    list_select_related = ["municipality_size", "stakeholder"]
    search_fields = ["pattern"]


@admin.register(TagSuggestion)
class TagSuggestionAdmin(admin.ModelAdmin):
    list_display = ["opinion", "tag_name", "reason", "status", "created_at", "decided_by"]
    list_filter = ["status", "municipality_size", "stakeholder"]
    list_select_related = ["opinion", "municipality_size", "stakeholder", "decided_by"]
    search_fields = ["opinion__body", "reason"]
    ordering = ["status", "-created_at"]
    readonly_fields = [
        "opinion",
        "municipality_size",
        "stakeholder",
        "reason",
        "status",
        "created_at",
        "decided_at",
        "decided_by",
    ]
    actions = ["approve", "reject"]

    @admin.display(description=gettext_lazy("タグ"))
    def tag_name(self, obj):
        return obj.tag.name

    def has_add_permission(self, request):
        return False

    @admin.action(
        description=gettext_lazy("選択した提案を承認（タグを残す）"), permissions=["change"]
    )
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(
        description=gettext_lazy("選択した提案を却下（タグを外す）"), permissions=["change"]
    )
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset, *, approve):
        pending = queryset.filter(status=TagSuggestion.Status.PENDING)
        for suggestion in pending.select_related("opinion", "municipality_size", "stakeholder"):
            services.decide_suggestion(suggestion, approve=approve, by=request.user)
        self.message_user(request, _("提案を処理しました。"))


@admin.register(TagMerge)
class TagMergeAdmin(admin.ModelAdmin):
    list_display = ["merged_name", "kept_name", "axis", "opinions_moved", "merged_by", "merged_at"]
    list_filter = ["axis"]
    search_fields = ["merged_name", "kept_name"]
    ordering = ["-merged_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SynonymGroup)
class SynonymGroupAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "note", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active"]
    search_fields = ["terms", "note"]
    ordering = ["pk"]


# The stored text analysis (opinions/analysis/admin.py).
from .analysis import admin as analysis_admin  # noqa: E402, F401
