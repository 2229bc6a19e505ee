"""Redirect (`request_changes`) and the agent's revision (DESIGN.md, Revisions)."""

import json

import pytest

from apps.agents.services import agent_create
from apps.audit.models import AuditEvent
from apps.notifications.models import OutboxMessage
from apps.proposals.events import ProposalEvents
from apps.proposals.models import Decision, Proposal, Status
from apps.proposals.services import proposal_decide, proposal_revise
from hitlplatform.errors import InvalidInput
from tests.conftest import proposal_body
from tests.factories import decide

pytestmark = pytest.mark.django_db


def request_changes(client, proposal, password, instructions="Use the invoice amount, 450.00."):
    return client.post(
        f"/api/v1/proposals/{proposal.pk}/decisions/",
        {
            "verdict": "request_changes",
            "rationale": "The amount does not match the invoice.",
            "instructions": instructions,
            "password": password,
        },
        format="json",
    )


def revise(client, proposal, **overrides):
    return client.post(f"/api/v1/proposals/{proposal.pk}/revisions/", proposal_body(**overrides), format="json")


def redirected(proposal, reviewer, password, instructions="Fix the amount."):
    decide(proposal, reviewer, "request_changes", password=password, rationale="Not quite.", instructions=instructions)
    proposal.refresh_from_db()
    return proposal


def test_request_changes_is_a_signed_final_decision_with_instructions(client_for, submit, reviewer, password):
    # given a proposal needing two approvals
    proposal = submit(blast_radius=5)

    # when
    response = request_changes(client_for(reviewer), proposal, password)

    # then
    assert response.status_code == 201, response.content
    decision = response.json()
    assert decision["verdict"] == "request_changes"
    assert decision["instructions"] == "Use the invoice amount, 450.00."
    assert decision["signature"]["meaning"] == "reviewed, changes requested"
    proposal.refresh_from_db()
    assert proposal.status == Status.CHANGES_REQUESTED and proposal.is_final
    assert proposal.instructions == "Use the invoice amount, 450.00." and proposal.final_payload is None
    actions = list(AuditEvent.objects.filter(object_id=str(proposal.pk)).values_list("action", flat=True))
    assert actions[-2:] == [ProposalEvents.DECISION_RECORDED, ProposalEvents.CHANGES_REQUESTED]


def test_the_agent_reads_the_instructions_and_gets_the_webhook_through_the_outbox(
    client_for, agent_client, submit, reviewer, password
):
    proposal = submit(blast_radius=5, callback_url="https://example.invalid/hook")

    request_changes(client_for(reviewer), proposal, password)

    body = agent_client.get(f"/api/v1/proposals/{proposal.pk}/").json()
    assert body["status"] == "changes_requested" and body["instructions"] == "Use the invoice amount, 450.00."
    assert body["revision"] == 0 and body["revision_of"] is None and body["revised_by"] is None
    webhook = OutboxMessage.objects.get(proposal=proposal, event_type="proposal.changes_requested", channel="webhook")
    document = json.loads(webhook.body)
    assert document["type"] == "proposal.changes_requested"
    assert document["proposal"]["instructions"] == "Use the invoice amount, 450.00."
    assert not OutboxMessage.objects.filter(proposal=proposal, event_type="proposal.decided").exists()


@pytest.mark.parametrize("instructions", [None, "", "   "])
def test_request_changes_without_instructions_is_400_and_writes_nothing(
    client_for, submit, reviewer, password, instructions
):
    proposal = submit(blast_radius=5)
    events = AuditEvent.objects.count()
    body = {"verdict": "request_changes", "rationale": "Not quite.", "password": password}
    if instructions is not None:
        body["instructions"] = instructions

    response = client_for(reviewer).post(f"/api/v1/proposals/{proposal.pk}/decisions/", body, format="json")

    assert response.status_code == 400
    assert "instructions" in response.json()["error"]["fields"]
    assert Decision.objects.count() == 0 and AuditEvent.objects.count() == events
    proposal.refresh_from_db()
    assert proposal.status == Status.PENDING


def test_the_service_refuses_empty_instructions_too(submit, reviewer, password):
    proposal = submit(blast_radius=5)
    with pytest.raises(InvalidInput) as refused:
        proposal_decide(
            proposal_id=proposal.pk,
            reviewer=reviewer,
            verdict="request_changes",
            rationale="x" * 5,
            instructions=" ",
            password=password,
        )
    assert refused.value.fields == {"instructions": ["Say what the agent should change."]}
    assert Decision.objects.count() == 0


def test_a_revision_is_a_new_proposal_routed_afresh_without_the_approvals(
    client_for, agent_client, submit, reviewer, second_reviewer, password
):
    # given: one approval of two, then the second reviewer sends it back
    proposal = submit(blast_radius=5)
    client_for(reviewer).post(
        f"/api/v1/proposals/{proposal.pk}/decisions/",
        {"verdict": "approve", "rationale": "Looks right.", "password": password},
        format="json",
    )
    request_changes(client_for(second_reviewer), proposal, password)

    # when
    response = revise(agent_client, proposal, blast_radius=5, payload={"order": "A-1", "amount": "450.00"})

    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["revision_of"] == proposal.pk and body["revision"] == 1
    assert body["status"] == "pending" and body["policy_rule"] == "refunds" and body["decisions"] == []
    assert body["payload"] == {"order": "A-1", "amount": "450.00"}
    proposal.refresh_from_db()
    assert proposal.revised_by_id == body["id"] and proposal.status == Status.CHANGES_REQUESTED
    revision = Proposal.objects.get(pk=body["id"])
    assert revision.revision_root_id == proposal.pk
    submitted = AuditEvent.objects.get(action=ProposalEvents.SUBMITTED, object_id=str(revision.pk))
    assert AuditEvent.objects.filter(action=ProposalEvents.REVISED, object_id=str(proposal.pk)).exists()
    assert submitted.seq < AuditEvent.objects.get(action=ProposalEvents.REVISED).seq


def test_a_revision_may_be_routed_elsewhere_by_the_active_policy(agent_client, submit, reviewer, password):
    # the first one needed approval; the revision is small enough to run autonomously
    proposal = redirected(submit(blast_radius=5), reviewer, password)

    response = revise(agent_client, proposal, blast_radius=1, confidence=0.95)

    assert response.status_code == 201
    assert response.json()["status"] == "approved" and response.json()["approved_by"] == "policy"


def test_revising_a_proposal_that_is_not_changes_requested_is_409_and_writes_nothing(agent_client, submit, world_state):
    proposal = submit(blast_radius=5)
    before = world_state()

    response = revise(agent_client, proposal)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_changes_requested"
    assert world_state() == before


def test_revising_another_agents_proposal_is_404_and_writes_nothing(
    submit, reviewer, password, agent_owner, world_state
):
    proposal = redirected(submit(blast_radius=5), reviewer, password)
    _other, key = agent_create(name="other-bot", owner=agent_owner)
    from rest_framework.test import APIClient

    other_client = APIClient()
    other_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    before = world_state()

    response = revise(other_client, proposal)

    assert response.status_code == 404
    assert world_state() == before


def test_a_reviewer_may_not_submit_revisions(client_for, submit, reviewer, password, world_state):
    proposal = redirected(submit(blast_radius=5), reviewer, password)
    before = world_state()
    assert revise(client_for(reviewer), proposal).status_code == 403
    assert world_state() == before


def test_bad_revision_body_is_400_and_writes_nothing(agent_client, submit, reviewer, password, world_state):
    proposal = redirected(submit(blast_radius=5), reviewer, password)
    before = world_state()

    response = revise(agent_client, proposal, confidence=3)

    assert response.status_code == 400 and "confidence" in response.json()["error"]["fields"]
    assert world_state() == before
    proposal.refresh_from_db()
    assert proposal.revised_by_id is None


def test_a_proposal_is_revised_once(agent_client, submit, reviewer, password, world_state):
    proposal = redirected(submit(blast_radius=5), reviewer, password)
    assert revise(agent_client, proposal, blast_radius=5).status_code == 201
    before = world_state()

    response = revise(agent_client, proposal, blast_radius=5)

    assert response.status_code == 409 and response.json()["error"]["code"] == "already_revised"
    assert world_state() == before


def test_past_the_revision_limit_is_409_and_writes_nothing(
    settings, agent, agent_client, submit, reviewer, password, world_state
):
    settings.PROPOSAL_MAX_REVISIONS = 2
    proposal = redirected(submit(blast_radius=5), reviewer, password)
    for _round in range(2):
        proposal = proposal_revise(proposal_id=proposal.pk, agent=agent, fields=proposal_body(blast_radius=5)).proposal
        proposal = redirected(proposal, reviewer, password)
    assert proposal.revision == 2
    before = world_state()

    response = revise(agent_client, proposal, blast_radius=5)

    assert response.status_code == 409 and response.json()["error"]["code"] == "too_many_revisions"
    assert world_state() == before


def test_a_revision_retried_with_its_idempotency_key_is_created_once(agent_client, submit, reviewer, password):
    proposal = redirected(submit(blast_radius=5), reviewer, password)
    body = proposal_body(blast_radius=5)
    url = f"/api/v1/proposals/{proposal.pk}/revisions/"

    first = agent_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="rev-1")
    again = agent_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="rev-1")

    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and first.json()["id"] == again.json()["id"]
    assert Proposal.objects.filter(revision_of=proposal).count() == 1


def test_a_revision_with_an_over_long_idempotency_key_is_400_and_writes_nothing(
    agent_client, submit, reviewer, password, world_state
):
    # As on submission: a key longer than is stored is refused, never cut (cut keys would collide).
    proposal = redirected(submit(blast_radius=5), reviewer, password)
    before = world_state()

    response = agent_client.post(
        f"/api/v1/proposals/{proposal.pk}/revisions/",
        proposal_body(blast_radius=5),
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 201,
    )

    assert response.status_code == 400 and "Idempotency-Key" in response.json()["error"]["fields"]
    assert world_state() == before


def test_wait_returns_at_once_with_the_instructions(agent_client, submit, reviewer, password):
    proposal = redirected(submit(blast_radius=5), reviewer, password, instructions="Split it in two payouts.")

    body = agent_client.get(f"/api/v1/proposals/{proposal.pk}/wait/", {"timeout": 5}).json()

    assert body["status"] == "changes_requested" and body["instructions"] == "Split it in two payouts."
