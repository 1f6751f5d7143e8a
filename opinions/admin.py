"""The curators' tools: every model, bulk actions on remarks, tag merges, history."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext

from . import imports, previews, services, tokens
from .admin_history import HistoryAdmin
from .admin_people import person_column
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

# API tokens: hashed, shown once, expiring (opinions/tokens.py).
tokens.register(admin.site)

admin.site.site_header = gettext_lazy("有識者会議 意見ポータル 管理")
admin.site.site_title = gettext_lazy("意見ポータル 管理")
admin.site.index_title = gettext_lazy("データの管理")


class LabelledListEditableMixin:
    """Editable list cells named for screen readers: Django renders them without a label,
    so each input says which column and which row it edits (「並び順：女性」)."""

    def get_changelist_form(self, request, **kwargs):
        base = super().get_changelist_form(request, **kwargs)

        class LabelledForm(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                for field in self.fields.values():
                    field.widget.attrs["aria-label"] = _("%(column)s：%(row)s") % {
                        "column": field.label,
                        "row": self.instance,
                    }

        return LabelledForm


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
        """Upload (.txt, .docx, .pdf) → preview of what importing changes, remark by remark
        (nothing written; the layout and the matches can be changed and read again) →
        「取り込む」 writes it."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "preview" in request.POST:
            confirm = SummaryConfirmForm(request.POST)
            if confirm.is_valid():
                if "reread" in request.POST:
                    return self._preview(request, confirm, confirm.cleaned_data["preview"])
                return self._import(request, confirm)
            if confirm.has_error("preview") or not hasattr(confirm, "lines"):
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
            else:
                # A layout that does not read: the same preview, the message beside it.
                return self._render_import(
                    request, form=confirm, title=_("取り込む内容の確認"), filename=confirm.filename
                )
        elif request.method == "POST":
            upload = SummaryUploadForm(request.POST, request.FILES)
            if upload.is_valid():
                return self._preview(request, upload, upload.store())
        else:
            upload = SummaryUploadForm()
        return self._render_import(request, form=upload, title=_("主なご意見の資料を取り込む"))

    def _plan(self, request, form):
        matches, links = form.choices() if isinstance(form, SummaryConfirmForm) else ({}, {})
        return imports.plan_import(
            form.parsed,
            committee=form.cleaned_data["committee"],
            matches=matches,
            links=links,
            duplicate_scope=Opinion.objects.visible_to(request.user),
        )

    def _preview(self, request, form, preview_id):
        """What importing would do; reads only (no transaction, no lock)."""
        options = form.cleaned_data
        plan = self._plan(request, form)
        profile = form.parsed.profile
        confirm = SummaryConfirmForm(
            initial={
                "preview": preview_id,
                "committee": options["committee"].pk,
                "meetings": [meeting.pk for meeting in options["meetings"]],
                "new_meeting_number": options.get("new_meeting_number"),
                "new_meeting_held_on": options.get("new_meeting_held_on"),
                "headings": profile.headings_text,
                "bullets": profile.bullets_text,
            }
        )
        labels = getattr(form, "labels", None)
        if labels is None:
            labels = imports.parse_theme_labels(form.label_text) if form.label_text else {}
        return self._render_import(
            request,
            form=confirm,
            title=_("取り込む内容の確認"),
            parsed=form.parsed,
            plan=plan,
            counts=form.parsed.counts(),
            plan_counts=plan.counts(),
            notes=import_notes(form.parsed, plan),
            filename=getattr(form, "filename", "") or options.get("file").name,
            options=options,
            new_meeting=form.new_meeting,
            labels=labels,
            profile=profile,
        )

    def _import(self, request, confirm):
        options = confirm.cleaned_data
        plan = self._plan(request, confirm)
        try:
            result = imports.apply_import(
                plan,
                meeting_numbers=[meeting.number for meeting in options["meetings"]],
                new_meeting=confirm.new_meeting,
                labels=confirm.labels,
                by=request.user,
            )
        except imports.StalePlan:
            self.message_user(
                request,
                _("確認のあいだに資料の意見が変わりました。内容を確かめ直してください。"),
                messages.WARNING,
            )
            return self._preview(request, confirm, options["preview"])
        previews.discard(options["preview"])
        for message in result.messages:
            self.message_user(request, message, messages.INFO)
        self.message_user(
            request,
            _("「%(document)s」を取り込みました。%(summary)s。")
            % {"document": result.document, "summary": plan.summary()},
            messages.SUCCESS if result.changed else messages.INFO,
        )
        return redirect("admin:opinions_sourcedocument_change", result.document.pk)

    def _render_import(self, request, **context):
        return TemplateResponse(
            request,
            "admin/opinions/sourcedocument/import.html",
            {**self.admin_site.each_context(request), "opts": self.opts, **context},
        )


def import_notes(parsed, plan: imports.ImportPlan) -> list[tuple[str, str]]:
    """What a curator should look at before confirming, as (level, message)."""
    notes = []
    counts = plan.counts()
    if counts["hidden"]:
        notes.append(
            (
                "warning",
                _("%(count)s 件の意見はこの資料にないため、非公開になります（削除はされません）。")
                % {"count": counts["hidden"]},
            )
        )
    if counts["duplicates"]:
        notes.append(
            (
                "warning",
                _(
                    "%(count)s 件の意見はほかの資料にもあります。下の一覧で、同じ意見の再掲として"
                    "つなぐか、別の意見として取り込むかを選んでください。"
                )
                % {"count": counts["duplicates"]},
            )
        )
    for warning in parsed.warnings:
        notes.append(("warning", _("%(line)s行目: %(message)s") % vars(warning)))
    if plan.document is not None:
        notes.append(("info", _("同じ題名の資料が既にあります。変わった意見だけが更新されます。")))
    if plan.label_change:
        notes.append(
            ("info", _("資料番号を「%(label)s」に更新します。") % {"label": plan.label_change})
        )
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
    return notes


class TreeOrderChangeList(ChangeList):
    """The theme list in document order. Django's change list replaces an empty ordering
    with Meta.ordering (level, position), which lists all sections, then all themes, so
    「一つ上へ」 seemed to act on rows that were not neighbours; this orders by the
    annotations of Theme.objects.in_tree_order() instead."""

    def get_ordering(self, request, queryset):
        return ["section_position", "theme_position", "subtheme_position", "pk"]


class MoveToPositionForm(forms.Form):
    position = forms.IntegerField(
        label=gettext_lazy("移動先（兄弟の中で何番目か）"), min_value=1, max_value=999
    )


@admin.register(Theme)
class ThemeAdmin(LabelledListEditableMixin, HistoryAdmin):
    list_display = ["indented_name", "short_label", "slug", "level", "position"]
    list_editable = ["short_label"]
    list_filter = ["level"]
    list_select_related = ["parent"]
    search_fields = ["name", "short_label", "slug"]
    # Document order (depth first) comes from get_queryset, not from a column.
    sortable_by = []

    def get_queryset(self, request):
        return super().get_queryset(request).in_tree_order()

    def get_ordering(self, request):
        return []

    def get_changelist(self, request, **kwargs):
        return TreeOrderChangeList

    @admin.display(description=gettext_lazy("見出し"))
    def indented_name(self, obj):
        # Ideographic spaces rather than an inline style, which the CSP forbids.
        return "\u3000" * 2 * (obj.level - 1) + obj.display_name

    actions = ["move_up", "move_down", "move_to_position"]

    @admin.action(description=gettext_lazy("選択したテーマを一つ上へ"), permissions=["change"])
    def move_up(self, request, queryset):
        self._move(request, queryset, -1)

    @admin.action(description=gettext_lazy("選択したテーマを一つ下へ"), permissions=["change"])
    def move_down(self, request, queryset):
        self._move(request, queryset, 1)

    @admin.action(description=gettext_lazy("選択したテーマを指定の位置へ"), permissions=["change"])
    def move_to_position(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(
                request, _("並べ替えるテーマを1つだけ選んでください。"), messages.WARNING
            )
            return None
        form = MoveToPositionForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            theme = queryset.get()
            place = services.move_theme_to(theme, form.cleaned_data["position"], by=request.user)
            self.message_user(
                request,
                _("「%(theme)s」を兄弟の中で %(place)s 番目に移動しました。")
                % {"theme": theme.short_label, "place": place},
            )
            return None
        return _intermediate(
            self,
            request,
            queryset,
            form=form,
            action="move_to_position",
            title=_("テーマを指定の位置へ移動"),
            template="admin/opinions/action_form.html",
        )

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


class VocabularyAdmin(LabelledListEditableMixin, HistoryAdmin):
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
        changed = 0
        for tag in queryset.exclude(is_active=active):
            tag.is_active = active
            tag._history_user = request.user
            tag.save(update_fields=["is_active"])
            changed += 1
        template = (
            ngettext(
                "%(count)s 個のタグを有効にしました。",
                "%(count)s 個のタグを有効にしました。",
                changed,
            )
            if active
            else ngettext(
                "%(count)s 個のタグを無効にしました。",
                "%(count)s 個のタグを無効にしました。",
                changed,
            )
        )
        self.message_user(request, template % {"count": changed})


@admin.register(MunicipalitySize)
class MunicipalitySizeAdmin(VocabularyAdmin):
    list_display = [*VocabularyAdmin.list_display, "min_population", "max_population"]


@admin.register(Stakeholder)
class StakeholderAdmin(VocabularyAdmin):
    list_display = [*VocabularyAdmin.list_display, "group"]
    list_filter = [*VocabularyAdmin.list_filter, "group"]


class ThemeTreeFilter(admin.SimpleListFilter):
    """Themes in document order, indented; a section or theme includes what is below it."""

    title = gettext_lazy("テーマ")
    parameter_name = "theme"

    def lookups(self, request, model_admin):
        return [
            (theme.slug, "\u3000" * (theme.level - 1) + theme.short_label)
            for theme in Theme.objects.in_tree_order()
        ]

    def queryset(self, request, queryset):
        theme = Theme.objects.filter(slug=self.value()).first() if self.value() else None
        return queryset.in_theme(theme) if theme else queryset


class OpinionAdminForm(forms.ModelForm):
    class Meta:
        model = Opinion
        fields = [
            "body",
            "speaker",
            "theme",
            "status",
            "municipality_sizes",
            "stakeholders",
            "source_document",
            "position",
            "meeting",
            "author",
            "repeat_of",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Checkboxes rather than the two-pane filter widget, whose script leaves ARIA
        # attributes on plain spans (axe: aria-prohibited-attr); the lists are short.
        for name in ("municipality_sizes", "stakeholders"):
            if name in self.fields:
                self.fields[name].widget = forms.CheckboxSelectMultiple(
                    choices=self.fields[name].choices
                )
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
    fields = ["tag_name", "reason", "status", "decided_by_name", "decided_at"]
    readonly_fields = fields
    can_delete = False
    decided_by_name = person_column(TagSuggestion, "decided_by")

    @admin.display(description=gettext_lazy("タグ"))
    def tag_name(self, obj):
        return obj.tag.name

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Opinion)
class OpinionAdmin(HistoryAdmin):
    form = OpinionAdminForm
    list_display = ["text", "current_tags", "theme", "source_document", "status", "updated_at"]
    list_filter = [
        "status",
        ThemeTreeFilter,
        "source_document",
        "theme__level",
        "municipality_sizes",
        "stakeholders",
    ]
    list_select_related = ["theme", "source_document"]
    search_fields = ["body"]
    ordering = ["source_document", "position", "pk"]
    # Plain selects and an id field rather than select2 comboboxes, which have no accessible
    # name (axe: aria-input-field-name); the tags are checkboxes (OpinionAdminForm).
    raw_id_fields = ["repeat_of"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
    inlines = [TagSuggestionInline]
    actions = ["add_tag", "remove_tag", "publish", "hide"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("municipality_sizes", "stakeholders")

    @admin.display(description=gettext_lazy("本文"), ordering="body")
    def text(self, obj):
        return obj.body if len(obj.body) <= 120 else f"{obj.body[:120]}…"

    @admin.display(description=gettext_lazy("タグ"))
    def current_tags(self, obj):
        tags = [*obj.municipality_sizes.all(), *obj.stakeholders.all()]
        return (
            pgettext("list separator", "、").join(
                f"{tag.name}{'' if tag.is_active else _('（無効）')}" for tag in tags
            )
            or "—"
        )

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
class TagRuleAdmin(LabelledListEditableMixin, HistoryAdmin):
    list_display = ["pattern", "municipality_size", "stakeholder", "is_regex", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active", "is_regex", "municipality_size", "stakeholder"]
    list_select_related = ["municipality_size", "stakeholder"]
    search_fields = ["pattern"]


@admin.register(TagSuggestion)
class TagSuggestionAdmin(admin.ModelAdmin):
    list_display = [
        "opinion_body",
        "tag_name",
        "reason",
        "status",
        "created_at",
        "decided_by_name",
    ]
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
        "decided_by_name",
    ]
    actions = ["approve", "reject"]
    decided_by_name = person_column(TagSuggestion, "decided_by")

    @admin.display(description=gettext_lazy("タグ"))
    def tag_name(self, obj):
        return obj.tag.name

    @admin.display(description=gettext_lazy("意見（全文）"))
    def opinion_body(self, obj):
        # The whole remark: whether a tag fits cannot be judged from a 40-character excerpt.
        return obj.opinion.body

    def has_add_permission(self, request):
        return False

    @admin.action(
        description=gettext_lazy("選択した提案を承認（タグを付ける）"), permissions=["change"]
    )
    def approve(self, request, queryset):
        self._decide(request, queryset, approve=True)

    @admin.action(
        description=gettext_lazy("選択した提案を却下（タグを付けない）"), permissions=["change"]
    )
    def reject(self, request, queryset):
        self._decide(request, queryset, approve=False)

    def _decide(self, request, queryset, *, approve):
        pending = queryset.filter(status=TagSuggestion.Status.PENDING)
        decided = 0
        for suggestion in pending.select_related("opinion", "municipality_size", "stakeholder"):
            services.decide_suggestion(suggestion, approve=approve, by=request.user)
            decided += 1
        template = (
            ngettext(
                "%(count)s 件の提案を承認しました。", "%(count)s 件の提案を承認しました。", decided
            )
            if approve
            else ngettext(
                "%(count)s 件の提案を却下しました。", "%(count)s 件の提案を却下しました。", decided
            )
        )
        self.message_user(request, template % {"count": decided})


@admin.register(TagMerge)
class TagMergeAdmin(admin.ModelAdmin):
    list_display = [
        "merged_name",
        "kept_name",
        "axis",
        "opinions_moved",
        "merged_by_name",
        "merged_at",
    ]
    list_filter = ["axis"]
    list_select_related = ["merged_by"]
    search_fields = ["merged_name", "kept_name"]
    ordering = ["-merged_at"]
    merged_by_name = person_column(TagMerge, "merged_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SynonymGroup)
class SynonymGroupAdmin(LabelledListEditableMixin, HistoryAdmin):
    list_display = ["__str__", "note", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["is_active"]
    search_fields = ["terms", "note"]
    ordering = ["pk"]


# The response ledger's admin (対応区分, 政策文書, responses) lives with its domain.
# The stored text analysis (opinions/analysis/admin.py).
from .analysis import admin as analysis_admin  # noqa: E402, F401
from .responses import admin as _responses_admin  # noqa: E402, F401
