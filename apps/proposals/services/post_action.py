"""After the action ran: the execution report, the sampling draw, and the post-action review."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.calendars import sla_deadlines
from apps.agents.models import Agent
from apps.audit.services import audit_record
from apps.notifications.services import outbox_enqueue_proposal_event
from apps.policies.sampling import is_sampled, sampling_draw, sampling_key_id
from hitlplatform.errors import Conflict, Forbidden, InvalidInput

from ..events import ProposalEvents
from ..lock_objects import lock_proposal
from ..models import (
    PostActionReview,
    Proposal,
    ReviewState,
    Status,
)
from ..selectors import (
    proposal_for_reviewer,
)
from .common import DEFAULT_QUEUE, _printed_name, queue_for, signature_verify, sla_of


def proposal_report_execution(*, proposal_id: int, agent: Agent, status: str, detail: dict) -> Proposal:
    with transaction.atomic():
        proposal = lock_proposal(proposal_id)
        if proposal.agent_id != agent.pk:
            raise Forbidden()
        if proposal.status != Status.APPROVED:
            raise Conflict(_("Only an approved proposal can be executed."), code="not_approved")
        if proposal.execution_status:
            raise Conflict(_("The execution was already reported."), code="already_reported")
        proposal.execution_status = status
        proposal.execution_detail = detail
        proposal.executed_at = timezone.now()
        proposal.save(update_fields=["execution_status", "execution_detail", "executed_at"])
        audit_record(
            action=ProposalEvents.EXECUTED, actor=agent, obj=proposal, data={"status": status, "detail": detail}
        )
        if proposal.mode == "post_review":
            _post_review_draw(proposal)
    return proposal


def proposal_post_review(
    *, proposal_id: int, reviewer, verdict: str, rationale: str, password: str, correction=None, username=None
) -> PostActionReview:
    signer = signature_verify(user=reviewer, password=password, username=username)
    with transaction.atomic():
        proposal = lock_proposal(proposal_id)
        proposal_for_reviewer(proposal=proposal, user=signer, for_post_review=True)
        review = PostActionReview.objects.select_for_update().filter(proposal=proposal).first()
        if review is None or review.state != ReviewState.QUEUED:
            raise Conflict(_("This execution is not waiting for a post-action review."), code="not_queued")
        if proposal.agent.owner_id == signer.pk:
            raise Forbidden(_("You may not review an action of an agent you own."))
        if verdict == PostActionReview.Verdict.FLAG and not isinstance(correction, dict):
            raise InvalidInput(fields={"correction": [_("A flag needs a correction object.")]})
        review.state = ReviewState.CONFIRMED if verdict == PostActionReview.Verdict.CONFIRM else ReviewState.FLAGGED
        review.verdict, review.rationale, review.correction = verdict, rationale, correction
        review.reviewer, review.signer_name = signer, _printed_name(signer)
        review.signature_meaning = "reviewed" if verdict == PostActionReview.Verdict.CONFIRM else "flagged"
        review.reviewed_at = timezone.now()
        review.save()
        audit_record(
            action=ProposalEvents.REVIEW_CONFIRMED
            if review.state == ReviewState.CONFIRMED
            else ProposalEvents.REVIEW_FLAGGED,
            actor=signer,
            obj=proposal,
            data={
                "verdict": verdict,
                "rationale": rationale,
                "correction": correction,
                "signature": {"name": review.signer_name, "meaning": review.signature_meaning},
            },
        )
        if review.state == ReviewState.FLAGGED:
            outbox_enqueue_proposal_event(proposal=proposal, event_type="proposal.flagged")
    return review


def _post_review_draw(proposal: Proposal) -> None:
    rule = proposal.policy_rule
    rate = rule.sample_rate if rule else 0.0
    draw = sampling_draw(key=settings.SAMPLING_KEY, proposal_id=proposal.pk)
    sampled = is_sampled(draw=draw, rate=rate)
    queue = queue_for(rule.queue if rule else DEFAULT_QUEUE) if sampled else None
    review = PostActionReview.objects.create(
        proposal=proposal,
        state=ReviewState.QUEUED if sampled else ReviewState.NOT_SAMPLED,
        draw=draw,
        sample_rate=rate,
        sampled_by="rate" if sampled else "",
        queue=queue,
        sla_due_at=sla_deadlines(queue=queue, start=timezone.now(), sla=sla_of(proposal))[1] if sampled else None,
    )
    # The inputs an auditor needs to recompute the draw: the message (the proposal id) and which key.
    audit_record(
        action=ProposalEvents.SAMPLED if sampled else ProposalEvents.NOT_SAMPLED,
        actor=None,
        obj=proposal,
        data={
            "draw": repr(draw),
            "sample_rate": repr(rate),
            "method": "HMAC-SHA256(sampling key, proposal id)",
            "message": str(proposal.pk),
            "key_id": sampling_key_id(),
            "sampled": sampled,
            "sampled_by": review.sampled_by,
            "queue": review.queue.slug if review.queue else None,
        },
    )
