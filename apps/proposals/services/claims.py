"""Claims (one reviewer works an item) and reassignment between queues."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Queue, Role
from apps.accounts.selectors import (
    queue_staffing_gap,
    user_has_role,
)
from apps.audit.services import audit_record
from hitlplatform.errors import Conflict, Forbidden, InvalidInput

from ..events import ProposalEvents
from ..lock_objects import lock_proposal
from ..models import (
    Proposal,
    Status,
)
from ..selectors import (
    proposal_approvals_of_current_version,
)
from .common import _claim_end, _ensure_sees, ensure_may_decide


def proposal_claim(*, proposal_id: int, reviewer) -> Proposal:
    """The reviewer works on this pending proposal for REVIEW_CLAIM_SECONDS; claiming again extends it.

    Only someone who may decide it may claim it; Conflict `claimed` while another's claim lasts, and
    `already_approved` for a reviewer whose approval is in (four eyes: the second reviewer claims).
    """
    with transaction.atomic():
        proposal = lock_proposal(proposal_id)
        ensure_may_decide(proposal=proposal, reviewer=reviewer)
        if reviewer.pk in proposal_approvals_of_current_version(proposal):
            raise Conflict(
                _("You already approved this version; another reviewer must take it."), code="already_approved"
            )
        renewed = proposal.claim_holder_id() == reviewer.pk
        proposal.claimed_by = reviewer
        proposal.claim_expires_at = timezone.now() + timedelta(seconds=settings.REVIEW_CLAIM_SECONDS)
        proposal.save(update_fields=["claimed_by", "claim_expires_at"])
        audit_record(
            action=ProposalEvents.CLAIMED,
            actor=reviewer,
            obj=proposal,
            data={
                "claimed_by": reviewer.get_username(),
                "claim_expires_at": proposal.claim_expires_at.isoformat(),
                "renewed": renewed,
            },
        )
    return proposal


def proposal_claim_release(*, proposal_id: int, user, note: str = "") -> Proposal:
    """The claimant ends their claim; a senior reviewer or admin may end anyone's (with a note).

    Releasing where no claim lasts changes nothing and records nothing.
    """
    with transaction.atomic():
        proposal = lock_proposal(proposal_id)
        _ensure_sees(proposal=proposal, user=user)
        holder = proposal.claim_holder_id()
        if holder is None:
            return proposal
        if holder != user.pk and not user_has_role(user, Role.SENIOR_REVIEWER, Role.ADMIN):
            raise Forbidden(_("Only the claimant, a senior reviewer or an admin may release this claim."))
        _claim_end(proposal, actor=user, reason="released", note=note)
    return proposal


def proposal_reassign(*, proposal_id: int, actor, queue: str, note: str) -> Proposal:
    """A senior reviewer or admin moves a pending proposal to another queue, with a note; any claim ends.

    The SLA clock keeps running. A queue where nobody may decide it is refused: it would be a dead end.
    """
    if not user_has_role(actor, Role.SENIOR_REVIEWER, Role.ADMIN):
        raise Forbidden(_("Only a senior reviewer or an admin may reassign proposals."))
    if not (note or "").strip():
        raise InvalidInput(fields={"note": [_("Say why it moves.")]})
    target = Queue.objects.filter(slug=queue).first()
    if target is None:
        raise InvalidInput(fields={"queue": [_("There is no queue %(queue)s.") % {"queue": queue}]})
    with transaction.atomic():
        proposal = lock_proposal(proposal_id)
        _ensure_sees(proposal=proposal, user=actor)
        if proposal.status != Status.PENDING:
            raise Conflict(_("Only a pending proposal can be reassigned."), code="not_pending")
        if proposal.queue_id == target.pk:
            raise InvalidInput(fields={"queue": [_("The proposal is in this queue already.")]})
        level = proposal.policy_rule.required_authorization_level if proposal.policy_rule else 0
        gap = queue_staffing_gap(queue=target, authorization_level=level)
        if gap:
            raise InvalidInput(
                fields={"queue": [_("Nobody could decide it there: %(why)s.") % {"why": gap}]}, code="unstaffed"
            )
        previous = proposal.queue.slug if proposal.queue else None
        if proposal.claim_holder_id() is not None:
            _claim_end(proposal, actor=actor, reason="reassigned", note=note)
        proposal.queue = target
        proposal.save(update_fields=["queue"])
        audit_record(
            action=ProposalEvents.REASSIGNED,
            actor=actor,
            obj=proposal,
            data={"from_queue": previous, "to_queue": target.slug, "note": note.strip()},
        )
    return proposal
