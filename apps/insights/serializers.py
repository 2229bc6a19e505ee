"""Output shapes of the insights API; the QA item is blind: it never carries the first verdict."""

from rest_framework import serializers

from apps.proposals.payloads import payload_version

from .models import QaAssignment, Recommendation


class RecommendationOutputSerializer(serializers.ModelSerializer):
    policy_version = serializers.IntegerField(source="policy_version.number")
    draft_version = serializers.IntegerField(source="draft_version.number", allow_null=True, default=None)
    draft_status = serializers.CharField(source="draft_version.status", allow_null=True, default=None)
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "kind",
            "state",
            "rule_name",
            "change",
            "evidence",
            "policy_version",
            "draft_version",
            "draft_status",
            "created_at",
            "decided_by",
            "decided_at",
            "note",
        ]


class QaItemSerializer(serializers.ModelSerializer):
    """What the senior reviewer sees: the proposal as the first reviewer saw it, and nothing of their verdict."""

    proposal = serializers.SerializerMethodField()

    class Meta:
        model = QaAssignment
        fields = ["id", "created_at", "proposal"]

    def get_proposal(self, assignment) -> dict:
        proposal = assignment.proposal
        return {
            "id": proposal.pk,
            "agent": proposal.agent.name,
            "action_type": proposal.action_type,
            "payload": payload_seen_by_first_reviewer(assignment),
            "summary": proposal.summary,
            "reasoning": proposal.reasoning,
            "evidence": proposal.evidence,
            "confidence": proposal.confidence,
            "irreversible": proposal.irreversible,
            "blast_radius": proposal.blast_radius,
            "compliance_exposure": proposal.compliance_exposure,
            "expected_impact": proposal.expected_impact,
            "created_at": proposal.created_at,
        }


class QaAssignmentOutputSerializer(serializers.ModelSerializer):
    proposal = serializers.IntegerField(source="proposal_id")
    decision = serializers.IntegerField(source="decision_id")
    action_type = serializers.CharField(source="proposal.action_type")
    first_reviewer = serializers.CharField(source="first_reviewer.username")
    first_verdict = serializers.CharField(source="decision.verdict")
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True, default=None)
    second_reviewer = serializers.CharField(source="second_reviewer.username", allow_null=True, default=None)

    class Meta:
        model = QaAssignment
        fields = [
            "id",
            "state",
            "proposal",
            "decision",
            "action_type",
            "first_reviewer",
            "first_verdict",
            "assigned_to",
            "sampled_by",
            "created_at",
            "second_reviewer",
            "second_verdict",
            "rationale",
            "agrees",
            "signer_name",
            "signature_meaning",
            "reviewed_at",
        ]


def payload_seen_by_first_reviewer(assignment: QaAssignment):
    """A verdict on a modified version was given on the revised payload; a modification started from the original."""
    proposal, decision = assignment.proposal, assignment.decision
    revised = proposal.revised_payload
    if revised is not None and decision.verdict != "modify" and decision.payload_version == payload_version(revised):
        return revised
    return proposal.payload
