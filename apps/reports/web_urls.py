"""Web pages of the reports app, mounted at /compliance/."""

from django.urls import path

from . import views

app_name = "compliance"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("controls/", views.controls, name="controls"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/download/", views.report_file, name="report-download"),
    path("verify/", views.verify, name="verify"),
    path("exports/", views.exports, name="exports"),
    path("audit/", views.audit_events, name="audit"),
]
