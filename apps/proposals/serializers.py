"""Input and output shapes of proposals and decisions (shared by the API views and webhooks)."""

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.settings import api_settings

from apps.policies.models import ComplianceExposure

from .fast_paths import shared_serializer as _shared
from .payloads import payload_too_large


def proposal_input_validate(data) -> dict:
    """The validated fields of a submission; a ValidationError names every bad field."""
    if data is None:  # a JSON null body, worded as Serializer.is_valid words it
        raise serializers.ValidationError(
            {api_settings.NON_FIELD_ERRORS_KEY: [ErrorDetail("No data provided", code="null")]}
        )
    return _shared(ProposalInputSerializer).run_validation(data)


def proposal_representation(proposal) -> dict:
    """A proposal as the API returns it (and webhooks carry it)."""
    return _shared(ProposalOutputSerializer).to_representation(proposal)


class NumberField(serializers.FloatField):
    """A JSON number: DRF's FloatField would also take "0.9" and true."""

    def run_validation(self, data=serializers.empty):
        value = super().run_validation(data)
        if isinstance(data, bool | str):
            raise serializers.ValidationError(_("A number from 0 to 1 is required."))
        return value


class ProposalInputSerializer(serializers.Serializer):
    """What an agent submits; also the body of a routing simulation."""

    action_type = serializers.RegexField(r"^[A-Za-z0-9_.:-]+$", max_length=200)
    payload = serializers.JSONField()
    summary = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    reasoning = serializers.CharField(required=False, allow_blank=True, default="", max_length=20_000)
    evidence = serializers.ListField(required=False, default=list, max_length=100)
    confidence = NumberField(min_value=0.0, max_value=1.0)
    irreversible = serializers.BooleanField(required=False, default=False)
    blast_radius = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0)
    compliance_exposure = serializers.ChoiceField(choices=ComplianceExposure.choices, required=False, default="none")
    expected_impact = serializers.CharField(required=False, allow_blank=True, default="", max_length=5_000)
    external_id = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    callback_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=200)

    def validate_payload(self, payload):
        if not isinstance(payload, dict):
            raise serializers.ValidationError(_("The payload must be a JSON object."))
        try:
            too_large = payload_too_large(payload)
        except Exception as error:  # rfc8785 refuses values I-JSON cannot carry (huge ints, NaN)
            raise serializers.ValidationError(
                _("The payload cannot be canonicalized: %(error)s") % {"error": error}
            ) from error
        if too_large:
            raise serializers.ValidationError(_("The payload is larger than the allowed size."))
        return payload

    def validate_evidence(self, evidence):
        try:
            payload_too_large(evidence)
        except Exception as error:
            raise serializers.ValidationError(
                _("The evidence cannot be canonicalized: %(error)s") % {"error": error}
            ) from error
        return evidence


class DecisionOutputSerializer(serializers.Serializer):
    # Plain serializers with declared fields: a ModelSerializer introspects the model on every
    # instantiation, which is a measurable share of the intake path.
    id = serializers.IntegerField()
    verdict = serializers.CharField()
    rationale = serializers.CharField()
    reviewer = serializers.CharField(source="reviewer.username")
    payload = serializers.JSONField()
    payload_version = serializers.CharField()
    escalation_level = serializers.IntegerField()
    instructions = serializers.CharField()
    batch = serializers.IntegerField(source="batch_id", allow_null=True)
    signature = serializers.SerializerMethodField()

    def get_signature(self, decision) -> dict:
        return {
            "printed_name": decision.signer_name,
            "meaning": decision.signature_meaning,
            "signed_at": decision.signed_at.isoformat().replace("+00:00", "Z"),
        }


class ProposalOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    mode = serializers.CharField()
    agent = serializers.CharField(source="agent.name")
    action_type = serializers.CharField()
    payload = serializers.JSONField()
    revised_payload = serializers.JSONField(allow_null=True)
    payload_version = serializers.CharField()
    final_payload = serializers.JSONField()
    modified = serializers.BooleanField()
    approved_by = serializers.CharField()
    approved_on_expiry = serializers.BooleanField()
    approvals_required = serializers.IntegerField()
    decisions = DecisionOutputSerializer(many=True)
    policy_rule = serializers.CharField(source="policy_rule.name", default=None, allow_null=True)
    policy_version = serializers.IntegerField(source="policy_version.number", default=None, allow_null=True)
    routing = serializers.JSONField()
    queue = serializers.CharField(source="queue.slug", default=None, allow_null=True)
    escalation_level = serializers.IntegerField()
    sla_due_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    execution = serializers.SerializerMethodField()
    review = serializers.SerializerMethodField()
    summary = serializers.CharField()
    reasoning = serializers.CharField()
    evidence = serializers.JSONField()
    confidence = serializers.FloatField()
    irreversible = serializers.BooleanField()
    blast_radius = serializers.IntegerField()
    compliance_exposure = serializers.CharField()
    expected_impact = serializers.CharField()
    external_id = serializers.CharField()
    callback_url = serializers.CharField()
    instructions = serializers.CharField()
    revision_of = serializers.IntegerField(source="revision_of_id", allow_null=True)
    revision = serializers.IntegerField()
    revised_by = serializers.IntegerField(source="revised_by_id", allow_null=True)
    claim = serializers.SerializerMethodField()

    def get_claim(self, proposal) -> dict | None:
        if proposal.claim_holder_id() is None:  # no query for the usual unclaimed proposal
            return None
        return {"claimed_by": proposal.claimed_by.get_username(), "claim_expires_at": proposal.claim_expires_at}

    def get_execution(self, proposal) -> dict | None:
        if not proposal.execution_status:
            return None
        return {
            "status": proposal.execution_status,
            "detail": proposal.execution_detail,
            "reported_at": proposal.executed_at,
        }

    def get_review(self, proposal) -> dict | None:
        review = getattr(proposal, "post_review", None)
        if review is None:
            return None
        result = {"state": review.state, "draw": review.draw, "sample_rate": review.sample_rate}
        if review.reviewed_at:
            result |= {
                "verdict": review.verdict,
                "rationale": review.rationale,
                "correction": review.correction,
                "reviewer": review.reviewer.username if review.reviewer else None,
                "reviewed_at": review.reviewed_at,
            }
        return result
