"""The audit API (DESIGN.md, REST API): the chain, its verification, checkpoints and proofs."""

import json

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from hitlplatform.api.permissions import IsAdmin, IsComplianceOfficer
from hitlplatform.errors import NotFound

from . import canonical
from .selectors import (
    audit_checkpoint_latest,
    audit_checkpoints,
    audit_consistency_proof,
    audit_events,
    audit_inclusion_proof,
)
from .services import audit_redact
from .verification import audit_verification_status


@extend_schema_field(OpenApiTypes.DATETIME)
class TimestampField(serializers.Field):
    """The instant as it was hashed: microsecond ISO-8601 UTC."""

    def to_representation(self, value):
        return canonical.format_timestamp(value)


class EventOutputSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    timestamp = TimestampField()
    actor_type = serializers.CharField()
    actor_id = serializers.CharField()
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    data = serializers.SerializerMethodField()
    canonical_data = serializers.SerializerMethodField()
    salt = serializers.SerializerMethodField()
    redacted = serializers.SerializerMethodField()
    data_hash = serializers.CharField()
    prev_hash = serializers.CharField()
    hash = serializers.CharField()
    schema_version = serializers.IntegerField()

    def get_data(self, event) -> dict | None:
        record = getattr(event, "data_record", None)
        return json.loads(record.canonical_data) if record else None

    def get_canonical_data(self, event) -> str | None:
        record = getattr(event, "data_record", None)
        return record.canonical_data if record else None

    def get_salt(self, event) -> str | None:
        record = getattr(event, "data_record", None)
        return record.salt if record else None

    def get_redacted(self, event) -> bool:
        return getattr(event, "data_record", None) is None


class CheckpointOutputSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField()
    timestamp = TimestampField()
    signature = serializers.CharField()
    public_key = serializers.CharField()


class AuditEventListApi(APIView):
    """The chain in seq order, `limit` events after `after`; `next` links the following page."""

    permission_classes = [IsComplianceOfficer]

    class FilterSerializer(serializers.Serializer):
        after = serializers.IntegerField(min_value=0, default=0)
        limit = serializers.IntegerField(min_value=1, max_value=1000, default=100)

    class OutputSerializer(serializers.Serializer):
        next = serializers.CharField(allow_null=True)
        results = EventOutputSerializer(many=True)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request):
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit = query.validated_data["limit"]
        events = list(audit_events(after=query.validated_data["after"])[: limit + 1])
        next_url = None
        if len(events) > limit:
            events = events[:limit]
            next_url = reverse("audit-event-list", request=request) + f"?after={events[-1].seq}&limit={limit}"
        return Response(self.OutputSerializer({"next": next_url, "results": events}).data)


class AuditVerifyApi(APIView):
    """The last full verification (nightly) plus an incremental check of the events since."""

    permission_classes = [IsComplianceOfficer]

    class OutputSerializer(serializers.Serializer):
        ok = serializers.BooleanField()
        events_checked = serializers.IntegerField()
        head_seq = serializers.IntegerField()
        head_hash = serializers.CharField()
        first_bad_seq = serializers.IntegerField(allow_null=True)
        reason = serializers.CharField(allow_blank=True)
        redacted = serializers.IntegerField()
        checkpoints_checked = serializers.IntegerField()
        last_full_verification_at = serializers.DateTimeField(allow_null=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        verification, last_full = audit_verification_status()
        body = {**verification.as_dict(), "last_full_verification_at": last_full.finished_at if last_full else None}
        return Response(self.OutputSerializer(body).data)


class CheckpointLatestApi(APIView):
    """The latest signed tree head; anyone authenticated may fetch it to pin the log."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=CheckpointOutputSerializer)
    def get(self, request):
        checkpoint = audit_checkpoint_latest()
        if checkpoint is None:
            raise NotFound(_("No checkpoint has been signed yet."))
        return Response(CheckpointOutputSerializer(checkpoint).data)


class CheckpointListApi(APIView):
    permission_classes = [IsComplianceOfficer]

    @extend_schema(responses=CheckpointOutputSerializer(many=True))
    def get(self, request):
        return Response(CheckpointOutputSerializer(audit_checkpoints(), many=True).data)


class InclusionProofApi(APIView):
    """RFC 9162 inclusion proof of one event in the tree of `tree_size` events."""

    permission_classes = [IsComplianceOfficer]

    class FilterSerializer(serializers.Serializer):
        tree_size = serializers.IntegerField(min_value=1, required=False)

    class OutputSerializer(serializers.Serializer):
        leaf_index = serializers.IntegerField()
        tree_size = serializers.IntegerField()
        root_hash = serializers.CharField()
        audit_path = serializers.ListField(child=serializers.CharField())

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request, seq):
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        proof = audit_inclusion_proof(seq=seq, tree_size=query.validated_data.get("tree_size"))
        return Response(self.OutputSerializer(proof).data)


class ConsistencyProofApi(APIView):
    """RFC 9162 2.1.4 consistency proof between two tree sizes."""

    permission_classes = [IsComplianceOfficer]

    class FilterSerializer(serializers.Serializer):
        first = serializers.IntegerField(min_value=1)
        second = serializers.IntegerField(min_value=1)

        def validate(self, attrs):
            if attrs["first"] > attrs["second"]:
                raise serializers.ValidationError(
                    {"second": _("The second tree size must not be smaller than the first.")}
                )
            return attrs

    class OutputSerializer(serializers.Serializer):
        first = serializers.IntegerField()
        second = serializers.IntegerField()
        first_root_hash = serializers.CharField()
        second_root_hash = serializers.CharField()
        consistency_path = serializers.ListField(child=serializers.CharField())

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request):
        query = self.FilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(self.OutputSerializer(audit_consistency_proof(**query.validated_data)).data)


class EventRedactApi(APIView):
    """Erase an event's data (GDPR Art. 17); admins only. The erasure is itself audited."""

    permission_classes = [IsAdmin]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(min_length=3, max_length=1000)

    @extend_schema(request=InputSerializer, responses=EventOutputSerializer)
    def post(self, request, seq):
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        redaction = audit_redact(seq=seq, reason=body.validated_data["reason"], actor=request.user)
        return Response(EventOutputSerializer(audit_events(after=redaction.seq - 1).first()).data, status=201)
