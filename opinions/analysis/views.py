"""The page of the analysis: the gaps of the theme × 自治体規模 × 関係者 cube."""

from django.views.generic import TemplateView

from opinions.browsing import caching
from opinions.views import visible_opinions

from .gaps import gap_rows

THIN_CHOICES = (0, 1, 2)


class GapsView(caching.CachedPageMixin, TemplateView):
    """For each ○theme and size band, the stakeholders with no remark (or only a few)."""

    page_cache_name = "page-gaps"
    template_name = "opinions/gaps.html"

    def get_context_data(self, **kwargs):
        try:
            thin = int(self.request.GET.get("thin", 0))
        except ValueError:
            thin = 0
        thin = thin if thin in THIN_CHOICES else 0
        # Two grouped queries over the tag tables (0.5 s at 100,000 remarks): computed once
        # per data version and audience, as the cross-tab is.
        rows = caching.cached(
            self.request,
            "gaps",
            thin,
            lambda: gap_rows(visible_opinions(self.request), thin=thin),
        )
        return super().get_context_data(rows=rows, thin=thin, thin_choices=THIN_CHOICES, **kwargs)
