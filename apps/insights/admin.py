"""Read-only admin of the insights app: advice is accepted in /insights/ (or the API), where the
services draft a policy version that a different admin activates; nothing is edited here."""

from django.contrib import admin

from apps.audit.admin_mixins import ReadOnlyAdmin

from .models import FigureSet, QaAssignment, Recommendation


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "rule_name", "state", "policy_version", "draft_version", "decided_by", "created_at"]
    list_filter = ["state", "kind"]
    search_fields = ["rule_name"]


@admin.register(QaAssignment)
class QaAssignmentAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "proposal",
        "first_reviewer",
        "state",
        "second_reviewer",
        "second_verdict",
        "agrees",
        "created_at",
    ]
    list_filter = ["state", "agrees", "sampled_by"]


@admin.register(FigureSet)
class FigureSetAdmin(ReadOnlyAdmin):
    list_display = ["computed_at", "window_days", "agent", "action_type", "rule_name"]
    list_filter = ["window_days"]
