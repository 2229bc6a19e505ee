"""Writing the outbox: an event's messages (webhook, e-mail, Slack, Teams) and the agents' events,
in the business transaction, handed to the broker after commit."""

import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.audit.services import audit_chain_hold
from apps.proposals.models import Proposal
from hitlplatform.wakeups import wakeup_send_many

from .. import messages
from ..models import AgentEvent, Channel, EventType, OutboxMessage
from ..selectors import admin_emails, queue_channel_of, queue_lookups_cached, queue_reviewer_emails
from .delivery import outbox_dispatch

# Integrators hear of outcomes (DESIGN.md, Webhooks); a queue's reviewers of work to do.
WEBHOOK_EVENTS = frozenset(
    {EventType.DECIDED, EventType.CHANGES_REQUESTED, EventType.ESCALATED, EventType.EXPIRED, EventType.FLAGGED}
)
QUEUE_EVENTS = frozenset({EventType.CREATED, EventType.REMINDER, EventType.ESCALATED, EventType.EXPIRED})
_batch: ContextVar[list | None] = ContextVar("outbox_batch", default=None)
_events_batch: ContextVar[list | None] = ContextVar("agent_events_batch", default=None)


def outbox_enqueue_proposal_event(
    *, proposal: Proposal, event_type: str, queue=None, due_at=None
) -> list[OutboxMessage]:
    """Write the messages of one event about `proposal` in the caller's transaction; deliver them after commit.

    `queue` and `due_at` name the work queue and its due time when they are not the proposal's own
    (a sampled execution waiting for post-action review).
    """
    now = timezone.now()
    event_id = uuid.uuid4()
    queue = queue if queue is not None else proposal.queue
    due_at = due_at if due_at is not None else proposal.sla_due_at
    outbox = []
    if event_type in WEBHOOK_EVENTS:
        body = messages.webhook_body(event_id=event_id, event_type=event_type, proposal=proposal)
        # The agent reads the same event from events/ and events/stream/, callback URL or not.
        _event_write(
            AgentEvent(
                event_id=event_id,
                agent_id=proposal.agent_id,
                proposal=proposal,
                event_type=event_type,
                body=body,
                created_at=now,
            )
        )
        url = proposal.callback_url or proposal.agent.callback_url
        if url:
            outbox.append(_message(event_id, event_type, proposal, Channel.WEBHOOK, url, body=body))
    if event_type in QUEUE_EVENTS and queue is not None:
        outbox += _queue_messages(event_id, event_type, proposal, queue, due_at)
    return outbox_write(outbox, now=now)


def outbox_enqueue_unstaffed_alert(*, proposal: Proposal, detail: str) -> list[OutboxMessage]:
    """The admins hear that `proposal` was escalated into a queue where nobody may decide."""
    return outbox_enqueue_admin_alert(proposal=proposal, event_type=EventType.UNSTAFFED, detail=detail)


def outbox_enqueue_admin_alert(*, proposal: Proposal, event_type: str, detail: str) -> list[OutboxMessage]:
    """An email to the active admins about `proposal` (an escalation into an unstaffed queue), in the
    caller's transaction like every outbox row."""
    recipients = admin_emails()
    if not recipients:
        return []
    summary = messages.ProposalSummary.of(
        proposal=proposal, event_type=event_type, queue=proposal.queue, due_at=proposal.sla_due_at
    )
    message = _message(
        uuid.uuid4(),
        event_type,
        proposal,
        Channel.EMAIL,
        "\n".join(recipients),
        subject=summary.subject(),
        body=summary.email_text(detail=detail),
    )
    return outbox_write([message])


def outbox_write(outbox: list[OutboxMessage], *, now=None) -> list[OutboxMessage]:
    """Stamp new messages due now and insert them in the caller's transaction (at the end of an
    `outbox_batch`); they are handed to the broker after commit."""
    if not outbox:
        return []
    now = now or timezone.now()
    for message in outbox:
        message.created_at = message.next_attempt_at = message.dispatched_at = now
        message.give_up_at = now + timedelta(seconds=settings.NOTIFICATION_RETRY_WINDOW_SECONDS)
    batch = _batch.get()
    if batch is not None:
        batch.extend(outbox)
    else:
        _outbox_insert(outbox)
    return outbox


@contextmanager
def outbox_batch():
    """For one batch transaction (the SLA sweep): each queue's channels read once, and the batch's
    messages inserted in one statement when the block ends without error."""
    pending, events = [], []
    token, events_token = _batch.set(pending), _events_batch.set(events)
    try:
        with queue_lookups_cached():
            yield
    finally:
        _batch.reset(token)
        _events_batch.reset(events_token)
    _events_insert(events)
    _outbox_insert(pending)


def _event_write(event: AgentEvent) -> None:
    batch = _events_batch.get()
    if batch is not None:
        batch.append(event)
    else:
        _events_insert([event])


def _events_insert(events: list[AgentEvent]) -> None:
    """Write the agents' events and wake their waiters at commit.

    Under the audit chain's lock, which this transaction takes anyway: ids then follow commit
    order, and a reader resuming after an id misses nothing committed later."""
    if not events:
        return
    audit_chain_hold()
    AgentEvent.objects.bulk_create(events)
    wakeup_send_many(list(dict.fromkeys((event.agent_id, event.proposal_id) for event in events)))


def _outbox_insert(outbox: list[OutboxMessage]) -> None:
    if not outbox:
        return
    OutboxMessage.objects.bulk_create(outbox)
    message_ids = [message.pk for message in outbox]
    transaction.on_commit(lambda: outbox_dispatch(message_ids=message_ids))


def _message(event_id, event_type, proposal, channel, target, *, body, subject="") -> OutboxMessage:
    return OutboxMessage(
        event_id=event_id,
        event_type=event_type,
        channel=channel,
        proposal=proposal,
        target=target,
        subject=subject,
        body=body,
    )


def _queue_messages(event_id, event_type, proposal, queue, due_at) -> list[OutboxMessage]:
    channel = queue_channel_of(queue)
    recipients = queue_reviewer_emails(queue) if channel is None or channel.email_enabled else []
    slack = channel.slack_webhook_url if channel is not None else ""
    teams = channel.teams_webhook_url if channel is not None else ""
    if not (recipients or slack or teams):
        return []  # a queue nobody hears from; the summary is not worth writing
    summary = messages.ProposalSummary.of(proposal=proposal, event_type=event_type, queue=queue, due_at=due_at)
    outbox = []
    if recipients:
        outbox.append(
            _message(
                event_id,
                event_type,
                proposal,
                Channel.EMAIL,
                "\n".join(recipients),
                subject=summary.subject(),
                body=summary.email_text(),
            )
        )
    if slack:
        outbox.append(_message(event_id, event_type, proposal, Channel.SLACK, slack, body=summary.slack_body()))
    if teams:
        outbox.append(_message(event_id, event_type, proposal, Channel.TEAMS, teams, body=summary.teams_body()))
    return outbox
