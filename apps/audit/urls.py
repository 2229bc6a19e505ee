"""API routes of the audit app, mounted under /api/v1/."""

from django.urls import path

from . import apis

urlpatterns = [
    path("audit/events/", apis.AuditEventListApi.as_view(), name="audit-event-list"),
    path("audit/events/<int:seq>/proof/", apis.InclusionProofApi.as_view(), name="audit-event-proof"),
    path("audit/events/<int:seq>/redact/", apis.EventRedactApi.as_view(), name="audit-event-redact"),
    path("audit/verify/", apis.AuditVerifyApi.as_view(), name="audit-verify"),
    path("audit/checkpoints/", apis.CheckpointListApi.as_view(), name="audit-checkpoint-list"),
    path("audit/checkpoints/latest/", apis.CheckpointLatestApi.as_view(), name="audit-checkpoint-latest"),
    path("audit/checkpoints/consistency/", apis.ConsistencyProofApi.as_view(), name="audit-checkpoint-consistency"),
]
