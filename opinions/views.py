from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext as _
from django.views.generic import DetailView
from django_filters.views import FilterView

from .filters import OpinionFilter
from .models import Opinion


class OpinionListView(FilterView):
    filterset_class = OpinionFilter
    template_name = "opinions/opinion_list.html"
    paginate_by = settings.OPINIONS_PAGE_SIZE
    # Invalid parameters are dropped (with a notice) instead of emptying the list.
    strict = False

    def get_queryset(self):
        return (
            Opinion.objects.visible_to(self.request.user).with_list_relations().in_document_order()
        )

    def get_filterset(self, filterset_class):
        filterset = super().get_filterset(filterset_class)
        if filterset.is_bound and not filterset.is_valid():
            names = "、".join(str(filterset.form[name].label) for name in filterset.errors)
            messages.warning(
                self.request, _("無効な条件を無視しました：%(names)s") % {"names": names}
            )
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
        context["page_range"] = page.paginator.get_elided_page_range(page.number) if page else []
        return context


class OpinionDetailView(DetailView):
    template_name = "opinions/opinion_detail.html"
    context_object_name = "opinion"

    def get_queryset(self):
        return Opinion.objects.visible_to(self.request.user).with_list_relations()
