from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from . import api, saved_searches, views
from .analysis import views as analysis_views
from .responses import api as response_api
from .responses import urls as response_urls

app_name = "opinions"

API_DOCS_CSP = {"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"], "img-src": ["blob:"]}

router = DefaultRouter()
router.include_format_suffixes = False
router.register("opinions", api.OpinionViewSet, basename="api-opinion")
router.register("themes", api.ThemeViewSet, basename="api-theme")
router.register("responses", response_api.ResponseViewSet, basename="api-response")

urlpatterns = [
    path("opinions/", views.OpinionListView.as_view(), name="opinion-list"),
    path("opinions/<int:pk>/", views.OpinionDetailView.as_view(), name="opinion-detail"),
    path("opinions/<int:pk>/edit/", views.OpinionEditView.as_view(), name="opinion-edit"),
    path(
        "opinions/<int:pk>/withdraw/", views.OpinionWithdrawView.as_view(), name="opinion-withdraw"
    ),
    path("themes/", views.ThemeIndexView.as_view(), name="theme-index"),
    path("themes/<str:slug>/", views.ThemeDetailView.as_view(), name="theme-detail"),
    path("crosstab/", views.CrossTabView.as_view(), name="crosstab"),
    path(
        "crosstab/export/csv/",
        views.CrossTabExportView.as_view(file_format="csv"),
        name="crosstab-export-csv",
    ),
    path(
        "crosstab/export/xlsx/",
        views.CrossTabExportView.as_view(file_format="xlsx"),
        name="crosstab-export-xlsx",
    ),
    path("gaps/", analysis_views.GapsView.as_view(), name="gaps"),
    path("submit/", views.SubmitView.as_view(), name="submit"),
    path("submit/done/<int:pk>/", views.SubmitDoneView.as_view(), name="submit-done"),
    path("mypage/", views.MyPageView.as_view(), name="mypage"),
    path("searches/", saved_searches.SavedSearchCreateView.as_view(), name="saved-search-create"),
    path(
        "searches/<int:pk>/",
        saved_searches.SavedSearchChangeView.as_view(),
        name="saved-search-change",
    ),
    path(
        "searches/feed/<uuid:token>/",
        saved_searches.SavedSearchFeed(),
        name="saved-search-feed",
    ),
    path("review/", views.ReviewQueueView.as_view(), name="review-queue"),
    path("review/<int:pk>/", views.ReviewActionView.as_view(), name="review-action"),
    path("review/publish/", views.ReviewBulkPublishView.as_view(), name="review-bulk-publish"),
    path(
        "opinions/export/csv/",
        views.OpinionExportView.as_view(file_format="csv"),
        name="opinion-export-csv",
    ),
    path(
        "opinions/export/xlsx/",
        views.OpinionExportView.as_view(file_format="xlsx"),
        name="opinion-export-xlsx",
    ),
    path(
        "opinions/summary/docx/",
        views.SummaryExportView.as_view(file_format="docx"),
        name="summary-docx",
    ),
    path(
        "opinions/summary/txt/",
        views.SummaryExportView.as_view(file_format="txt"),
        name="summary-text",
    ),
    *response_urls.urlpatterns,
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # Swagger UI's start-up script served as a file (the split view), so scripts stay
        # same-origin only; both UIs set inline styles and Redoc runs a blob: worker.
        csp_update(API_DOCS_CSP)(
            SpectacularSwaggerSplitView.as_view(url_name="opinions:api-schema")
        ),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_update(API_DOCS_CSP)(SpectacularRedocView.as_view(url_name="opinions:api-schema")),
        name="api-redoc",
    ),
    path("api/tags/", api.TagsView.as_view(), name="api-tags"),
    path("api/", include(router.urls)),
    re_path(r"^api/", api.not_found),
]
