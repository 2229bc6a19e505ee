"""The steps the proposals' services share: queues and SLAs, the signature check, who may decide, claims ending, compare-and-set."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import Queue
from apps.accounts.selectors import (
    REVIEW_QUEUE_PERMISSION,
    user_may_decide,
    user_sees_everything,
)
from apps.accounts.services import queue_get_or_create
from apps.accounts.signatures import signature_check
from apps.agents.models import Agent
from apps.audit.services import audit_record
from apps.notifications.security import outbox_enqueue_signing_locked
from hitlplatform.errors import Conflict, Forbidden, NotFound

from ..events import ProposalEvents
from ..models import (
    IdempotencyRecord,
    Proposal,
)
from ..selectors import (
    proposal_for_reviewer,
    proposal_get_for,
)


@dataclass(frozen=True)
class Submission:
    proposal: Proposal
    created: bool  # False when an Idempotency-Key replayed an earlier submission


DEFAULT_QUEUE = "default"


def queue_for(slug: str) -> Queue:
    """The queue with its business hours and channels, which the SLA clock and the notifications
    read next: one query instead of three."""
    try:
        return Queue.objects.select_related("calendar", "channel").get(slug=slug)
    except Queue.DoesNotExist:
        return queue_get_or_create(slug=slug)


def sla_of(proposal: Proposal) -> timedelta:
    rule = proposal.policy_rule
    if rule is not None and rule.sla:
        return rule.sla
    return timedelta(seconds=settings.PROPOSAL_DEFAULT_SLA_SECONDS)


def _printed_name(user) -> str:
    return user.get_full_name() or user.get_username()


def _finalize(proposal: Proposal, *, status: str) -> None:
    proposal.status = status
    proposal.decided_at = timezone.now()
    # A final proposal has nothing left to work on: any claim ends with it.
    proposal.claimed_by, proposal.claim_expires_at = None, None
    proposal.save(
        update_fields=[
            "status",
            "decided_at",
            "final_payload",
            "approved_by",
            "instructions",
            "claimed_by",
            "claim_expires_at",
        ]
    )


def _compare_and_set(*, proposal_ids: list[int], expected: dict, changes: dict) -> set[int]:
    """The conditional update of many rows: the ids whose row is still in the `expected` state,
    locked, then given the `changes`; per row the answer of a conditional update: who won."""
    won = set(Proposal.objects.select_for_update().filter(pk__in=proposal_ids, **expected).values_list("pk", flat=True))
    if won:
        Proposal.objects.filter(pk__in=won).update(**changes)
    return won


def _claim_end(proposal: Proposal, *, actor, reason: str, note: str = "") -> None:
    claimant = proposal.claimed_by_id
    Proposal.objects.filter(pk=proposal.pk).update(claimed_by=None, claim_expires_at=None)
    proposal.claimed_by, proposal.claim_expires_at = None, None
    audit_record(
        action=ProposalEvents.CLAIM_RELEASED,
        actor=actor,
        obj=proposal,
        data={"claimant_id": claimant, "reason": reason, "note": note.strip()},
    )


def _claimed_message(proposal: Proposal) -> str:
    name = proposal.claimed_by.get_full_name() or proposal.claimed_by.get_username()
    return _("%(name)s is working on this proposal until %(time)s UTC.") % {
        "name": name,
        "time": proposal.claim_expires_at.strftime("%H:%M"),
    }


def _ensure_sees(*, proposal: Proposal, user) -> None:
    """NotFound outside the user's scope: their queues, or everything for compliance officers and admins."""
    if user_sees_everything(user):
        return
    if proposal.queue is None or not user.has_perm(REVIEW_QUEUE_PERMISSION, proposal.queue):
        raise NotFound(_("No such proposal."))


def _idempotent_replay(*, agent: Agent, key: str, request_hash: str) -> Proposal | None:
    # Most keys are new: the first read fetches two columns; a replay then reads the proposal with
    # everything its response shows (two queries, not one per relation).
    record = IdempotencyRecord.objects.filter(agent=agent, key=key).values_list("request_hash", "proposal_id")[:1]
    if not record:
        return None
    recorded_hash, proposal_id = record[0]
    if recorded_hash != request_hash:
        raise Conflict(_("This Idempotency-Key was used with a different request body."), code="idempotency_key_reused")
    return proposal_get_for(principal=agent, proposal_id=proposal_id)


def signature_verify(*, user, password: str, username: str | None = None):
    """21 CFR 11.200: a signature is the signer's password, re-entered (and the username when asked);
    11.300(d): failed attempts are counted, audited and lock signing (apps/accounts/signatures.py)."""
    return signature_check(user=user, password=password, username=username, on_locked=outbox_enqueue_signing_locked)


def ensure_may_decide(*, proposal: Proposal, reviewer) -> None:
    """Raises NotFound outside the reviewer's scope, Forbidden without the right, Conflict on state."""
    proposal_for_reviewer(proposal=proposal, user=reviewer)
    if not user_may_decide(reviewer):
        raise Forbidden(_("Your role does not allow deciding proposals."))
    if proposal.agent.owner_id == reviewer.pk:
        raise Forbidden(_("You may not decide a proposal of an agent you own."))
    rule = proposal.policy_rule
    if rule is not None and rule.required_authorization_level:
        profile = getattr(reviewer, "reviewer_profile", None)
        if profile is None or profile.authorization_level < rule.required_authorization_level:
            raise Forbidden(
                _("This proposal needs authorization level %(level)s.") % {"level": rule.required_authorization_level}
            )
        if not profile.licence_valid_on(timezone.localdate()):
            raise Forbidden(_("Your licence has expired."))
    if proposal.is_final:
        raise Conflict(
            _("The proposal is already %(status)s.") % {"status": proposal.get_status_display()}, code="final"
        )
    holder = proposal.claim_holder_id()
    if holder is not None and holder != reviewer.pk:
        raise Conflict(_claimed_message(proposal), code="claimed")
