from django.urls import path

from . import views

app_name = "opinions"

urlpatterns = [
    path("opinions/", views.OpinionListView.as_view(), name="opinion-list"),
    path("opinions/<int:pk>/", views.OpinionDetailView.as_view(), name="opinion-detail"),
    path("themes/", views.ThemeIndexView.as_view(), name="theme-index"),
    path("themes/<str:slug>/", views.ThemeDetailView.as_view(), name="theme-detail"),
    path("crosstab/", views.CrossTabView.as_view(), name="crosstab"),
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
]
