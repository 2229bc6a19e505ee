import pytest
from django.core.management import call_command

from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.proposals.models import Proposal

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_proposals_in_each_state_and_is_idempotent():
    call_command("seed_demo")
    statuses = set(Proposal.objects.values_list("status", flat=True))
    assert {"pending", "approved", "rejected", "cancelled"} <= statuses
    assert Proposal.objects.filter(execution_status="succeeded").exists()
    counts = Proposal.objects.count(), Agent.objects.count(), AuditEvent.objects.count()

    call_command("seed_demo")

    assert (Proposal.objects.count(), Agent.objects.count(), AuditEvent.objects.count()) == counts
