from csp.decorators import csp_exempt
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from . import api, views
from .analysis import views as analysis_views

app_name = "opinions"

router = DefaultRouter()
router.include_format_suffixes = False
router.register("opinions", api.OpinionViewSet, basename="api-opinion")
router.register("themes", api.ThemeViewSet, basename="api-theme")

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
    path("gaps/", analysis_views.GapsView.as_view(), name="gaps"),
    path("submit/", views.SubmitView.as_view(), name="submit"),
    path("submit/done/<int:pk>/", views.SubmitDoneView.as_view(), name="submit-done"),
    path("mypage/", views.MyPageView.as_view(), name="mypage"),
    path("review/", views.ReviewQueueView.as_view(), name="review-queue"),
    path("review/<int:pk>/", views.ReviewActionView.as_view(), name="review-action"),
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
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # The API documentation pages start Swagger UI / Redoc with an inline script.
        csp_exempt()(SpectacularSwaggerView.as_view(url_name="opinions:api-schema")),
        name="api-docs",
    ),
    path(
        "api/redoc/",
        csp_exempt()(SpectacularRedocView.as_view(url_name="opinions:api-schema")),
        name="api-redoc",
    ),
    path("api/tags/", api.TagsView.as_view(), name="api-tags"),
    path("api/", include(router.urls)),
    re_path(r"^api/", api.not_found),
]
