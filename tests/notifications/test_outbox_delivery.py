"""Delivery of outbox messages: signatures, retries with backoff, dead letters, the sweep, a dead broker."""

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from apps.audit.models import AuditEvent
from apps.notifications import tasks
from apps.notifications.models import Channel, DeliveryAttempt, OutboxMessage
from apps.notifications.services import (
    outbox_dispatch,
    outbox_message_deliver,
    outbox_messages_deliver,
    outbox_sweep,
    retry_backoff,
)
from apps.proposals.services import proposal_decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided_webhook(submit, reviewer, password, receiver):
    """A rejected record change whose integrator listens on 127.0.0.1; returns (message, receiver)."""

    def make(fail_first: int = 0):
        integrator = receiver(fail_first=fail_first)
        change = submit(action_type="crm.update", callback_url=integrator.url)
        proposal_decide(proposal_id=change.pk, reviewer=reviewer, verdict="reject", rationale="no", password=password)
        return OutboxMessage.objects.get(proposal=change, channel=Channel.WEBHOOK), integrator

    return make


def test_a_webhook_is_signed_with_the_agents_secret_over_timestamp_and_body(decided_webhook, agent):
    message, integrator = decided_webhook()

    outcome = outbox_message_deliver(message_id=message.pk)

    assert outcome == "delivered"
    request = integrator.requests[0]
    fields = dict(part.split("=", 1) for part in request["signature"].split(","))
    expected = hmac.new(agent.webhook_secret.encode(), f"{fields['t']}.".encode() + request["body"], hashlib.sha256)
    assert hmac.compare_digest(fields["v1"], expected.hexdigest())
    assert abs(int(fields["t"]) - timezone.now().timestamp()) < 60
    assert json.loads(request["body"])["id"] == str(message.event_id)


def test_a_delivered_message_is_not_delivered_again(decided_webhook):
    message, integrator = decided_webhook()
    outbox_message_deliver(message_id=message.pk)

    assert outbox_message_deliver(message_id=message.pk) == "skipped"
    assert len(integrator.requests) == 1


def test_a_message_leased_by_another_worker_is_left_to_it(decided_webhook):
    message, integrator = decided_webhook()
    OutboxMessage.objects.filter(pk=message.pk).update(leased_until=timezone.now() + timedelta(minutes=1))

    assert outbox_message_deliver(message_id=message.pk) == "skipped"
    assert integrator.requests == []


def test_a_receiver_failing_three_times_gets_the_event_on_the_fourth_attempt(decided_webhook, settings):
    # given a receiver that fails three times, and retries due at once
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 0
    message, integrator = decided_webhook(fail_first=3)

    # when delivery is tried four times
    outcomes = [outbox_message_deliver(message_id=message.pk) for _ in range(4)]

    # then
    assert outcomes == ["retry", "retry", "retry", "delivered"]
    attempts = DeliveryAttempt.objects.filter(message=message).order_by("number")
    assert [(a.number, a.succeeded, a.status_code) for a in attempts] == [
        (1, False, 500),
        (2, False, 500),
        (3, False, 500),
        (4, True, 200),
    ]
    assert "HTTP 500" in attempts[0].error
    assert len({request["body"] for request in integrator.requests}) == 1  # the same bytes every time


def test_a_failed_attempt_waits_with_exponential_backoff(decided_webhook, settings):
    settings.NOTIFICATION_RETRY_BASE_SECONDS = 30
    message, _integrator = decided_webhook(fail_first=5)
    before = timezone.now()

    outbox_message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert before + timedelta(seconds=29) < message.next_attempt_at < timezone.now() + timedelta(seconds=31)
    assert outbox_message_deliver(message_id=message.pk) == "skipped"  # not due yet
    assert [retry_backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert retry_backoff(30).total_seconds() == settings.NOTIFICATION_RETRY_MAX_INTERVAL_SECONDS


def test_after_the_retry_window_a_message_is_dead_lettered_and_audited(decided_webhook, settings):
    settings.NOTIFICATION_RETRY_WINDOW_SECONDS = 0
    message, _integrator = decided_webhook(fail_first=99)
    OutboxMessage.objects.filter(pk=message.pk).update(give_up_at=timezone.now())

    assert outbox_message_deliver(message_id=message.pk) == "dead"
    message.refresh_from_db()
    assert message.state == "dead" and message.attempts == 1
    assert AuditEvent.objects.filter(action="notification.dead_lettered", object_id=str(message.pk)).exists()


def test_an_unreachable_receiver_is_a_logged_failed_attempt(submit, reviewer, password):
    change = submit(action_type="crm.update", callback_url="http://127.0.0.1:9/closed")
    proposal_decide(proposal_id=change.pk, reviewer=reviewer, verdict="reject", rationale="no", password=password)
    message = OutboxMessage.objects.get(proposal=change, channel=Channel.WEBHOOK)

    assert outbox_message_deliver(message_id=message.pk) == "retry"
    attempt = DeliveryAttempt.objects.get(message=message)
    assert not attempt.succeeded and attempt.status_code is None and "ConnectionError" in attempt.error


def test_the_sweep_resends_what_the_broker_lost_but_not_what_is_in_flight(
    decided_webhook, settings, django_capture_on_commit_callbacks
):
    # given a message handed to the broker a moment ago
    settings.OUTBOX_DISPATCH_GRACE_SECONDS = 60
    message, integrator = decided_webhook()

    # when the sweep runs now, and after the grace period
    with django_capture_on_commit_callbacks(execute=True):
        at_once = outbox_sweep()
        later = outbox_sweep(now=timezone.now() + timedelta(seconds=61))

    # then only the late sweep re-sent it (eager tasks in this process), and once
    assert (at_once, later) == (0, 1)
    assert OutboxMessage.objects.get(pk=message.pk).state == "delivered"
    assert len(integrator.requests) == 1


def test_a_dead_broker_does_not_fail_the_caller(decided_webhook, monkeypatch):
    message, integrator = decided_webhook()

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    monkeypatch.setattr(tasks.deliver, "delay", refuse)

    outbox_dispatch(message_ids=[message.pk])

    assert OutboxMessage.objects.get(pk=message.pk).state == "pending" and integrator.requests == []


def test_email_goes_to_the_queues_reviewers_through_django_email(finance_channels, submit):
    refund = submit(blast_radius=5, summary="Refund order A-5")
    email = OutboxMessage.objects.get(proposal=refund, channel=Channel.EMAIL)

    assert outbox_message_deliver(message_id=email.pk) == "delivered"

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["fiona@example.org", "frank@example.org"]
    assert "Refund order A-5" in mail.outbox[0].subject
    assert f"/review/{refund.pk}/" in mail.outbox[0].body


def test_a_chunk_is_delivered_message_by_message_with_each_outcome_logged(submit, reviewer, password, receiver):
    # given three decided record changes: two to a healthy receiver, one to a failing one
    healthy, failing = receiver(), receiver(fail_first=99)
    messages = []
    for url in (healthy.url, failing.url, healthy.url):
        change = submit(action_type="crm.update", callback_url=url)
        proposal_decide(proposal_id=change.pk, reviewer=reviewer, verdict="reject", rationale="no", password=password)
        messages.append(OutboxMessage.objects.get(proposal=change, channel=Channel.WEBHOOK))
    outbox_message_deliver(message_id=messages[0].pk)  # the first one went out earlier

    # when the chunk is delivered
    outcomes = outbox_messages_deliver(message_ids=[message.pk for message in messages])

    # then
    assert outcomes == {"skipped": 1, "delivered": 1, "retry": 1}
    assert [OutboxMessage.objects.get(pk=m.pk).state for m in messages] == ["delivered", "pending", "delivered"]
    assert DeliveryAttempt.objects.count() == 3
    assert len(healthy.requests) == 2 and len(failing.requests) == 1


def test_slack_and_teams_messages_are_posted_unsigned_to_the_queues_incoming_webhooks(submit, receiver, policy):
    from apps.accounts.models import Queue
    from apps.notifications.models import QueueChannel

    # given the finance queue's Slack and Teams incoming webhooks on 127.0.0.1
    slack, teams = receiver(), receiver()
    QueueChannel.objects.create(
        queue=Queue.objects.get(slug="finance"),
        email_enabled=False,
        slack_webhook_url=slack.url,
        teams_webhook_url=teams.url,
    )

    # when a refund waits for approval there and its messages are delivered
    refund = submit(blast_radius=5)
    outcomes = outbox_messages_deliver(
        message_ids=list(OutboxMessage.objects.filter(proposal=refund).values_list("pk", flat=True))
    )

    # then each got its own format, with no HITL signature
    assert outcomes == {"delivered": 2}
    assert "text" in json.loads(slack.requests[0]["body"]) and slack.requests[0]["signature"] == ""
    assert json.loads(teams.requests[0]["body"])["@type"] == "MessageCard"
