"""The workbench's and the export's URLs, included into ``opinions.urls`` (same namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("responses/", views.WorkbenchView.as_view(), name="response-workbench"),
    path("responses/bulk/", views.BulkActionView.as_view(), name="response-bulk"),
    path("responses/<int:pk>/", views.ResponseEditView.as_view(), name="response-edit"),
    path(
        "responses/<int:pk>/remarks/<int:opinion_pk>/remove/",
        views.RemoveRemarkView.as_view(),
        name="response-remove-remark",
    ),
    path(
        "responses/export/docx/",
        views.LedgerExportView.as_view(file_format="docx"),
        name="response-export-docx",
    ),
    path(
        "responses/export/xlsx/",
        views.LedgerExportView.as_view(file_format="xlsx"),
        name="response-export-xlsx",
    ),
]
