"""Reads of the proposals app: who sees which proposal, approvals, waiting."""

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from apps.accounts.selectors import REVIEW_QUEUE_PERMISSION, queues_reviewable_by, user_sees_everything
from apps.agents.models import Agent
from hitlplatform.errors import Forbidden, NotFound

from .models import Decision, Proposal, Verdict

APPROVING_VERDICTS = (Verdict.APPROVE, Verdict.MODIFY)
PROPOSAL_RELATIONS = ("agent", "queue", "policy_version", "policy_rule", "post_review")


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


def proposal_mark_new(proposal: Proposal) -> None:
    """A proposal just created has no decisions and no post-action review yet: tell the ORM,
    so that returning it costs no further queries."""
    decisions = Decision.objects.none()
    # Evaluated, as prefetch_related leaves its querysets: iterating a fresh none() still
    # compiles the whole SELECT before it finds the result empty.
    decisions._result_cache, decisions._prefetch_done = [], True
    proposal._prefetched_objects_cache = {"decisions": decisions}
    Proposal.post_review.related.set_cached_value(proposal, None)
