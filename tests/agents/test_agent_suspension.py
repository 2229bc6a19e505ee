import pytest

from apps.agents.services import agent_resume, agent_suspend
from apps.audit.models import AuditEvent
from apps.proposals.models import Proposal, Status
from apps.proposals.services import proposal_decide
from hitlplatform.errors import Conflict
from tests.conftest import proposal_body

pytestmark = pytest.mark.django_db


def test_a_suspended_agent_cannot_submit(agent, agent_client, policy, admin, world_state):
    agent_suspend(agent=agent, reason="misbehaving", actor=admin)
    before = world_state()

    response = agent_client.post("/api/v1/proposals/", proposal_body(), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "agent_suspended"
    assert world_state() == before
    assert AuditEvent.objects.filter(action="agent.suspended", object_id=str(agent.pk)).exists()


def test_pending_proposals_of_a_suspended_agent_cannot_be_approved_until_resumed(
    agent, submit, reviewer, second_reviewer, admin, password
):
    proposal = submit(blast_radius=5)
    agent_suspend(agent=agent, reason="incident 42", actor=admin)

    with pytest.raises(Conflict):
        proposal_decide(
            proposal_id=proposal.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=password
        )

    agent_resume(agent=agent, reason="fixed", actor=admin)
    proposal_decide(proposal_id=proposal.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=password)
    proposal_decide(
        proposal_id=proposal.pk, reviewer=second_reviewer, verdict="approve", rationale="ok", password=password
    )
    proposal.refresh_from_db()
    assert proposal.status == Status.APPROVED
    assert AuditEvent.objects.filter(action="agent.resumed").count() == 1


def test_a_suspended_agents_proposal_can_still_be_rejected(agent, submit, reviewer, admin, password):
    proposal = submit(blast_radius=5)
    agent_suspend(agent=agent, reason="incident", actor=admin)
    proposal_decide(
        proposal_id=proposal.pk, reviewer=reviewer, verdict="reject", rationale="stop it", password=password
    )
    assert Proposal.objects.get(pk=proposal.pk).status == Status.REJECTED


def test_suspending_twice_is_a_conflict(agent, admin):
    agent_suspend(agent=agent, reason="a", actor=admin)
    with pytest.raises(Conflict):
        agent_suspend(agent=agent, reason="b", actor=admin)
