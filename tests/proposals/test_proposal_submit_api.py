"""POST /api/v1/proposals/: routing, validation, idempotency."""

import pytest

from apps.audit.models import AuditEvent
from apps.proposals.models import Proposal
from tests.conftest import proposal_body

pytestmark = pytest.mark.django_db

URL = "/api/v1/proposals/"


def test_a_confident_small_refund_runs_autonomously(agent_client, policy):
    response = agent_client.post(URL, proposal_body(confidence=0.95), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "approved" and body["mode"] == "autonomous"
    assert body["approved_by"] == "policy"
    assert body["final_payload"] == body["payload"]
    assert body["policy_rule"] == "small-refunds" and body["policy_version"] == policy.number
    assert body["routing"]["rule"] == "small-refunds"
    event = AuditEvent.objects.get(action="proposal.submitted")
    assert (event.actor_type, event.object_id) == ("agent", str(body["id"]))


def test_a_large_refund_waits_for_two_approvals_in_the_finance_queue(agent_client, policy):
    response = agent_client.post(URL, proposal_body(blast_radius=3), format="json")

    body = response.json()
    assert body["status"] == "pending" and body["mode"] == "pre_approval"
    assert body["approvals_required"] == 2 and body["queue"] == "finance"
    assert body["sla_due_at"] is not None and body["decisions"] == [] and body["decided_at"] is None
    for field in ("id", "final_payload", "modified", "escalation_level", "created_at", "execution", "review"):
        assert field in body


def test_an_action_type_no_rule_covers_needs_approval(agent_client, policy):
    body = agent_client.post(URL, proposal_body(action_type="email.send", confidence=1.0), format="json").json()
    assert body["mode"] == "pre_approval" and body["policy_rule"] is None and body["queue"] == "default"


INVALID_BODIES = [
    ("confidence", {"confidence": 1.5}),
    ("confidence", {"confidence": -0.1}),
    ("confidence", {"confidence": "high"}),
    ("confidence", {"confidence": None}),
    ("confidence", {"confidence": "0.9"}),  # a number, not a string that reads as one
    ("confidence", {"confidence": True}),
    ("payload", {"payload": [1, 2]}),
    ("payload", {"payload": "text"}),
    ("action_type", {"action_type": ""}),
    ("blast_radius", {"blast_radius": -1}),
    ("compliance_exposure", {"compliance_exposure": "extreme"}),
    ("callback_url", {"callback_url": "not a url"}),
    ("irreversible", {"irreversible": "maybe"}),
    ("evidence", {"evidence": "a string"}),
]


@pytest.mark.parametrize("field, change", INVALID_BODIES)
def test_an_invalid_field_gets_400_naming_it_and_writes_nothing(agent_client, policy, world_state, field, change):
    before = world_state()

    response = agent_client.post(URL, proposal_body(**change), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and field in error["fields"]
    assert field in error["message"]
    assert world_state() == before


def test_a_missing_required_field_is_named(agent_client, policy, world_state):
    body = proposal_body()
    del body["confidence"], body["action_type"]
    before = world_state()
    response = agent_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert {"confidence", "action_type"} <= set(response.json()["error"]["fields"])
    assert world_state() == before


def test_an_oversize_payload_is_refused(agent_client, policy, world_state, settings):
    settings.PROPOSAL_MAX_PAYLOAD_BYTES = 1024
    before = world_state()
    response = agent_client.post(URL, proposal_body(payload={"blob": "x" * 2000}), format="json")
    assert response.status_code == 400
    assert "payload" in response.json()["error"]["fields"]
    assert world_state() == before


def test_a_body_over_the_request_limit_gets_413(agent_client, policy, world_state, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    before = world_state()
    response = agent_client.post(URL, proposal_body(payload={"blob": "x" * 5000}), format="json")
    assert response.status_code == 413
    assert world_state() == before


def test_a_non_json_body_gets_400(agent_client, policy, world_state):
    before = world_state()
    response = agent_client.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
    assert world_state() == before


@pytest.mark.parametrize("body", ["null", "[]", '"text"'])
def test_a_body_that_is_not_an_object_gets_400(agent_client, policy, world_state, body):
    before = world_state()
    response = agent_client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()["error"]["fields"]
    assert world_state() == before


def test_missing_auth_gets_401_and_writes_nothing(client, policy, world_state):
    before = world_state()
    response = client.post(URL, proposal_body(), content_type="application/json")
    assert response.status_code == 401
    assert world_state() == before


def test_a_user_may_not_submit(client_for, reviewer, policy, world_state):
    before = world_state()
    assert client_for(reviewer).post(URL, proposal_body(), format="json").status_code == 403
    assert world_state() == before


def test_a_retry_with_the_same_idempotency_key_returns_the_first_proposal(agent_client, policy):
    first = agent_client.post(URL, proposal_body(), format="json", HTTP_IDEMPOTENCY_KEY="order-A-1")
    events = AuditEvent.objects.count()
    retry = agent_client.post(URL, proposal_body(), format="json", HTTP_IDEMPOTENCY_KEY="order-A-1")

    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry["Idempotent-Replayed"] == "true"
    assert Proposal.objects.count() == 1
    assert AuditEvent.objects.count() == events


def test_the_same_idempotency_key_with_another_body_is_409(agent_client, policy, world_state):
    agent_client.post(URL, proposal_body(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    before = world_state()
    response = agent_client.post(URL, proposal_body(summary="other"), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert world_state() == before


def test_idempotency_keys_are_scoped_to_the_agent(agent_client, policy):
    from rest_framework.test import APIClient

    from apps.agents.services import agent_create

    _other, other_key = agent_create(name="other-bot")
    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_key}")
    first = agent_client.post(URL, proposal_body(), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    second = other_client.post(URL, proposal_body(), format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]
