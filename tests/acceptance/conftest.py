"""A stage for the acceptance tests: the cast with API credentials, a policy and proposals in every
state worth probing, on a live server (pytest-django's, a real HTTP server in a thread)."""

import pytest

from apps.accounts.services import token_create
from apps.agents.services import agent_create, agent_suspend
from apps.policies.services import policy_load_yaml
from apps.proposals.services import proposal_decide, proposal_report_execution, proposal_submit
from tests.conftest import TEST_POLICY, proposal_body
from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def stage(transactional_db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    policy_load_yaml(text=TEST_POLICY, comment="acceptance", allow_unstaffed=True)
    owner = UserFactory(username="owner", role="reviewer", queues=["finance", "support"])
    reviewer = UserFactory(username="reviewer", role="reviewer", queues=["finance", "support"])
    other_queue = UserFactory(username="other_queue", role="reviewer", queues=["legal"])
    senior = UserFactory(username="senior", role="senior_reviewer", queues=["finance", "finance-senior"])
    officer = UserFactory(username="officer", role="compliance_officer")
    admin = UserFactory(username="admin", role="admin", is_staff=True, is_superuser=True)
    agent, agent_key = agent_create(name="bot", owner=owner)
    other_agent, other_key = agent_create(name="other-bot", owner=owner)
    suspended_agent, suspended_key = agent_create(name="stopped-bot", owner=owner)
    pending = proposal_submit(agent=agent, fields=proposal_body(blast_radius=5)).proposal
    approved = proposal_submit(agent=agent, fields=proposal_body(confidence=0.95)).proposal
    sampled = proposal_submit(agent=agent, fields=proposal_body(action_type="support.reply")).proposal
    proposal_report_execution(proposal_id=sampled.pk, agent=agent, status="succeeded", detail={})
    foreign = proposal_submit(agent=other_agent, fields=proposal_body(blast_radius=5)).proposal
    proposal_decide(proposal_id=foreign.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=PASSWORD)
    agent_suspend(agent=suspended_agent, reason="acceptance", actor=admin)
    tokens = {
        user.username: token_create(user=user)[1] for user in (owner, reviewer, other_queue, senior, officer, admin)
    }
    return {
        "keys": {"agent": agent_key, "other_agent": other_key, "suspended_agent": suspended_key, **tokens},
        "proposals": {"pending": pending, "approved": approved, "sampled": sampled, "foreign": foreign},
        "password": PASSWORD,
    }
