"""Reads of the proposals app: who sees which proposal, approvals, waiting."""

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from apps.accounts.models import Queue
from apps.accounts.selectors import (
    REVIEW_QUEUE_PERMISSION,
    queue_staffing_gap,
    queues_reviewable_by,
    user_sees_everything,
)
from apps.agents.models import Agent
from hitlplatform.errors import Forbidden, NotFound

from .models import Decision, Proposal, Status, Verdict

APPROVING_VERDICTS = (Verdict.APPROVE, Verdict.MODIFY)
PROPOSAL_RELATIONS = ("agent", "queue", "policy_version", "policy_rule", "post_review", "claimed_by")


def proposals_visible_to(principal) -> QuerySet[Proposal]:
    """An agent sees its own proposals; compliance officers and admins all; reviewers their queues'."""
    proposals = Proposal.objects.select_related(*PROPOSAL_RELATIONS)
    if isinstance(principal, Agent):
        return proposals.filter(agent=principal)
    if user_sees_everything(principal):
        return proposals
    queues = queues_reviewable_by(principal)
    return proposals.filter(Q(queue__in=queues) | Q(post_review__queue__in=queues))


def proposals_with_decisions(proposals: QuerySet[Proposal]) -> QuerySet[Proposal]:
    return proposals.prefetch_related(
        Prefetch("decisions", queryset=Decision.objects.select_related("reviewer").order_by("signed_at", "id"))
    )


def proposal_get_for(*, principal, proposal_id: int) -> Proposal:
    proposal = proposals_with_decisions(proposals_visible_to(principal)).filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound(_("No such proposal."))
    return proposal


def proposal_for_reviewer(*, proposal: Proposal, user, for_post_review: bool = False) -> Proposal:
    """NotFound outside the user's scope; Forbidden where they may look but not decide."""
    queue = proposal.post_review.queue if for_post_review and hasattr(proposal, "post_review") else proposal.queue
    if queue is not None and user.has_perm(REVIEW_QUEUE_PERMISSION, queue):
        return proposal
    if user_sees_everything(user):
        raise Forbidden(_("You do not have the review permission of this queue."))
    raise NotFound(_("No such proposal."))


def proposal_approvals_of_current_version(proposal: Proposal) -> set[int]:
    return set(
        Decision.objects.filter(
            proposal=proposal, verdict__in=APPROVING_VERDICTS, payload_version=proposal.payload_version
        ).values_list("reviewer_id", flat=True)
    )


def rule_escalation_queues(rule) -> list[str]:
    return list(rule.escalation) if rule is not None and rule.escalation else []


@dataclass(frozen=True)
class DeadEnd:
    """Pending proposals waiting in a queue where nobody may decide them (DESIGN.md, Staffing)."""

    queue: Queue
    authorization_level: int
    why: str
    count: int
    proposal_ids: list[int]


def proposals_in_unstaffed_queues(*, sample: int = 10) -> list[DeadEnd]:
    """Each (queue, required level) holding pending work that no active user may decide, with how
    many and the first few ids; one staffing check per pair, not per proposal."""
    pairs = (
        Proposal.objects.filter(status=Status.PENDING, queue__isnull=False)
        .values_list("queue_id", "policy_rule__required_authorization_level")
        .annotate(pending=Count("id"))
        .order_by()
    )
    queues = Queue.objects.in_bulk({queue_id for queue_id, _level, _count in pairs})
    dead_ends = []
    for queue_id, level, count in pairs:
        queue, level = queues[queue_id], level or 0
        why = queue_staffing_gap(queue=queue, authorization_level=level)
        if why:
            waiting = Proposal.objects.filter(status=Status.PENDING, queue_id=queue_id)
            waiting = waiting.filter(policy_rule__required_authorization_level=level) if level else waiting
            ids = list(waiting.order_by("sla_due_at", "id").values_list("id", flat=True)[:sample])
            dead_ends.append(DeadEnd(queue=queue, authorization_level=level, why=why, count=count, proposal_ids=ids))
    return sorted(dead_ends, key=lambda dead_end: (dead_end.queue.slug, dead_end.authorization_level))
