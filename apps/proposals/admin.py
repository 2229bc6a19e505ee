"""Read-only admin of proposals, decisions and post-action reviews: records, never edited here.

Decisions are signed records (21 CFR 11.10(e)); they change only through the services.
"""

from django.contrib import admin

from apps.audit.admin_mixins import ReadOnlyAdmin, ReadOnlyInline

from .models import Decision, PostActionReview, Proposal, SigningBatch


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = [
        "signed_at",
        "reviewer",
        "verdict",
        "signature_meaning",
        "rationale",
        "instructions",
        "batch",
        "payload_version",
    ]
    show_change_link = True


@admin.register(Proposal)
class ProposalAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "action_type",
        "agent",
        "status",
        "mode",
        "queue",
        "escalation_level",
        "sla_due_at",
        "created_at",
    ]
    list_filter = ["status", "mode", "queue"]
    search_fields = ["=id", "action_type", "summary", "external_id", "agent__name"]
    list_select_related = ["agent", "queue"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = [DecisionInline]


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["id", "proposal", "reviewer", "verdict", "signature_meaning", "signed_at"]
    list_filter = ["verdict"]
    search_fields = ["=proposal__id", "reviewer__username", "signer_name", "rationale"]
    list_select_related = ["proposal", "reviewer"]
    date_hierarchy = "signed_at"
    show_full_result_count = False


@admin.register(PostActionReview)
class PostActionReviewAdmin(ReadOnlyAdmin):
    list_display = ["proposal", "state", "queue", "reviewer", "verdict", "reviewed_at"]
    list_filter = ["state", "verdict"]
    list_select_related = ["proposal", "queue", "reviewer"]
    show_full_result_count = False


@admin.register(SigningBatch)
class SigningBatchAdmin(ReadOnlyAdmin):
    list_display = ["id", "signer", "verdict", "size", "signed_at"]
    list_filter = ["verdict"]
    list_select_related = ["signer"]
    date_hierarchy = "signed_at"
    inlines = [DecisionInline]
