import tempfile

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import PermissionRequiredMixin
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.http import content_disposition_header, urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from . import exporters, search, selectors
from .filters import OpinionFilter
from .forms import CsvOptionsForm, SummaryScopeForm
from .importers import render_summary
from .models import Opinion, Theme


def visible_opinions(request):
    return Opinion.objects.visible_to(request.user)


class OpinionListView(FilterView):
    filterset_class = OpinionFilter
    template_name = "opinions/opinion_list.html"
    paginate_by = settings.OPINIONS_PAGE_SIZE
    # Invalid parameters are dropped (with a notice) instead of emptying the list.
    strict = False

    def get_queryset(self):
        return visible_opinions(self.request).with_list_relations().in_document_order()

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        for notice in filterset.notices:
            messages.warning(self.request, notice)
        return filterset

    def paginate_queryset(self, queryset, page_size):
        """Like Django's, but a bad or out-of-range ``page`` shows the nearest page, not a 404."""
        paginator = self.get_paginator(queryset, page_size)
        requested = self.request.GET.get(self.page_kwarg, "1")
        page = paginator.get_page(requested)
        if requested != str(page.number) and self.page_kwarg in self.request.GET:
            messages.info(
                self.request,
                _("ページ指定「%(page)s」は無効なため、%(number)s ページ目を表示しています。")
                % {"page": requested[:20], "number": page.number},
            )
        return paginator, page, page.object_list, page.has_other_pages()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = context["page_obj"]
        query = self.filterset.search_query
        context.update(
            page_range=page.paginator.get_elided_page_range(page.number) if page else [],
            facets=selectors.list_facets(self.filterset),
            chips=self.filterset.chips(),
            query=query,
            snippets={
                opinion.pk: search.highlight(opinion.body, query, width=160 if query else 200)
                for opinion in context["object_list"]
            },
            sort_choices=self.filterset.sort_options(),
        )
        return context


class OpinionDetailView(DetailView):
    template_name = "opinions/opinion_detail.html"
    context_object_name = "opinion"

    def get_queryset(self):
        return visible_opinions(self.request).with_list_relations()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        visible = visible_opinions(self.request)
        context["previous"], context["next"] = selectors.neighbours(self.object, visible)
        context["related"] = selectors.related_opinions(self.object, visible)
        context["permalink"] = self.request.build_absolute_uri(self.object.get_absolute_url())
        return context


class ThemeIndexView(TemplateView):
    template_name = "opinions/theme_index.html"

    def get_context_data(self, **kwargs):
        counts = selectors.theme_counts(visible_opinions(self.request))
        return super().get_context_data(nodes=selectors.theme_tree(counts), **kwargs)


class ThemeDetailView(TemplateView):
    template_name = "opinions/theme_detail.html"

    def get_context_data(self, **kwargs):
        theme = get_object_or_404(Theme, slug=self.kwargs["slug"])
        summary = selectors.theme_summary(theme, visible_opinions(self.request))
        return super().get_context_data(
            theme=theme,
            summary=summary,
            list_url=selectors.list_url(theme=theme.slug),
            **kwargs,
        )


class CrossTabView(TemplateView):
    template_name = "opinions/crosstab.html"

    def get_context_data(self, **kwargs):
        axis = self.request.GET.get("axis", "stakeholder")
        if axis not in selectors.TAG_AXES:
            raise Http404(_("集計軸「%(axis)s」はありません。") % {"axis": axis[:30]})
        return super().get_context_data(
            table=selectors.crosstab(visible_opinions(self.request), axis),
            axis=axis,
            axes=[
                (name, model._meta.verbose_name, f"?{urlencode({'axis': name})}")
                for name, model in selectors.TAG_AXES.items()
            ],
            **kwargs,
        )


# --- Exports ---------------------------------------------------------------------------------

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# Remarks fetched per query while streaming; each batch also prefetches its tags.
EXPORT_CHUNK_SIZE = 500


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": content_disposition_header(True, filename)}


def stamped(stem: str, suffix: str) -> str:
    return f"{stem}-{timezone.localtime():%Y%m%d-%H%M}.{suffix}"


def file_attachment(write, *, filename: str, content_type: str) -> FileResponse:
    """A download of what ``write(file)`` writes, through a temporary file rather than
    memory; the file is deleted when the response has been sent and closes it."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 -- FileResponse closes it
    try:
        write(handle)
        handle.seek(0)
    except BaseException:
        handle.close()
        raise
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=content_type)


class ExportPermissionMixin(PermissionRequiredMixin):
    """事務局 and 管理者 export; anyone else logged in gets 403, anonymous users the login."""

    permission_required = "opinions.export_opinion"


class OpinionExportView(ExportPermissionMixin, View):
    """Every remark the list shows for the same filters (all pages), as CSV or XLSX."""

    file_format = "csv"

    def get(self, request):
        options = CsvOptionsForm(request.GET)
        if not options.is_valid():
            return HttpResponse(
                _("文字コードの指定が正しくありません。"), status=400, content_type="text/plain"
            )
        # The list's own queryset and FilterSet: invalid filters are dropped the same way.
        queryset = visible_opinions(request).with_export_relations().in_document_order()
        opinions = OpinionFilter(request.GET, queryset=queryset, request=request).qs
        columns = exporters.export_columns(
            include_status=request.user.has_perm("opinions.view_unpublished_opinion"),
            base_url=request.build_absolute_uri("/"),
        )
        table = exporters.rows(opinions.iterator(chunk_size=EXPORT_CHUNK_SIZE), columns)
        if self.file_format == "xlsx":
            return file_attachment(
                lambda handle: exporters.write_xlsx(
                    table, handle, widths=[column.width for column in columns]
                ),
                filename=stamped(_("意見一覧"), "xlsx"),
                content_type=XLSX_CONTENT_TYPE,
            )
        encoding = options.cleaned_data["encoding"]
        charset = "utf-8" if encoding == "utf-8" else "Shift_JIS"
        return StreamingHttpResponse(
            exporters.csv_chunks(table, encoding=encoding),
            content_type=f"text/csv; charset={charset}",
            headers=attachment(stamped(_("意見一覧"), "csv")),
        )


class SummaryExportView(ExportPermissionMixin, View):
    """The 「主なご意見」 document of a source document, of meetings, or of the list's
    current filters, as DOCX or plain text."""

    file_format = "docx"

    def get(self, request):
        scope = SummaryScopeForm(request.GET)
        if not scope.is_valid():
            return HttpResponse(
                _("会議の指定が正しくありません。"), status=400, content_type="text/plain"
            )
        data = request.GET.copy()
        data.pop("meeting", None)  # the scope form reads it, allowing several
        parsed = selectors.summary_for(
            OpinionFilter(data, queryset=visible_opinions(request), request=request),
            meetings=list(scope.cleaned_data["meeting"]),
        )
        if self.file_format == "txt":
            return HttpResponse(
                render_summary(parsed),
                content_type="text/plain; charset=utf-8",
                headers=attachment(f"{parsed.title}.txt"),
            )
        return file_attachment(
            lambda handle: exporters.summary_docx(parsed, handle),
            filename=f"{parsed.title}.docx",
            content_type=DOCX_CONTENT_TYPE,
        )
