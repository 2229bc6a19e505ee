"""The cast and the stage of the suite (STYLE.md): reviewers, an outsider who sees nothing,
a compliance officer, an admin, and an agent with its owner, under a known policy."""

from urllib.parse import quote

import pytest
from django.db import connection
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from apps.agents.services import agent_create
from apps.audit.models import AuditEvent
from apps.policies.services import policy_load_yaml
from apps.proposals.models import Proposal
from apps.proposals.services import proposal_revise, proposal_submit
from tests.factories import PASSWORD, UserFactory, decide

# A hook, imported so that pytest finds it here: the closing lines name the skipped groups.
from tests.skipped_summary import pytest_terminal_summary  # noqa: F401

TEST_POLICY = """
rules:
  - name: small-refunds
    action_type: "payments.refund"
    when: {irreversible: false, max_blast_radius: 1, compliance_exposure: [none, low]}
    mode: autonomous
    min_confidence: 0.9
  - name: refunds
    action_type: "payments.*"
    mode: pre_approval
    approvals_required: 2
    queue: finance
    sla: 30m
    escalation: [finance-senior, compliance]
  - name: support-replies
    action_type: "support.reply"
    mode: post_review
    sample_rate: 1.0
    queue: support
  - name: unsampled-notes
    action_type: "support.note"
    mode: post_review
    sample_rate: 0.0
    queue: support
  - name: contract-changes
    action_type: "contracts.*"
    mode: pre_approval
    queue: finance
    required_authorization_level: 3
  - name: record-changes
    action_type: "crm.*"
    mode: pre_approval
    queue: support
    sla: 4h
    escalation: [support-senior]
"""


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def policy(db):
    # The cast is created per test, after the policy: its queues are staffed by then, not now.
    return policy_load_yaml(text=TEST_POLICY, comment="test policy", allow_unstaffed=True)


@pytest.fixture
def reviewer(db):
    return UserFactory(username="reviewer", role="reviewer", queues=["finance", "support"])


@pytest.fixture
def second_reviewer(db):
    return UserFactory(username="second_reviewer", role="reviewer", queues=["finance", "support"])


@pytest.fixture
def senior_reviewer(db):
    return UserFactory(
        username="senior_reviewer",
        role="senior_reviewer",
        queues=["finance-senior", "support-senior", "finance"],
        profile__level=3,
    )


@pytest.fixture
def staffed(reviewer, senior_reviewer):
    """Every queue and escalation tier of TEST_POLICY has someone who may decide there."""
    return UserFactory(username="compliance_reviewer", role="senior_reviewer", queues=["compliance"])


@pytest.fixture
def outsider(db):
    """A reviewer with no queue: sees nothing."""
    return UserFactory(username="outsider", role="reviewer")


@pytest.fixture
def compliance_officer(db):
    return UserFactory(username="compliance_officer", role="compliance_officer")


@pytest.fixture
def admin(db):
    return UserFactory(username="admin", role="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def agent_owner(db):
    return UserFactory(username="agent_owner", role="reviewer", queues=["finance", "support"])


@pytest.fixture
def agent_and_key(db, agent_owner):
    return agent_create(name="refund-bot", owner=agent_owner, callback_url="https://example.invalid/hook")


@pytest.fixture
def agent(agent_and_key):
    return agent_and_key[0]


@pytest.fixture
def agent_client(agent_and_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {agent_and_key[1]}")
    return client


@pytest.fixture
def client_for():
    def make(user):
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def submit(agent, policy):
    """Submit a proposal body (with defaults) as the agent; returns the proposal."""

    def make(**overrides):
        fields = proposal_body(**overrides)
        return proposal_submit(agent=overrides.pop("as_agent", agent), fields=fields).proposal

    return make


def proposal_body(**overrides) -> dict:
    body = {
        "action_type": "payments.refund",
        "payload": {"order": "A-1", "amount": "500.00"},
        "summary": "Refund order A-1",
        "reasoning": "Damaged on arrival.",
        "evidence": [{"type": "photo", "id": "P-1"}],
        "confidence": 0.8,
        "irreversible": False,
        "blast_radius": 1,
        "compliance_exposure": "low",
        "expected_impact": "500 EUR",
        "external_id": "",
        "callback_url": "",
    }
    overrides.pop("as_agent", None)
    body.update(overrides)
    return body


def redirected_and_revised(proposal, reviewer, agent, *, instructions: str, payload: dict) -> Proposal:
    """`reviewer` sends `proposal` back ("Wrong address.") with `instructions`, and `agent` revises
    it with `payload`: the revision."""
    decide(proposal, reviewer, "request_changes", rationale="Wrong address.", instructions=instructions)
    fields = proposal_body(action_type=proposal.action_type, payload=payload)
    return proposal_revise(proposal_id=proposal.pk, agent=agent, fields=fields).proposal


def database_url() -> str:
    """The test database, as a server or worker process started by the test must see it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        if db["NAME"].startswith(("file:memorydb", ":memory:")):
            pytest.skip("the test database is in memory: another process cannot share it")
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "", safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def world_state(db):
    """What a rejected request must leave unchanged: proposal count and audit head."""

    def snapshot():
        head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        return Proposal.objects.count(), head

    return snapshot


@pytest.fixture
def receiver():
    """Starts webhook receivers on 127.0.0.1 (tests.notifications.receiver) and stops them after the test."""
    from tests.notifications.receiver import Receiver

    started = []

    def make(fail_first: int = 0) -> Receiver:
        server = Receiver(fail_first=fail_first)
        server.thread.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.server.shutdown()
        server.server.server_close()


# A shared CI machine can be slow to generate examples; that says nothing about the code under test.
hypothesis_settings.register_profile("shared-machine", suppress_health_check=[HealthCheck.too_slow], deadline=None)
hypothesis_settings.load_profile("shared-machine")
