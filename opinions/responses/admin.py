"""Admin of the ledger's vocabularies: 対応区分 and the policy documents 反映先 point into.

Responses themselves are written on the workbench (which enforces the second pair of
eyes); the admin shows them and their history read-only.
"""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy

from opinions.admin_history import HistoryAdmin
from opinions.admin_people import person_column

from .models import PolicyDocument, Response, ResponseCategory, ResponseReference, ResponseRemark


@admin.register(ResponseCategory)
class ResponseCategoryAdmin(HistoryAdmin):
    list_display = ["name", "slug", "position", "is_active", "response_count"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_responses=Count("responses"))

    @admin.display(description=gettext_lazy("対応の数"), ordering="n_responses")
    def response_count(self, obj):
        return obj.n_responses

    def has_delete_permission(self, request, obj=None):
        # A category in use is deactivated, never deleted (the responses keep it).
        if obj is not None and obj.responses.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(PolicyDocument)
class PolicyDocumentAdmin(HistoryAdmin):
    list_display = ["title", "short_title", "published_on", "position"]
    list_editable = ["position"]
    search_fields = ["title", "short_title"]


class RemarkInline(admin.TabularInline):
    model = ResponseRemark
    fields = ["opinion", "answered_version", "added_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


class ReferenceInline(admin.TabularInline):
    model = ResponseReference
    fields = ["document", "section", "page", "url"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Response)
class ResponseAdmin(HistoryAdmin):
    list_display = ["pk", "category", "state", "author_name", "reviewer_name", "updated_at"]
    list_filter = ["state", "category"]
    list_select_related = ["category", "author", "reviewer"]
    search_fields = ["reasoning", "memo"]
    readonly_fields = [
        "category",
        "reasoning",
        "memo",
        "state",
        "author_name",
        "reviewer_name",
        "reviewed_at",
        "published_at",
        "version",
        "created_at",
        "updated_at",
    ]
    inlines = [RemarkInline, ReferenceInline]
    author_name = person_column(Response, "author")
    reviewer_name = person_column(Response, "reviewer")

    def has_add_permission(self, request):
        return False
