"""The routing simulation: what the active policy would do with a proposal body, stored nowhere.

It lives with the proposals because it validates a proposal body; the policy only routes it."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.agents.models import Agent
from apps.policies.selectors import policy_simulate
from hitlplatform.api.permissions import IsAgentOrAdmin
from hitlplatform.errors import Forbidden

from .serializers import ProposalInputSerializer


class PolicySimulateApi(APIView):
    """What a proposal body would be routed to, and why. Stores nothing."""

    permission_classes = [IsAgentOrAdmin]

    class InputSerializer(ProposalInputSerializer):
        agent = serializers.CharField(required=False, help_text="Agent name (admins); an agent simulates as itself.")

    @extend_schema(
        request=InputSerializer,
        responses=inline_serializer(
            "Simulation",
            {
                "mode": serializers.CharField(),
                "policy_version": serializers.IntegerField(allow_null=True),
                "rule": serializers.CharField(allow_null=True),
                "approvals_required": serializers.IntegerField(),
                "queue": serializers.CharField(allow_null=True),
                "routing": serializers.JSONField(),
            },
        ),
        examples=[
            OpenApiExample(
                "Refund",
                request_only=True,
                value={
                    "action_type": "payments.refund",
                    "payload": {"amount": "10.00"},
                    "confidence": 0.95,
                    "blast_radius": 1,
                },
            )
        ],
        summary="Simulate the routing of a proposal",
    )
    def post(self, request):
        if isinstance(request.user, Agent) and request.user.is_suspended:
            # Suspension stops what would start new work (README, "What suspension stops").
            raise Forbidden(_("The agent is suspended; it may not simulate proposals."), code="agent_suspended")
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agent_name = request.user.name if isinstance(request.user, Agent) else data.validated_data.get("agent", "*")
        return Response(policy_simulate(agent_name=agent_name, fields=data.validated_data))
