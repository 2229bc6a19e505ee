"""Escalation transitions of a pending proposal: by a reviewer's verdict and by the SLA sweep.

They stay with the proposal's lifecycle on purpose: a reviewer's `escalate` verdict takes this
transition inside the decision's transaction, so moving it up into apps.escalations would bring
back the proposals <-> escalations cycle the layers contract forbids. apps.escalations owns what is
driven by the clock (when to remind, escalate or expire) and calls these.
"""

from datetime import datetime

from django.utils import timezone

from apps.accounts.calendars import sla_deadlines
from apps.accounts.models import Queue
from apps.accounts.selectors import (
    queue_staffing_gap,
)
from apps.audit.services import audit_record, audit_record_many
from apps.notifications.services import outbox_enqueue_proposal_event, outbox_enqueue_unstaffed_alert

from ..events import ProposalEvents
from ..models import (
    Proposal,
    Status,
)
from ..selectors import (
    rule_escalation_queues,
)
from .common import _compare_and_set, queue_for, sla_of


def proposal_escalate(
    *, proposal: Proposal, actor=None, reason: str, now: datetime | None = None, to_queue: Queue | None = None
) -> bool:
    """Hand a pending proposal to its next tier: that queue gets it, with a new due time.

    A conditional update on the status and level the caller read: False when a decision, another
    worker or an earlier run of the SLA sweep moved the proposal first, so nothing escalates twice.
    The caller checked that a next tier exists (`proposal_next_escalation_queue`); `to_queue` is that
    tier's queue when the caller already read it (the SLA sweep, once per batch).
    """
    now = now or timezone.now()
    queue_slug = _next_escalation_queue(proposal)
    queue = to_queue if to_queue is not None and to_queue.slug == queue_slug else queue_for(queue_slug)
    remind_at, due_at = sla_deadlines(queue=queue, start=now, sla=sla_of(proposal))
    won = Proposal.objects.filter(
        pk=proposal.pk, status=Status.PENDING, escalation_level=proposal.escalation_level
    ).update(**_escalation_changes(proposal, queue=queue, due_at=due_at, remind_at=remind_at))
    if not won:
        return False
    audit_record(**_escalated(proposal, actor=actor, reason=reason, queue=queue, due_at=due_at, remind_at=remind_at))
    return True


def proposals_escalate_overdue(*, proposals: list[Proposal], now: datetime, queues: dict) -> list[Proposal]:
    """The SLA sweep's batch form of `proposal_escalate`, for proposals that have a next tier.

    One compare-and-set UPDATE per (level, tier, SLA) of the batch, usually one, instead of one per
    proposal; its RETURNING says per row who won, and only those are escalated, audited (one event
    each, appended together) and notified. `queues` keeps the tiers' queues by slug across the batch.
    """
    groups = {}
    for proposal in proposals:
        key = (proposal.escalation_level, _next_escalation_queue(proposal), sla_of(proposal))
        groups.setdefault(key, []).append(proposal)
    escalated, events, gaps = [], [], {}
    for (level, queue_slug, sla), group in groups.items():
        if queue_slug not in queues:
            queues[queue_slug] = queue_for(queue_slug)
        queue = queues[queue_slug]
        remind_at, due_at = sla_deadlines(queue=queue, start=now, sla=sla)
        won = _compare_and_set(
            proposal_ids=[proposal.pk for proposal in group],
            expected={"status": Status.PENDING, "escalation_level": level},
            changes=_escalation_changes(group[0], queue=queue, due_at=due_at, remind_at=remind_at),
        )
        for proposal in group:
            if proposal.pk in won:
                reason = f"SLA overdue since {proposal.sla_due_at.isoformat()}"
                events.append(
                    _escalated(
                        proposal,
                        actor=None,
                        reason=reason,
                        queue=queue,
                        due_at=due_at,
                        remind_at=remind_at,
                        gaps=gaps,
                    )
                )
                escalated.append(proposal)
    audit_record_many(events=events)
    return escalated


def proposal_next_escalation_queue(proposal: Proposal) -> str | None:
    return _next_escalation_queue(proposal)


def _escalation_changes(proposal: Proposal, *, queue: Queue, due_at: datetime, remind_at: datetime) -> dict:
    return {
        "queue": queue,
        "escalation_level": proposal.escalation_level + 1,
        "sla_due_at": due_at,
        "remind_at": remind_at,
        "reminded_at": None,
        # The next tier's reviewers take it up: a claim of the previous tier ends.
        "claimed_by": None,
        "claim_expires_at": None,
    }


def _escalated(
    proposal: Proposal, *, actor, reason: str, queue: Queue, due_at: datetime, remind_at: datetime, gaps=None
) -> dict:
    """What follows a won escalation: the proposal as it now is and its messages; returns its audit
    event (audit_record's arguments), for the caller to record in this transaction."""
    previous = proposal.queue.slug if proposal.queue else None
    proposal.queue, proposal.escalation_level = queue, proposal.escalation_level + 1
    proposal.sla_due_at, proposal.remind_at, proposal.reminded_at = due_at, remind_at, None
    proposal.claimed_by, proposal.claim_expires_at = None, None
    outbox_enqueue_proposal_event(proposal=proposal, event_type="proposal.escalated")
    # An escalation into a queue where nobody may decide is a dead end: the admins hear of it now,
    # and the compliance dashboard lists it until someone is staffed there.
    level = proposal.policy_rule.required_authorization_level if proposal.policy_rule else 0
    gaps = {} if gaps is None else gaps
    if (queue.pk, level) not in gaps:
        gaps[queue.pk, level] = queue_staffing_gap(queue=queue, authorization_level=level)
    gap = gaps[queue.pk, level]
    if gap:
        outbox_enqueue_unstaffed_alert(proposal=proposal, detail=gap)
    return {
        "action": ProposalEvents.ESCALATED,
        "actor": actor,
        "obj": proposal,
        "data": {
            "from_queue": previous,
            "to_queue": queue.slug,
            "level": proposal.escalation_level,
            "reason": reason,
            "sla_due_at": due_at.isoformat(),
            "by": "sla" if actor is None else "reviewer",
            **({"unstaffed": gap} if gap else {}),
        },
    }


def _next_escalation_queue(proposal: Proposal) -> str | None:
    tiers = rule_escalation_queues(proposal.policy_rule)
    return tiers[proposal.escalation_level] if proposal.escalation_level < len(tiers) else None
