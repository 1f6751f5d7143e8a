from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView
from django_filters.views import FilterView

from . import caching, search, selectors
from .filters import OpinionFilter
from .models import Opinion, Theme


def visible_opinions(request):
    return Opinion.objects.visible_to(request.user)


class OpinionListView(caching.CachedPageMixin, FilterView):
    page_cache_name = "page-opinion-list"
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

    def get_paginator(self, queryset, per_page, **kwargs):
        paginator = super().get_paginator(queryset, per_page, **kwargs)
        # The count of a million rows is the slow half of a page; the rows are an index scan.
        paginator.count = caching.cached(
            self.request, "list-count", caching.query_parts(self.request), queryset.count
        )
        return paginator

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
            facets=caching.cached(
                self.request,
                "list-facets",
                caching.query_parts(self.request),
                lambda: selectors.list_facets(self.filterset),
            ),
            chips=self.filterset.chips(),
            query=query,
            snippets={
                opinion.pk: search.highlight(opinion.body, query, width=160 if query else 200)
                for opinion in context["object_list"]
            },
            sort_choices=self.filterset.sort_options(),
        )
        return context


class OpinionDetailView(caching.CachedPageMixin, DetailView):
    page_cache_name = "page-opinion-detail"
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


class ThemeIndexView(caching.CachedPageMixin, TemplateView):
    page_cache_name = "page-theme-index"
    template_name = "opinions/theme_index.html"

    def get_context_data(self, **kwargs):
        counts = caching.cached(
            self.request,
            "theme-counts",
            (),
            lambda: selectors.theme_counts(visible_opinions(self.request)),
        )
        return super().get_context_data(nodes=selectors.theme_tree(counts), **kwargs)


class ThemeDetailView(caching.CachedPageMixin, TemplateView):
    page_cache_name = "page-theme-detail"
    template_name = "opinions/theme_detail.html"

    def get_context_data(self, **kwargs):
        theme = get_object_or_404(Theme, slug=self.kwargs["slug"])
        summary = caching.cached(
            self.request,
            "theme-summary",
            theme.pk,
            lambda: selectors.theme_summary(theme, visible_opinions(self.request)),
        )
        return super().get_context_data(
            theme=theme,
            summary=summary,
            list_url=selectors.list_url(theme=theme.slug),
            **kwargs,
        )


class CrossTabView(caching.CachedPageMixin, TemplateView):
    page_cache_name = "page-crosstab"
    template_name = "opinions/crosstab.html"

    def get_context_data(self, **kwargs):
        axis = self.request.GET.get("axis", "stakeholder")
        if axis not in selectors.TAG_AXES:
            raise Http404(_("集計軸「%(axis)s」はありません。") % {"axis": axis[:30]})
        return super().get_context_data(
            table=caching.cached(
                self.request,
                "crosstab",
                axis,
                lambda: selectors.crosstab(visible_opinions(self.request), axis),
            ),
            axis=axis,
            axes=[
                (name, model._meta.verbose_name, f"?{urlencode({'axis': name})}")
                for name, model in selectors.TAG_AXES.items()
            ],
            **kwargs,
        )
