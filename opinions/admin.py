from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    Committee,
    Meeting,
    MunicipalitySize,
    Opinion,
    SourceDocument,
    Stakeholder,
    Theme,
)


class MeetingInline(admin.TabularInline):
    model = Meeting
    extra = 0


@admin.register(Committee)
class CommitteeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]
    inlines = [MeetingInline]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ["__str__", "committee", "held_on"]
    list_filter = ["committee"]
    list_select_related = ["committee"]
    search_fields = ["committee__name"]


@admin.register(SourceDocument)
class SourceDocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "label", "committee", "published_on"]
    list_filter = ["committee"]
    list_select_related = ["committee"]
    filter_horizontal = ["meetings"]
    search_fields = ["title", "label"]


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["display_name", "short_label", "slug", "level", "parent", "position"]
    list_editable = ["short_label"]
    list_filter = ["level"]
    list_select_related = ["parent"]
    search_fields = ["name", "short_label", "slug"]
    autocomplete_fields = ["parent"]

    def get_queryset(self, request):
        return super().get_queryset(request).in_tree_order()

    @admin.display(description=_("見出し"))
    def display_name(self, obj):
        return obj.display_name


class VocabularyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(MunicipalitySize)
class MunicipalitySizeAdmin(VocabularyAdmin):
    list_display = [*VocabularyAdmin.list_display, "min_population", "max_population"]


@admin.register(Stakeholder)
class StakeholderAdmin(VocabularyAdmin):
    pass


@admin.register(Opinion)
class OpinionAdmin(admin.ModelAdmin):
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
    autocomplete_fields = ["theme", "author"]
    filter_horizontal = ["municipality_sizes", "stakeholders"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"
