import pytest

from apps.audit.models import AuditEvent
from apps.proposals.models import Proposal
from tests.conftest import proposal_body

pytestmark = pytest.mark.django_db


def test_simulation_explains_the_route_and_stores_nothing(agent_client, policy):
    events_before = AuditEvent.objects.count()
    response = agent_client.post("/api/v1/policies/simulate/", proposal_body(blast_radius=4), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "pre_approval"
    assert body["rule"] == "refunds"
    assert body["queue"] == "finance"
    assert body["approvals_required"] == 2
    assert body["policy_version"] == policy.number
    assert body["routing"]["evaluated"][0]["rule"] == "small-refunds"
    assert Proposal.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


def test_admin_simulates_for_a_named_agent(client_for, admin, policy):
    response = client_for(admin).post(
        "/api/v1/policies/simulate/", proposal_body(confidence=0.99, agent="refund-bot"), format="json"
    )
    assert response.status_code == 200
    assert response.json()["mode"] == "autonomous"


def test_a_reviewer_may_not_simulate(client_for, reviewer, policy):
    response = client_for(reviewer).post("/api/v1/policies/simulate/", proposal_body(), format="json")
    assert response.status_code == 403


def test_simulation_validates_the_body(agent_client, policy):
    response = agent_client.post("/api/v1/policies/simulate/", proposal_body(confidence=3), format="json")
    assert response.status_code == 400
    assert "confidence" in response.json()["error"]["fields"]
