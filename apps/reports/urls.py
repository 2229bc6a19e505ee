"""API routes of the reports app, mounted under /api/v1/."""

from django.urls import path

from . import apis

urlpatterns = [
    path("reports/", apis.ReportCreateApi.as_view(), name="report-list"),
    path("reports/<int:pk>/", apis.ReportDetailApi.as_view(), name="report-detail"),
    path("reports/<int:pk>/download/", apis.ReportDownloadApi.as_view(), name="report-download"),
    path("compliance/controls/", apis.ControlsApi.as_view(), name="compliance-controls"),
    path("exports/decisions.csv", apis.DecisionCsvExportApi.as_view(), name="export-decisions-csv"),
    path("exports/decisions.jsonl", apis.DecisionJsonlExportApi.as_view(), name="export-decisions-jsonl"),
    path("exports/audit.jsonl", apis.AuditJsonlExportApi.as_view(), name="export-audit-jsonl"),
]
