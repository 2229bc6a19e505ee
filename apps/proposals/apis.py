"""The integrator and reviewer API of proposals (DESIGN.md, REST API)."""

import hashlib
import time
from functools import partial

import rfc8785
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.policies.models import Mode
from hitlplatform.api.permissions import IsAgent, IsReviewer, IsUser
from hitlplatform.api.waiting import (
    authenticated,
    json_response,
    principal_key,
    render,
    schema_view,
    validated,
    waiting_api,
)
from hitlplatform.errors import Forbidden, InvalidInput, NotFound
from hitlplatform.wakeups import database, hub

from .models import FINAL_STATUSES, ExecutionStatus, IdempotencyRecord, PostActionReview, Proposal, Status, Verdict
from .selectors import PROPOSAL_RELATIONS, proposal_get_for, proposals_visible_to, proposals_with_decisions
from .serializers import (
    DecisionOutputSerializer,
    ProposalInputSerializer,
    ProposalOutputSerializer,
    proposal_input_validate,
    proposal_representation,
)
from .services import (
    proposal_cancel,
    proposal_claim,
    proposal_claim_release,
    proposal_decide,
    proposal_post_review,
    proposal_reassign,
    proposal_report_execution,
    proposal_revise,
    proposal_submit,
)

IDEMPOTENCY_KEY_MAX_LENGTH = IdempotencyRecord._meta.get_field("key").max_length

SUBMIT_EXAMPLE = OpenApiExample(
    "A refund",
    request_only=True,
    value={
        "action_type": "payments.refund",
        "payload": {"order": "A-1001", "amount": "49.90", "currency": "EUR"},
        "summary": "Refund order A-1001 (damaged on arrival)",
        "reasoning": "Customer sent photos of the damage; order within the 30-day window.",
        "evidence": [{"type": "ticket", "id": "T-88"}],
        "confidence": 0.93,
        "irreversible": False,
        "blast_radius": 1,
        "compliance_exposure": "low",
        "expected_impact": "49.90 EUR refunded to the customer's card",
        "external_id": "refund-A-1001",
    },
)


class ProposalFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=Status.choices)
    mode = filters.ChoiceFilter(choices=Mode.choices)
    action_type = filters.CharFilter()
    created_after = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Proposal
        fields = ["status", "mode", "action_type"]


class ProposalListCreateApi(generics.ListAPIView):
    serializer_class = ProposalOutputSerializer
    filterset_class = ProposalFilter
    queryset = Proposal.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return proposals_with_decisions(proposals_visible_to(self.request.user))

    @extend_schema(
        request=ProposalInputSerializer,
        responses={201: ProposalOutputSerializer},
        examples=[SUBMIT_EXAMPLE],
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        summary="Submit a proposed action (agents)",
    )
    def post(self, request):
        if not IsAgent().has_permission(request, self):
            raise Forbidden(_("Only agents submit proposals."))
        return _submission_response(request, partial(proposal_submit, agent=request.user))


class ProposalDetailApi(APIView):
    @extend_schema(responses=ProposalOutputSerializer, summary="A proposal")
    def get(self, request, pk):
        return Response(proposal_representation(proposal_get_for(principal=request.user, proposal_id=pk)))


class ProposalWaitApi(APIView):
    """The schema of `proposal_wait_api` (DRF views run only synchronously; this one waits)."""

    class InputSerializer(serializers.Serializer):
        timeout = serializers.FloatField(min_value=0, max_value=60, default=30)

    @extend_schema(
        parameters=[InputSerializer],
        responses=ProposalOutputSerializer,
        summary="Long-poll until final",
        description="Answers as soon as the proposal is final, or with its current state after `timeout` "
        "seconds (at most 60). 429 with Retry-After past the caps of concurrent waits.",
    )
    def get(self, request, pk):  # pragma: no cover - the URL routes to proposal_wait_api
        raise NotImplementedError


@waiting_api
async def proposal_wait_api(request, pk):
    """Holds no thread while it waits: the decision's NOTIFY wakes it (hitlplatform/wakeups.py).

    Three hundred agents waiting on one proposal cost three hundred small reads to start and one
    read of the proposal when it is decided: they share it."""
    waits = hub()
    # Subscribed before the state is read: a decision committed in between still wakes this wait.
    with waits.subscription(proposal_id=pk) as woken:
        principal, state = await database(_caller_and_state, request, pk)
        timeout = validated(ProposalWaitApi.InputSerializer, request.GET)["timeout"]
        if isinstance(state, NotFound):
            raise state
        with waits.slot(caller=principal_key(principal)):
            return await _wait_until_final(waits, woken, pk, state=state, timeout=timeout)


async def _wait_until_final(waits, woken, pk, *, state: bool, timeout: float):
    """The proposal's document once it is final, or as it is when `timeout` runs out."""
    document, final = None, state
    deadline = time.monotonic() + min(timeout, settings.PROPOSAL_WAIT_MAX_SECONDS)
    while not final and not waits.closing and (left := deadline - time.monotonic()) > 0:
        if await waits.sleep(woken, left):
            # Everyone waiting on this proposal reads it once, together.
            document, final = await waits.read(("proposal", pk), _proposal_document, pk)
    if not (final and document):
        document, final = await waits.read(("proposal", pk), _proposal_document, pk)
    return json_response(document)


schema_view(proposal_wait_api, ProposalWaitApi)


def _caller_and_state(request, pk):
    """(the caller, whether the proposal is final or NotFound): one trip to the database thread."""
    principal = authenticated(request)
    status = proposals_visible_to(principal).filter(pk=pk).values_list("status", flat=True).first()
    return principal, NotFound(_("No such proposal.")) if status is None else status in FINAL_STATUSES


def _proposal_document(pk) -> tuple[bytes, bool]:
    proposal = proposals_with_decisions(Proposal.objects.select_related(*PROPOSAL_RELATIONS)).get(pk=pk)
    return render(proposal_representation(proposal)), proposal.is_final


class ProposalCancelApi(APIView):
    permission_classes = [IsAgent]

    class InputSerializer(serializers.Serializer):
        reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(request=InputSerializer, responses=ProposalOutputSerializer, summary="Cancel a pending proposal")
    def post(self, request, pk):
        proposal_get_for(principal=request.user, proposal_id=pk)  # another agent's proposal is a 404
        return _acted_on(
            request, pk, self.InputSerializer, partial(proposal_cancel, proposal_id=pk, agent=request.user)
        )


class ProposalExecutionApi(APIView):
    permission_classes = [IsAgent]

    class InputSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=ExecutionStatus.choices)
        detail = serializers.DictField(required=False, default=dict)

    @extend_schema(
        request=InputSerializer,
        responses=ProposalOutputSerializer,
        examples=[
            OpenApiExample("Done", value={"status": "succeeded", "detail": {"refund_id": "re_123"}}, request_only=True)
        ],
        summary="Report the execution of an approved action",
    )
    def post(self, request, pk):
        proposal_get_for(principal=request.user, proposal_id=pk)  # another agent's proposal is a 404
        report = partial(proposal_report_execution, proposal_id=pk, agent=request.user)
        return _acted_on(request, pk, self.InputSerializer, report)


class DecisionCreateApi(APIView):
    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        verdict = serializers.ChoiceField(choices=Verdict.choices)
        rationale = serializers.CharField(min_length=3, max_length=10_000)
        payload = serializers.JSONField(required=False)
        payload_version = serializers.CharField(required=False, max_length=64)
        instructions = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
        password = serializers.CharField(write_only=True, trim_whitespace=False)

        def validate(self, attrs):
            if attrs["verdict"] == Verdict.MODIFY and not isinstance(attrs.get("payload"), dict):
                raise serializers.ValidationError(
                    {"payload": _("A modification needs the changed payload as an object.")}
                )
            if attrs["verdict"] == Verdict.REQUEST_CHANGES and not attrs["instructions"].strip():
                raise serializers.ValidationError({"instructions": _("Say what the agent should change.")})
            return attrs

    @extend_schema(
        request=InputSerializer,
        responses={201: DecisionOutputSerializer},
        examples=[
            OpenApiExample(
                "Approve",
                request_only=True,
                value={"verdict": "approve", "rationale": "Photos confirm the damage.", "password": "********"},
            )
        ],
        summary="Decide a pending proposal with an e-signature (reviewers)",
    )
    def post(self, request, pk):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        decision = proposal_decide(
            proposal_id=pk,
            reviewer=request.user,
            verdict=fields["verdict"],
            rationale=fields["rationale"],
            payload=fields.get("payload"),
            payload_version_seen=fields.get("payload_version"),
            password=fields["password"],
            instructions=fields["instructions"],
        )
        return Response(DecisionOutputSerializer(decision).data, status=status.HTTP_201_CREATED)


class RevisionCreateApi(APIView):
    permission_classes = [IsAgent]

    @extend_schema(
        request=ProposalInputSerializer,
        responses={201: ProposalOutputSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        summary="Submit the revision of a proposal whose changes were requested (agents)",
    )
    def post(self, request, pk):
        return _submission_response(request, partial(proposal_revise, proposal_id=pk, agent=request.user))


class ClaimOutputSerializer(serializers.Serializer):
    claimed_by = serializers.CharField(allow_null=True)
    claim_expires_at = serializers.DateTimeField(allow_null=True)


class ClaimApi(APIView):
    # Claiming needs a deciding role (the service checks); an admin may release anyone's claim.
    permission_classes = [IsUser]

    class ReleaseSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    @extend_schema(request=None, responses=ClaimOutputSerializer, summary="Claim a pending proposal (reviewers)")
    def post(self, request, pk):
        return Response(_claim_of(proposal_claim(proposal_id=pk, reviewer=request.user)))

    @extend_schema(
        request=ReleaseSerializer,
        responses={200: ClaimOutputSerializer},  # the claim as it stands, not a bare 204
        summary="Release a claim (claimant, senior reviewer)",
    )
    def delete(self, request, pk):
        data = self.ReleaseSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        return Response(_claim_of(proposal_claim_release(proposal_id=pk, user=request.user, **data.validated_data)))


class ReassignApi(APIView):
    permission_classes = [IsUser]  # senior reviewers and admins: the service checks the role

    class InputSerializer(serializers.Serializer):
        queue = serializers.SlugField(max_length=64)
        note = serializers.CharField(min_length=3, max_length=2000)

    @extend_schema(
        request=InputSerializer,
        responses=ProposalOutputSerializer,
        summary="Move a pending proposal to another queue (senior reviewers, admins)",
    )
    def post(self, request, pk):
        return _acted_on(
            request, pk, self.InputSerializer, partial(proposal_reassign, proposal_id=pk, actor=request.user)
        )


def _claim_of(proposal) -> dict:
    holder = proposal.claim_holder_id()
    return {
        "claimed_by": proposal.claimed_by.get_username() if holder is not None else None,
        "claim_expires_at": proposal.claim_expires_at if holder is not None else None,
    }


class PostActionReviewApi(APIView):
    permission_classes = [IsReviewer]

    class InputSerializer(serializers.Serializer):
        verdict = serializers.ChoiceField(choices=PostActionReview.Verdict.choices)
        rationale = serializers.CharField(min_length=3, max_length=10_000)
        correction = serializers.DictField(required=False)
        password = serializers.CharField(write_only=True, trim_whitespace=False)

    @extend_schema(
        request=InputSerializer, responses=ProposalOutputSerializer, summary="Post-action review of a sampled execution"
    )
    def post(self, request, pk):
        review = partial(proposal_post_review, proposal_id=pk, reviewer=request.user)
        return _acted_on(request, pk, self.InputSerializer, review)


def _acted_on(request, pk, input_serializer, act) -> Response:
    """Validate the body, `act(**body)`, and answer the proposal as the caller now sees it."""
    data = input_serializer(data=request.data)
    data.is_valid(raise_exception=True)
    act(**data.validated_data)
    return Response(proposal_representation(proposal_get_for(principal=request.user, proposal_id=pk)))


def _submission_response(request, submit) -> Response:
    """201 with the new proposal (a submission or a revision); a replayed Idempotency-Key says so."""
    fields = proposal_input_validate(request.data)
    idempotency_key = idempotency_key_of(request)
    submission = submit(
        fields=fields,
        idempotency_key=idempotency_key,
        request_hash=_request_hash(request.data) if idempotency_key else "",
    )
    response = Response(proposal_representation(submission.proposal), status=status.HTTP_201_CREATED)
    if not submission.created:
        response["Idempotent-Replayed"] = "true"
    return response


def idempotency_key_of(request) -> str:
    """The Idempotency-Key header; a longer key than is stored is refused, never cut (cut keys collide)."""
    key = request.headers.get("Idempotency-Key", "")
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise InvalidInput(
            fields={
                "Idempotency-Key": [
                    _("At most %(count)s characters.") % {"count": IDEMPOTENCY_KEY_MAX_LENGTH},
                ]
            }
        )
    return key


def _request_hash(body) -> str:
    try:
        return hashlib.sha256(rfc8785.dumps(body)).hexdigest()
    except rfc8785.CanonicalizationError as error:  # the parser's limits make this a safety net
        raise InvalidInput(_("The body is not canonicalizable JSON: %(error)s") % {"error": error})
