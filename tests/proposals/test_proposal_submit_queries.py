"""A submission costs a fixed, small number of queries (the intake benchmark's request path).

The audit append's own statements are counted by tests/audit; here they are left out, as are
BEGIN/COMMIT/SAVEPOINT, so these numbers say what the proposals app reads and writes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import Queue, QueueCalendar
from apps.notifications.models import OutboxMessage, QueueChannel
from tests.conftest import proposal_body
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/proposals/"


def statements(agent_client, **body) -> list[str]:
    agent_client.post(URL, proposal_body(**body), format="json")  # warm the per-process policy snapshot
    with CaptureQueriesContext(connection) as context:
        response = agent_client.post(URL, proposal_body(**body), format="json")
    assert response.status_code == 201, response.content
    return [query["sql"] for query in context.captured_queries if _counted(query["sql"])]


def _counted(sql: str) -> bool:
    return "audit_" not in sql and not sql.upper().startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))


def test_an_autonomous_submission_reads_its_key_and_the_active_policy_and_inserts_the_proposal(agent_client, policy):
    sql = statements(agent_client, confidence=0.95)
    assert len(sql) == 3, sql
    assert "agents_agentkey" in sql[0] and "policies_policyversion" in sql[1] and sql[2].startswith("INSERT")


def test_a_submission_for_approval_reads_its_queue_with_calendar_and_channel_at_once(agent_client, policy):
    finance = Queue.objects.get(slug="finance")
    QueueCalendar.objects.create(queue=finance, timezone="Europe/Berlin")
    QueueChannel.objects.create(queue=finance, slack_webhook_url="https://hooks.slack.example.invalid/services/T/B/X")
    UserFactory(username="fiona", role="reviewer", queues=["finance"], email="fiona@example.org")

    sql = statements(agent_client, blast_radius=5)

    # key, policy, queue (+ calendar + channel), proposal, reviewer emails, outbox (email and Slack, one INSERT)
    assert len(sql) == 6, sql
    assert OutboxMessage.objects.filter(event_type="proposal.created").count() == 4  # two submissions


def test_an_idempotency_key_costs_one_read_and_its_replay_reads_the_proposal_at_once(agent_client, policy):
    statements(agent_client, confidence=0.95)  # warm the policy snapshot
    with CaptureQueriesContext(connection) as context:
        first = agent_client.post(URL, proposal_body(confidence=0.95), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    created = [query["sql"] for query in context.captured_queries if _counted(query["sql"])]
    with CaptureQueriesContext(connection) as context:
        retry = agent_client.post(URL, proposal_body(confidence=0.95), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    replayed = [query["sql"] for query in context.captured_queries if _counted(query["sql"])]

    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    # key, idempotency read, policy, proposal, idempotency record
    assert len(created) == 5, created
    # key, idempotency read, proposal with its relations, its decisions
    assert len(replayed) == 4, replayed
