"""Acceptance with a real `celery worker -B` process, against Redis and against RabbitMQ."""

import hashlib
import hmac
import json
import time

import pytest
from django.core.management import call_command
from django.db.models import Count

from apps.agents.services import agent_create
from apps.audit.models import AuditEvent, VerificationRun
from apps.audit.services import audit_record
from apps.audit.tasks import verify_full
from apps.notifications.models import DeliveryAttempt, OutboxMessage
from apps.policies.services import policy_load_yaml
from apps.proposals.models import Proposal
from apps.proposals.services import proposal_submit
from tests.conftest import TEST_POLICY, proposal_body
from tests.factories import UserFactory, overdue_refunds

from .conftest import use_broker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.slow]

FAST_SLA_POLICY = """
rules:
  - name: quick-refunds
    action_type: "payments.*"
    mode: pre_approval
    queue: finance
    sla: 2s
    escalation: [finance-senior]
  - name: record-changes
    action_type: "crm.*"
    mode: pre_approval
    queue: support
    sla: 4h
"""


def test_escalation_and_expiry_happen_with_no_manual_command(worker):
    # given a refund with a 2 s SLA and one escalation tier, and a worker with beat
    policy_load_yaml(text=FAST_SLA_POLICY, comment="fast SLA", allow_unstaffed=True)
    agent, _key = agent_create(name="quick-bot")
    refund = proposal_submit(agent=agent, fields=proposal_body(blast_radius=5)).proposal

    # when nobody decides
    worker.start()

    # then the beat sweep escalates it and, at the last tier, expires it
    wait_for(lambda: Proposal.objects.get(pk=refund.pk).status == "expired", timeout=60, what="expiry", worker=worker)
    refund.refresh_from_db()
    assert refund.escalation_level == 1 and refund.queue.slug == "finance-senior"
    actions = list(
        AuditEvent.objects.filter(object_id=str(refund.pk), object_type="proposals.proposal")
        .values_list("action", flat=True)
        .order_by("seq")
    )
    # (an 80 % reminder may or may not fall between two beat ticks of a 2 s SLA)
    assert [action for action in actions if action != "proposal.reminded"] == [
        "proposal.submitted",
        "proposal.escalated",
        "proposal.expired",
    ]


def test_kill_9_in_the_middle_of_a_sweep_escalates_each_proposal_exactly_once(worker):
    # given 2,000 overdue refunds (30 min SLA, tiers finance-senior then compliance)
    version = policy_load_yaml(text=TEST_POLICY, comment="test policy", allow_unstaffed=True)
    agent, _key = agent_create(name="bulk-bot")
    from apps.accounts.models import Queue

    finance = Queue.objects.get(slug="finance")
    Proposal.objects.bulk_create(overdue_refunds(range(2000), agent=agent, version=version, queue=finance))
    escalated = Proposal.objects.filter(escalation_level=1)

    # when the worker is killed -9 in the middle of the sweep, then started again
    worker.start(SLA_SWEEP_BATCH_SIZE=50)
    at_kill = wait_for(
        lambda: escalated.count() >= 100 and escalated.count(), timeout=90, what="the sweep to start", worker=worker
    )
    worker.kill9()
    at_kill = escalated.count()
    worker.start(SLA_SWEEP_BATCH_SIZE=200)
    wait_for(
        lambda: not Proposal.objects.filter(escalation_level=0).exists(),
        timeout=180,
        what="the sweep to finish",
        worker=worker,
    )
    worker.stop()

    # then it was mid-sweep, and every refund was escalated exactly once, with one audit event each
    assert 0 < at_kill < 2000
    assert set(Proposal.objects.values_list("escalation_level", flat=True)) == {1}
    per_proposal = (
        AuditEvent.objects.filter(action="proposal.escalated")
        .values("object_id")
        .annotate(n=Count("seq"))
        .values_list("n", flat=True)
    )
    assert len(per_proposal) == 2000 and set(per_proposal) == {1}
    call_command("verify_audit")  # raises CommandError (exit 1) on a broken chain


def test_webhooks_decided_while_the_broker_is_down_arrive_exactly_once(
    worker, dead_broker_url, receiver, client_for, password
):
    # given pending record changes of an agent whose webhook receiver listens on 127.0.0.1
    integrator = receiver()
    policy_load_yaml(text=TEST_POLICY, comment="test policy", allow_unstaffed=True)
    agent, _key = agent_create(name="crm-bot", callback_url=integrator.url)
    reviewer = UserFactory(username="crm_reviewer", role="reviewer", queues=["support"])
    changes = [
        proposal_submit(agent=agent, fields=proposal_body(action_type="crm.update", external_id=f"C-{n}")).proposal
        for n in range(5)
    ]

    # when they are decided through the API while the broker is down
    use_broker(dead_broker_url, worker.queue)
    api = client_for(reviewer)
    for change in changes:
        response = api.post(
            f"/api/v1/proposals/{change.pk}/decisions/",
            {"verdict": "approve", "rationale": "fine", "password": password},
            format="json",
        )
        assert response.status_code == 201, response.content
    assert not integrator.requests

    # and the broker comes back (the worker's outbox sweep re-sends what was never handed over)
    use_broker(worker.broker, worker.queue)
    worker.start()
    wait_for(lambda: len(integrator.accepted()) >= 5, timeout=60, what="the webhooks", worker=worker)
    time.sleep(3)  # room for a duplicate to show up
    worker.stop()

    # then every event arrived exactly once, signed with the agent's secret
    accepted = integrator.accepted()
    assert len(accepted) == 5 and len({request["event_id"] for request in accepted}) == 5
    for request in accepted:
        document = json.loads(request["body"])
        assert document["type"] == "proposal.decided" and document["proposal"]["status"] == "approved"
        timestamp, signature = (part.split("=", 1)[1] for part in request["signature"].split(","))
        expected = hmac.new(agent.webhook_secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256)
        assert hmac.compare_digest(signature, expected.hexdigest())
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {"delivered"}


def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt(worker, receiver, reviewer, password):
    # given a receiver that answers 500 three times per event
    flaky = receiver(fail_first=3)
    policy_load_yaml(text=TEST_POLICY, comment="test policy", allow_unstaffed=True)
    agent, _key = agent_create(name="flaky-bot", callback_url=flaky.url)
    change = proposal_submit(agent=agent, fields=proposal_body(action_type="crm.update")).proposal
    worker.start(NOTIFICATION_RETRY_BASE_SECONDS="0.3")

    # when the proposal is decided
    from apps.proposals.services import proposal_decide

    proposal_decide(proposal_id=change.pk, reviewer=reviewer, verdict="reject", rationale="no", password=password)

    # then it is retried with backoff until delivered, every attempt logged
    message = OutboxMessage.objects.get(proposal=change, channel="webhook")
    wait_for(
        lambda: OutboxMessage.objects.get(pk=message.pk).state == "delivered",
        timeout=60,
        what="delivery",
        worker=worker,
    )
    worker.stop()
    attempts = list(DeliveryAttempt.objects.filter(message=message).order_by("number"))
    assert [(a.number, a.succeeded, a.status_code) for a in attempts] == [
        (1, False, 500),
        (2, False, 500),
        (3, False, 500),
        (4, True, 200),
    ]
    assert [request["status"] for request in flaky.requests] == [500, 500, 500, 200]
    assert len({request["event_id"] for request in flaky.requests}) == 1


def test_the_nightly_verification_walks_a_long_chain_in_forked_worker_processes(worker):
    # given 60 committed events, and a worker that splits chains of 40 or more
    for number in range(60):
        audit_record(action="test.appended", object_type="worker", object_id=str(number), data={"n": number})
    worker.start(AUDIT_VERIFY_PROCESSES=2, AUDIT_VERIFY_MIN_SEGMENT=20)

    # when the nightly task runs in the worker (a prefork pool child forks the second segment)
    verify_full.delay()

    # then the run is kept, and was walked by two processes
    wait_for(lambda: VerificationRun.objects.exists(), timeout=60, what="the verification run", worker=worker)
    run = VerificationRun.objects.get()
    assert (run.ok, run.events_checked, run.head_seq) == (True, 60, 60), run.reason
    assert "ok=True, 60 events, 2 segments in 2 processes" in worker.output()
