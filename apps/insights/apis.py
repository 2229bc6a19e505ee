"""The insights API (compliance officers and admins; QA reviews by senior reviewers)."""

import json

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import Role
from apps.accounts.selectors import user_has_role
from apps.audit.services import audit_record
from hitlplatform.api.permissions import IsComplianceOfficer, IsUser
from hitlplatform.errors import InvalidInput

from .events import InsightEvents
from .models import QaAssignment, Recommendation
from .selectors import agent_for_insights, corrections_for, figures_for, qa, reviewer_figures_for, window_for
from .serializers import QaAssignmentOutputSerializer, QaItemSerializer, RecommendationOutputSerializer
from .services import (
    qa_assign,
    qa_review_record,
    recommendation_accept,
    recommendation_activate,
    recommendation_dismiss,
)

WINDOW_PARAMETER = OpenApiParameter("window", OpenApiTypes.INT, description="Days, 1 to 365 (default 30).")


class IsSeniorReviewer(IsUser):
    def has_permission(self, request, view):
        return super().has_permission(request, view) and user_has_role(request.user, Role.SENIOR_REVIEWER)


class FiguresApi(APIView):
    """Figures per agent x action type x rule over a window, and per reviewer."""

    permission_classes = [IsComplianceOfficer]

    class FilterSerializer(serializers.Serializer):
        window = serializers.CharField(required=False, default="30")
        agent = serializers.CharField(required=False)
        action_type = serializers.CharField(required=False)

    @extend_schema(
        parameters=[
            WINDOW_PARAMETER,
            OpenApiParameter("agent", OpenApiTypes.STR, description="Agent name or id; unknown is 400."),
            OpenApiParameter("action_type", OpenApiTypes.STR),
        ],
        responses=inline_serializer(
            "Figures",
            {
                "window_days": serializers.IntegerField(),
                "since": serializers.DateTimeField(),
                "until": serializers.DateTimeField(),
                "groups": serializers.ListField(child=serializers.JSONField()),
                "reviewers": serializers.ListField(child=serializers.JSONField()),
            },
        ),
        summary="Approval, calibration, SLA and rubber-stamp figures",
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        window = window_for(days=params.validated_data["window"])
        reference = params.validated_data.get("agent")
        agent = agent_for_insights(reference=reference) if reference else None
        return Response(
            {
                "window_days": window.days,
                "since": window.start,
                "until": window.end,
                "groups": figures_for(window=window, agent=agent, action_type=params.validated_data.get("action_type")),
                "reviewers": reviewer_figures_for(window=window) if agent is None else [],
            }
        )


class RecommendationListApi(ListAPIView):
    permission_classes = [IsComplianceOfficer]
    serializer_class = RecommendationOutputSerializer

    @extend_schema(
        parameters=[OpenApiParameter("state", OpenApiTypes.STR, enum=Recommendation.State.values)],
        summary="Recommendations, newest first",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        state = self.request.query_params.get("state")
        if state and state not in Recommendation.State.values:
            raise InvalidInput(
                fields={"state": [_("One of %(states)s.") % {"states": ", ".join(Recommendation.State.values)}]}
            )
        return qa.recommendations_list(state=state)


class _RecommendationActionApi(APIView):
    permission_classes = [IsComplianceOfficer]

    class InputSerializer(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def act(self, request, pk, **values):
        raise NotImplementedError

    @extend_schema(request=InputSerializer, responses=RecommendationOutputSerializer)
    def post(self, request, pk):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.act(request, pk, **data.validated_data)
        return Response(RecommendationOutputSerializer(qa.recommendation_get(recommendation_id=pk)).data)


class RecommendationAcceptApi(_RecommendationActionApi):
    """An admin accepts: a draft policy version is created; a different admin must activate it."""

    def act(self, request, pk, note):
        recommendation_accept(recommendation_id=pk, actor=request.user, note=note)


class RecommendationActivateApi(_RecommendationActionApi):
    """A second admin activates the draft an accepted recommendation created."""

    def act(self, request, pk, note):
        recommendation_activate(recommendation_id=pk, actor=request.user)


class RecommendationDismissApi(_RecommendationActionApi):
    def act(self, request, pk, note):
        recommendation_dismiss(recommendation_id=pk, actor=request.user, note=note)


class QaAssignmentListCreateApi(ListAPIView):
    """Every QA assignment with both verdicts (compliance); POST sends a decision to QA."""

    permission_classes = [IsComplianceOfficer]
    serializer_class = QaAssignmentOutputSerializer

    class InputSerializer(serializers.Serializer):
        decision = serializers.IntegerField()
        assigned_to = serializers.IntegerField(required=False, help_text="User id of a senior reviewer.")

    def get_queryset(self):
        return qa.qa_assignments_list()

    @extend_schema(
        request=InputSerializer, responses={201: QaAssignmentOutputSerializer}, summary="Send a decision to QA"
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assigned_to = None
        if "assigned_to" in data.validated_data:
            assigned_to = get_user_model().objects.filter(pk=data.validated_data["assigned_to"]).first()
            if assigned_to is None:
                raise InvalidInput(fields={"assigned_to": [_("No such user.")]})
        assignment = qa_assign(decision_id=data.validated_data["decision"], actor=request.user, assigned_to=assigned_to)
        return Response(QaAssignmentOutputSerializer(assignment).data, status=status.HTTP_201_CREATED)


class QaOpenListApi(ListAPIView):
    """The blind items waiting for the calling senior reviewer."""

    permission_classes = [IsSeniorReviewer]
    serializer_class = QaItemSerializer
    queryset = QaAssignment.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return qa.qa_assignments_open_for(self.request.user).select_related("decision").order_by("created_at", "id")


class QaReviewApi(APIView):
    permission_classes = [IsSeniorReviewer]

    class InputSerializer(serializers.Serializer):
        verdict = serializers.ChoiceField(choices=QaAssignment.Verdict.choices)
        rationale = serializers.CharField(min_length=3)
        password = serializers.CharField(write_only=True)

    @extend_schema(responses=QaItemSerializer, summary="A blind QA item")
    def get(self, request, pk):
        return Response(QaItemSerializer(qa.qa_assignment_get_for(assignment_id=pk, user=request.user)).data)

    @extend_schema(request=InputSerializer, responses=QaAssignmentOutputSerializer, summary="Record the second verdict")
    def post(self, request, pk):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        assignment = qa_review_record(assignment_id=pk, reviewer=request.user, **data.validated_data)
        return Response(QaAssignmentOutputSerializer(assignment).data)


class QaAgreementApi(APIView):
    permission_classes = [IsComplianceOfficer]

    @extend_schema(parameters=[WINDOW_PARAMETER], responses=OpenApiTypes.OBJECT, summary="QA agreement rates")
    def get(self, request):
        return Response(qa.qa_agreement(window=window_for(days=request.query_params.get("window", 30))))


class CorrectionsExportApi(APIView):
    """JSON Lines of modified, rejected and flagged items: labelled data for evaluation and fine-tuning."""

    permission_classes = [IsComplianceOfficer]

    class FilterSerializer(serializers.Serializer):
        redact = serializers.CharField(required=False, allow_blank=True, default="")
        agent = serializers.CharField(required=False)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

        def validate(self, attrs):
            if attrs.get("since") and attrs.get("until") and attrs["until"] <= attrs["since"]:
                raise serializers.ValidationError({"until": _("The end must be after the start.")})
            return attrs

    @extend_schema(
        parameters=[
            OpenApiParameter("redact", OpenApiTypes.STR, description="Comma-separated payload keys to redact."),
            OpenApiParameter("agent", OpenApiTypes.STR),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
        ],
        responses={(200, "application/x-ndjson"): OpenApiTypes.STR},
        summary="Export corrections as JSON Lines",
    )
    def get(self, request):
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        redact = frozenset(key.strip() for key in filters["redact"].split(",") if key.strip())
        agent = agent_for_insights(reference=filters["agent"]) if filters.get("agent") else None
        audit_record(
            action=InsightEvents.CORRECTIONS_EXPORTED,
            actor=request.user,
            data={
                "redact": sorted(redact),
                "agent": agent.name if agent else None,
                "since": filters.get("since"),
                "until": filters.get("until"),
            },
        )
        items = corrections_for(redact=redact, agent=agent, since=filters.get("since"), until=filters.get("until"))
        response = StreamingHttpResponse(
            (json.dumps(item, cls=DjangoJSONEncoder, ensure_ascii=False) + "\n" for item in items),
            content_type="application/x-ndjson",
        )
        response["Content-Disposition"] = 'attachment; filename="corrections.jsonl"'
        return response
