"""Admin for the stored analysis: staff rename and merge groups of similar remarks."""

from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import digests
from .models import RemarkGroup, ThemeDigest


class RemarkGroupInline(admin.TabularInline):
    model = RemarkGroup
    fields = ["position", "label", "keywords", "central", "members"]
    readonly_fields = ["position", "keywords", "central", "members"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ThemeDigest)
class ThemeDigestAdmin(admin.ModelAdmin):
    list_display = ["theme", "remarks", "method", "version", "computed_at"]
    list_select_related = ["theme"]
    readonly_fields = [
        "theme",
        "method",
        "version",
        "fingerprint",
        "remarks",
        "keywords",
        "central",
        "overlaps",
        "computed_at",
    ]
    inlines = [RemarkGroupInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RemarkGroup)
class RemarkGroupAdmin(admin.ModelAdmin):
    list_display = ["display_label", "digest", "position", "size"]
    list_filter = ["digest__theme"]
    list_select_related = ["digest__theme"]
    fields = ["digest", "position", "label", "keywords", "central", "size", "members"]
    readonly_fields = ["digest", "position", "keywords", "central", "size", "members"]
    actions = ["merge"]

    @admin.display(description=gettext_lazy("名前"))
    def display_label(self, obj):
        return obj.display_label

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description=gettext_lazy("選択したまとまりを統合（最初のものに集める）"),
        permissions=["change"],
    )
    def merge(self, request, queryset):
        try:
            kept = digests.merge_groups(list(queryset))
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(
            request, _("「%(label)s」に統合しました。") % {"label": kept.display_label}
        )
