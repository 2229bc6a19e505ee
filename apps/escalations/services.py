"""The SLA sweep: reminders, escalation tier by tier, expiry at the last tier (DESIGN.md, Celery rules).

Each batch of due rows is taken `SELECT ... FOR UPDATE SKIP LOCKED` in its own transaction, and
each transition is a conditional UPDATE on the state the sweep read, whose row count says who
won (a batch's escalations: one compare-and-set UPDATE whose RETURNING names the winners): two
workers sweeping at once, or a sweep re-run after a worker was killed, act once. A batch commits
its transitions, their audit events and their outbox rows together, or none of them.
"""

import time
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.calendars import calendars_cached, sla_deadlines
from apps.audit.services import audit_record
from apps.notifications.messages import proposals_for_webhooks
from apps.notifications.services import outbox_batch, outbox_enqueue_proposal_event
from apps.policies.models import OnExpiry
from apps.proposals.models import ApprovedBy, PostActionReview, Proposal, ReviewState, Status
from apps.proposals.selectors import rule_escalation_queues
from apps.proposals.services import (
    proposal_escalate,
    proposal_next_escalation_queue,
    proposals_escalate_overdue,
    queue_for,
    sla_of,
)

from .events import EscalationEvents


@dataclass
class SweepResult:
    reminded: int = 0
    escalated: int = 0
    expired: int = 0
    approved_on_expiry: int = 0
    reviews_escalated: int = 0
    reviews_overdue: int = 0
    complete: bool = True  # False when the time budget ran out; the next beat tick goes on
    lost_races: int = field(default=0, repr=False)

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def sla_sweep(
    *, now: datetime | None = None, batch_size: int | None = None, max_seconds: float | None = None
) -> SweepResult:
    """Remind, escalate and expire every overdue pending proposal, and escalate overdue post-action reviews."""
    batch_size = batch_size or settings.SLA_SWEEP_BATCH_SIZE
    deadline = time.monotonic() + (max_seconds if max_seconds is not None else settings.SLA_SWEEP_MAX_SECONDS)
    result = SweepResult()
    for sweep_batch in (_overdue_proposals_batch, _reminders_batch, _overdue_reviews_batch):
        while True:
            if time.monotonic() > deadline:
                result.complete = False
                return result
            # `now` is taken per batch, so a long sweep does not act on a stale clock.
            if not sweep_batch(now=now or timezone.now(), batch_size=batch_size, result=result):
                break
    return result


@transaction.atomic(savepoint=False)
def proposal_sla_lapse(*, proposal: Proposal, now: datetime, queues: dict | None = None) -> str | None:
    """The SLA of a pending proposal ran out: escalate it, or at the last tier apply the rule's on_expiry.

    Returns "escalated", "expired", "approved_on_expiry", or None when someone else acted first.
    `queues` keeps the tiers' queues by slug across one batch.
    """
    slug = proposal_next_escalation_queue(proposal)
    if slug is not None:
        queues = {} if queues is None else queues
        if slug not in queues:
            queues[slug] = queue_for(slug)
        reason = f"SLA overdue since {proposal.sla_due_at.isoformat()}"
        escalated = proposal_escalate(proposal=proposal, actor=None, reason=reason, now=now, to_queue=queues[slug])
        return "escalated" if escalated else None
    return proposal_expire(proposal=proposal, now=now)


@transaction.atomic(savepoint=False)
def proposal_expire(*, proposal: Proposal, now: datetime) -> str | None:
    """Fail closed: status expired. With on_expiry "approve", approved by policy *on expiry*, said so everywhere."""
    rule = proposal.policy_rule
    approve = rule is not None and rule.on_expiry == OnExpiry.APPROVE and not proposal.agent.is_suspended
    unchanged = Proposal.objects.filter(
        pk=proposal.pk, status=Status.PENDING, escalation_level=proposal.escalation_level
    )
    if approve:
        won = unchanged.update(
            status=Status.APPROVED,
            approved_by=ApprovedBy.POLICY,
            approved_on_expiry=True,
            final_payload=proposal.current_payload,
            decided_at=now,
        )
    else:
        won = unchanged.update(status=Status.EXPIRED, decided_at=now)
    if not won:
        return None
    proposal.refresh_from_db()
    audit_record(
        action=EscalationEvents.EXPIRED,
        actor=None,
        obj=proposal,
        data={
            "on_expiry": OnExpiry.APPROVE if approve else OnExpiry.REJECT,
            "status": proposal.status,
            "approved_by": proposal.approved_by,
            "approved_on_expiry": proposal.approved_on_expiry,
            "level": proposal.escalation_level,
            "queue": proposal.queue.slug if proposal.queue else None,
            "sla_due_at": proposal.sla_due_at.isoformat() if proposal.sla_due_at else None,
        },
    )
    outbox_enqueue_proposal_event(proposal=proposal, event_type="proposal.expired")
    return "approved_on_expiry" if approve else "expired"


@transaction.atomic(savepoint=False)
def proposal_remind(*, proposal: Proposal, now: datetime) -> bool:
    """The reminder at 80 % of the SLA, once per tier."""
    won = Proposal.objects.filter(
        pk=proposal.pk, status=Status.PENDING, escalation_level=proposal.escalation_level, reminded_at__isnull=True
    ).update(reminded_at=now)
    if not won:
        return False
    audit_record(
        action=EscalationEvents.REMINDED,
        actor=None,
        obj=proposal,
        data={
            "level": proposal.escalation_level,
            "queue": proposal.queue.slug if proposal.queue else None,
            "sla_due_at": proposal.sla_due_at.isoformat(),
        },
    )
    outbox_enqueue_proposal_event(proposal=proposal, event_type="proposal.reminder")
    return True


@transaction.atomic(savepoint=False)
def review_sla_lapse(*, review: PostActionReview, now: datetime) -> str | None:
    """A sampled execution waited too long for its review: next tier, or at the last tier a recorded breach."""
    proposal = review.proposal
    tiers = rule_escalation_queues(proposal.policy_rule)
    unchanged = PostActionReview.objects.filter(
        pk=review.pk, state=ReviewState.QUEUED, escalation_level=review.escalation_level, sla_due_at=review.sla_due_at
    )
    previous = review.queue.slug if review.queue else None
    if review.escalation_level < len(tiers):
        queue = queue_for(tiers[review.escalation_level])
        due_at = sla_deadlines(queue=queue, start=now, sla=sla_of(proposal))[1]
        if not unchanged.update(queue=queue, escalation_level=review.escalation_level + 1, sla_due_at=due_at):
            return None
        audit_record(
            action=EscalationEvents.REVIEW_ESCALATED,
            actor=None,
            obj=proposal,
            data={
                "from_queue": previous,
                "to_queue": queue.slug,
                "level": review.escalation_level + 1,
                "sla_due_at": due_at.isoformat(),
                "reason": "review SLA overdue",
            },
        )
        outbox_enqueue_proposal_event(proposal=proposal, event_type="proposal.escalated", queue=queue, due_at=due_at)
        return "escalated"
    # An executed action cannot expire; the last tier keeps it, and the breach is on record once.
    if not unchanged.update(sla_due_at=None):
        return None
    audit_record(
        action=EscalationEvents.REVIEW_SLA_BREACHED,
        actor=None,
        obj=proposal,
        data={"queue": previous, "level": review.escalation_level, "sla_due_at": review.sla_due_at.isoformat()},
    )
    return "overdue"


def _overdue_proposals_batch(*, now, batch_size, result) -> bool:
    with transaction.atomic(), calendars_cached(), outbox_batch():
        # Read with what their webhooks serialize: a batch costs three queries, not two per proposal.
        batch = _locked_batch(
            Proposal.objects.filter(status=Status.PENDING, sla_due_at__lte=now),
            due_first="sla_due_at",
            batch_size=batch_size,
            read=proposals_for_webhooks(Proposal.objects),
        )
        last_tier, tiered = [], []
        for proposal in batch:
            (tiered if proposal_next_escalation_queue(proposal) is not None else last_tier).append(proposal)
        escalated = proposals_escalate_overdue(proposals=tiered, now=now, queues={})
        result.escalated += len(escalated)
        result.lost_races += len(tiered) - len(escalated)
        for proposal in last_tier:
            outcome = proposal_expire(proposal=proposal, now=now)
            if outcome == "expired":
                result.expired += 1
            elif outcome == "approved_on_expiry":
                result.approved_on_expiry += 1
            else:
                result.lost_races += 1
    return len(batch) == batch_size


def _reminders_batch(*, now, batch_size, result) -> bool:
    with transaction.atomic(), calendars_cached(), outbox_batch():
        batch = _locked_batch(
            Proposal.objects.filter(
                status=Status.PENDING, reminded_at__isnull=True, remind_at__lte=now, sla_due_at__gt=now
            ),
            due_first="remind_at",
            batch_size=batch_size,
            read=Proposal.objects.select_related("queue", "agent"),
        )
        for proposal in batch:
            if proposal_remind(proposal=proposal, now=now):
                result.reminded += 1
            else:
                result.lost_races += 1
    return len(batch) == batch_size


def _overdue_reviews_batch(*, now, batch_size, result) -> bool:
    with transaction.atomic(), calendars_cached(), outbox_batch():
        batch = _locked_batch(
            PostActionReview.objects.filter(state=ReviewState.QUEUED, sla_due_at__lte=now),
            due_first="sla_due_at",
            batch_size=batch_size,
            read=PostActionReview.objects.select_related("queue", "proposal__policy_rule", "proposal__agent"),
        )
        for review in batch:
            outcome = review_sla_lapse(review=review, now=now)
            if outcome == "escalated":
                result.reviews_escalated += 1
            elif outcome == "overdue":
                result.reviews_overdue += 1
            else:
                result.lost_races += 1
    return len(batch) == batch_size


def _locked_batch(due, *, due_first: str, batch_size: int, read) -> list:
    """Lock up to `batch_size` due rows, the longest due first, then read them through `read` (with
    their relations), in due order.

    The ids are locked alone, in the order of the (state, due time) index, so that the LIMIT stops
    the index scan: in one statement with the joins, or with a tie-break on the id, PostgreSQL
    sorts every due row first, and after an outage (100k overdue) each batch costs the whole
    backlog. Rows another sweeper holds are skipped, not waited for (SQLite serializes whole
    transactions instead); the rows read are ours until the commit.
    """
    ids = list(due.select_for_update(skip_locked=True).order_by(due_first).values_list("pk", flat=True)[:batch_size])
    return list(read.filter(pk__in=ids).order_by(due_first, "pk")) if ids else []
