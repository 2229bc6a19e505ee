"""Claims and reassignment (DESIGN.md, Claims): who is on a pending proposal, and moving it."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.proposals.events import ProposalEvents
from apps.proposals.models import Proposal, Status
from apps.proposals.services import proposal_claim, proposal_decide
from tests.factories import QueueFactory

pytestmark = pytest.mark.django_db


def data_of(event) -> dict:
    return json.loads(event.data_record.canonical_data)


def claim_url(proposal):
    return f"/api/v1/proposals/{proposal.pk}/claim/"


def decide(client, proposal, password, verdict="approve"):
    return client.post(
        f"/api/v1/proposals/{proposal.pk}/decisions/",
        {"verdict": verdict, "rationale": "Checked the evidence.", "password": password},
        format="json",
    )


def test_a_reviewer_claims_a_pending_proposal(client_for, submit, reviewer, agent_client, settings):
    settings.REVIEW_CLAIM_SECONDS = 600
    proposal = submit(blast_radius=5)
    before = timezone.now()

    response = client_for(reviewer).post(claim_url(proposal))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["claimed_by"] == "reviewer"
    expires = Proposal.objects.get(pk=proposal.pk).claim_expires_at
    assert before + timedelta(seconds=600) <= expires <= timezone.now() + timedelta(seconds=600)
    assert agent_client.get(f"/api/v1/proposals/{proposal.pk}/").json()["claim"]["claimed_by"] == "reviewer"
    event = AuditEvent.objects.filter(action=ProposalEvents.CLAIMED).get()
    assert event.object_id == str(proposal.pk)


def test_a_claim_held_by_someone_else_is_409_and_writes_nothing(
    client_for, submit, reviewer, second_reviewer, world_state
):
    proposal = submit(blast_radius=5)
    client_for(reviewer).post(claim_url(proposal))
    before = world_state()

    response = client_for(second_reviewer).post(claim_url(proposal))

    assert response.status_code == 409 and response.json()["error"]["code"] == "claimed"
    assert world_state() == before
    assert Proposal.objects.get(pk=proposal.pk).claimed_by_id == reviewer.pk


def test_another_reviewers_decision_during_a_claim_is_409_claimed(
    client_for, submit, reviewer, second_reviewer, password, world_state
):
    proposal = submit(action_type="crm.update")
    client_for(reviewer).post(claim_url(proposal))
    before = world_state()

    response = decide(client_for(second_reviewer), proposal, password)

    assert response.status_code == 409 and response.json()["error"]["code"] == "claimed"
    assert world_state() == before


def test_four_eyes_the_claimants_decision_ends_the_claim_and_the_second_reviewer_claims_next(
    client_for, submit, reviewer, second_reviewer, password
):
    proposal = submit(blast_radius=5)  # two approvals required
    first, second = client_for(reviewer), client_for(second_reviewer)
    first.post(claim_url(proposal))

    assert decide(first, proposal, password).status_code == 201
    assert Proposal.objects.get(pk=proposal.pk).claimed_by_id is None
    # the first reviewer's approval is in: they cannot claim again and block the second
    assert first.post(claim_url(proposal)).json()["error"]["code"] == "already_approved"
    assert second.post(claim_url(proposal)).status_code == 200
    assert decide(second, proposal, password).status_code == 201

    proposal.refresh_from_db()
    assert proposal.status == Status.APPROVED and proposal.claimed_by_id is None
    released = AuditEvent.objects.filter(action=ProposalEvents.CLAIM_RELEASED).order_by("seq")
    assert [data_of(event)["reason"] for event in released] == ["decided", "decided"]


def test_an_expired_claim_is_no_claim(client_for, submit, reviewer, second_reviewer, password):
    proposal = submit(action_type="crm.update")
    client_for(reviewer).post(claim_url(proposal))
    Proposal.objects.filter(pk=proposal.pk).update(claim_expires_at=timezone.now() - timedelta(seconds=1))

    assert client_for(reviewer).get(f"/api/v1/proposals/{proposal.pk}/").json()["claim"] is None
    assert decide(client_for(second_reviewer), proposal, password).status_code == 201


def test_a_claim_on_a_final_proposal_is_409_and_writes_nothing(client_for, submit, reviewer, password, world_state):
    proposal = submit(action_type="crm.update")
    proposal_decide(proposal_id=proposal.pk, reviewer=reviewer, verdict="reject", rationale="No.", password=password)
    before = world_state()

    response = client_for(reviewer).post(claim_url(proposal))

    assert response.status_code == 409 and response.json()["error"]["code"] == "final"
    assert world_state() == before


def test_claim_scope_and_roles(
    client_for, agent_client, submit, outsider, agent_owner, compliance_officer, world_state
):
    proposal = submit(action_type="crm.update")
    before = world_state()
    assert client_for(outsider).post(claim_url(proposal)).status_code == 404
    assert client_for(agent_owner).post(claim_url(proposal)).status_code == 403
    assert client_for(compliance_officer).post(claim_url(proposal)).status_code == 403
    assert agent_client.post(claim_url(proposal)).status_code == 403
    assert world_state() == before


def test_the_claimant_releases_and_another_reviewer_may_not(client_for, submit, reviewer, second_reviewer):
    proposal = submit(action_type="crm.update")
    client_for(reviewer).post(claim_url(proposal))

    assert client_for(second_reviewer).delete(claim_url(proposal)).status_code == 403
    response = client_for(reviewer).delete(claim_url(proposal))

    assert response.status_code == 200 and response.json() == {"claimed_by": None, "claim_expires_at": None}
    assert Proposal.objects.get(pk=proposal.pk).claimed_by_id is None
    assert data_of(AuditEvent.objects.filter(action=ProposalEvents.CLAIM_RELEASED).get())["reason"] == "released"


def test_an_admin_releases_someones_claim_with_a_note(client_for, submit, reviewer, admin):
    proposal = submit(action_type="crm.update")
    client_for(reviewer).post(claim_url(proposal))

    response = client_for(admin).delete(claim_url(proposal), {"note": "Rita is off sick."}, format="json")

    assert response.status_code == 200
    event = AuditEvent.objects.filter(action=ProposalEvents.CLAIM_RELEASED).get()
    assert data_of(event)["note"] == "Rita is off sick." and event.actor_id == str(admin.pk)


def reassign(client, proposal, queue="finance", note="Belongs to finance."):
    return client.post(f"/api/v1/proposals/{proposal.pk}/reassign/", {"queue": queue, "note": note}, format="json")


def test_a_senior_reviewer_reassigns_a_pending_proposal_and_ends_the_claim(
    client_for, submit, reviewer, senior_reviewer
):
    proposal = submit(action_type="crm.update")  # in "support"
    client_for(reviewer).post(claim_url(proposal))
    senior = with_support_queue(senior_reviewer)

    response = reassign(client_for(senior), proposal)

    assert response.status_code == 200, response.content
    assert response.json()["queue"] == "finance" and response.json()["claim"] is None
    proposal.refresh_from_db()
    assert proposal.queue.slug == "finance" and proposal.claimed_by_id is None
    event = AuditEvent.objects.filter(action=ProposalEvents.REASSIGNED).get()
    assert data_of(event) == {"from_queue": "support", "to_queue": "finance", "note": "Belongs to finance."}
    assert data_of(AuditEvent.objects.filter(action=ProposalEvents.CLAIM_RELEASED).get())["reason"] == "reassigned"


def test_an_admin_reassigns(client_for, submit, reviewer, admin):
    proposal = submit(action_type="crm.update")
    assert reassign(client_for(admin), proposal).status_code == 200


@pytest.mark.parametrize(
    "body, field",
    [
        ({"queue": "no-such-queue", "note": "Move it."}, "queue"),
        ({"queue": "finance", "note": ""}, "note"),
        ({"queue": "finance"}, "note"),
        ({"note": "Move it."}, "queue"),
        ({"queue": "support", "note": "Same queue."}, "queue"),
    ],
)
def test_bad_reassignments_are_400_and_write_nothing(client_for, submit, reviewer, admin, world_state, body, field):
    proposal = submit(action_type="crm.update")
    before = world_state()

    response = client_for(admin).post(f"/api/v1/proposals/{proposal.pk}/reassign/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert world_state() == before


def test_reassigning_to_an_unstaffed_queue_is_refused(client_for, submit, reviewer, admin, world_state):
    proposal = submit(action_type="crm.update")
    QueueFactory(slug="empty")
    before = world_state()

    response = reassign(client_for(admin), proposal, queue="empty")

    assert response.status_code == 400 and "queue" in response.json()["error"]["fields"]
    assert world_state() == before


def test_reassign_by_a_plain_reviewer_is_403_and_writes_nothing(client_for, submit, reviewer, world_state):
    proposal = submit(action_type="crm.update")
    before = world_state()
    assert reassign(client_for(reviewer), proposal).status_code == 403
    assert world_state() == before
    assert Proposal.objects.get(pk=proposal.pk).queue.slug == "support"


def test_reassign_is_for_pending_proposals_and_in_scope(
    client_for, submit, reviewer, senior_reviewer, admin, password, world_state
):
    outside = submit(action_type="crm.update")  # support: the senior reviewer lacks it
    decided = submit(action_type="crm.update")
    proposal_decide(proposal_id=decided.pk, reviewer=reviewer, verdict="reject", rationale="No.", password=password)
    before = world_state()
    assert reassign(client_for(senior_reviewer), outside).status_code == 404
    response = reassign(client_for(admin), decided)
    assert response.status_code == 409 and response.json()["error"]["code"] == "not_pending"
    assert world_state() == before


def with_support_queue(user):
    from guardian.shortcuts import assign_perm

    from apps.accounts.selectors import REVIEW_QUEUE_PERMISSION

    assign_perm(REVIEW_QUEUE_PERMISSION, user, QueueFactory(slug="support"))
    return type(user).objects.get(pk=user.pk)


def test_an_escalation_to_the_next_tier_ends_the_claim(submit, reviewer, senior_reviewer):
    from apps.escalations.services import sla_sweep

    proposal = submit(blast_radius=5)
    proposal_claim(proposal_id=proposal.pk, reviewer=reviewer)

    sla_sweep(now=proposal.created_at + timedelta(minutes=31))

    proposal.refresh_from_db()
    assert proposal.queue.slug == "finance-senior" and proposal.claimed_by_id is None
