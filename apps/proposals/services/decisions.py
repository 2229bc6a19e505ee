"""Signed decisions: one at a time or in a batch signed once, and the state machine they drive."""

from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from apps.notifications.services import outbox_enqueue_proposal_event
from hitlplatform.errors import Conflict, InvalidInput

from ..events import ProposalEvents
from ..lock_objects import lock_proposal
from ..models import (
    SIGNATURE_MEANINGS,
    ApprovedBy,
    Decision,
    Proposal,
    SigningBatch,
    Status,
    Verdict,
)
from ..payloads import payload_too_large, payload_version
from ..selectors import (
    proposal_approvals_of_current_version,
)
from .common import _claim_end, _finalize, _printed_name, ensure_may_decide, signature_verify
from .escalation import _next_escalation_queue, proposal_escalate


def proposal_decide(
    *,
    proposal_id: int,
    reviewer,
    verdict: str,
    rationale: str,
    password: str,
    payload=None,
    payload_version_seen: str | None = None,
    username: str | None = None,
    instructions: str = "",
) -> Decision:
    # The signature is checked before any lock: password hashing is slow on purpose.
    signer = signature_verify(user=reviewer, password=password, username=username)
    return _decide_signed(
        proposal_id=proposal_id,
        signer=signer,
        verdict=verdict,
        rationale=rationale,
        payload=payload,
        payload_version_seen=payload_version_seen,
        instructions=instructions,
        batch=None,
    )


def signing_batch_start(
    *, reviewer, password: str, verdict: str, rationale: str, size: int, username: str | None = None
) -> SigningBatch:
    """21 CFR 11.200(a)(1)(i): a series of signings in one continuous session, the password entered
    once. The batch row (audited) is the proof that it was; `proposal_decide_in_batch` needs it."""
    signer = signature_verify(user=reviewer, password=password, username=username)
    with transaction.atomic():
        batch = SigningBatch.objects.create(signer=signer, verdict=verdict, rationale=rationale, size=size)
        audit_record(
            action=ProposalEvents.BATCH_SIGNED,
            actor=signer,
            obj=batch,
            data={"batch": batch.pk, "verdict": verdict, "rationale": rationale, "size": size},
        )
    return batch


def proposal_decide_in_batch(*, proposal_id: int, batch: SigningBatch) -> Decision:
    """One decision of a signing batch, all or nothing for this proposal (its own transaction)."""
    return _decide_signed(
        proposal_id=proposal_id,
        signer=batch.signer,
        verdict=batch.verdict,
        rationale=batch.rationale,
        payload=None,
        payload_version_seen=None,
        instructions="",
        batch=batch,
    )


def _decide_signed(
    *, proposal_id: int, signer, verdict, rationale, payload, payload_version_seen, instructions, batch
) -> Decision:
    if verdict == Verdict.REQUEST_CHANGES and not (instructions or "").strip():
        raise InvalidInput(
            _("Requesting changes needs instructions for the agent."),
            fields={"instructions": [_("Say what the agent should change.")]},
        )
    with transaction.atomic():
        proposal = lock_proposal(proposal_id)
        ensure_may_decide(proposal=proposal, reviewer=signer)
        if payload_version_seen and payload_version_seen != proposal.payload_version:
            raise Conflict(_("The payload changed since you opened it; review the new version."), code="stale_payload")
        decision = _decision_record(
            proposal=proposal,
            reviewer=signer,
            verdict=verdict,
            rationale=rationale,
            payload=payload,
            instructions=(instructions or "").strip() if verdict == Verdict.REQUEST_CHANGES else "",
            batch=batch,
        )
    return decision


def _decision_record(
    *, proposal: Proposal, reviewer, verdict: str, rationale: str, payload, instructions: str = "", batch=None
) -> Decision:
    if verdict in (Verdict.APPROVE, Verdict.MODIFY) and proposal.agent.is_suspended:
        raise Conflict(
            _("The agent is suspended; its proposals cannot be approved until it is resumed."), code="agent_suspended"
        )
    if verdict == Verdict.APPROVE and reviewer.pk in proposal_approvals_of_current_version(proposal):
        raise Conflict(
            _("You already approved this version; another reviewer must approve it."), code="already_approved"
        )
    if verdict == Verdict.MODIFY:
        _ensure_modification_valid(proposal, payload)
    if verdict == Verdict.ESCALATE and _next_escalation_queue(proposal) is None:
        raise Conflict(_("There is no further escalation tier for this proposal."), code="no_escalation_tier")

    decision = Decision.objects.create(
        proposal=proposal,
        reviewer=reviewer,
        verdict=verdict,
        rationale=rationale,
        payload=payload if verdict == Verdict.MODIFY else None,
        payload_version=payload_version(payload) if verdict == Verdict.MODIFY else proposal.payload_version,
        escalation_level=proposal.escalation_level,
        signer_name=_printed_name(reviewer),
        signature_meaning=SIGNATURE_MEANINGS[verdict],
        instructions=instructions,
        batch=batch,
    )
    extra = {}
    if instructions:
        extra["instructions"] = instructions
    if batch is not None:
        extra["batch"] = batch.pk
    audit_record(
        action=ProposalEvents.DECISION_RECORDED,
        actor=reviewer,
        obj=proposal,
        data={
            "decision_id": decision.pk,
            "verdict": verdict,
            "rationale": rationale,
            "payload_version_seen": proposal.payload_version,
            "payload_version": decision.payload_version,
            "signature": {
                "name": decision.signer_name,
                "username": reviewer.get_username(),
                "meaning": decision.signature_meaning,
                "signed_at": decision.signed_at.isoformat(),
            },
            **extra,
        },
    )
    if proposal.claim_holder_id() == reviewer.pk:
        _claim_end(proposal, actor=reviewer, reason="decided")
    _apply(proposal, decision)
    return decision


def _apply(proposal: Proposal, decision: Decision) -> None:
    """The state machine of a pending proposal under a decision."""
    verdict = decision.verdict
    if verdict == Verdict.REQUEST_CHANGES:
        proposal.instructions = decision.instructions
        _finalize(proposal, status=Status.CHANGES_REQUESTED)
        audit_record(
            action=ProposalEvents.CHANGES_REQUESTED,
            actor=decision.reviewer,
            obj=proposal,
            data={"status": proposal.status, "instructions": proposal.instructions, "revision": proposal.revision},
        )
        outbox_enqueue_proposal_event(proposal=proposal, event_type=ProposalEvents.CHANGES_REQUESTED)
        return
    if verdict == Verdict.REJECT:
        _finalize(proposal, status=Status.REJECTED)
    elif verdict == Verdict.ESCALATE:
        proposal_escalate(proposal=proposal, actor=decision.reviewer, reason=decision.rationale)
        return
    else:
        if verdict == Verdict.MODIFY:
            # A modification is the first approval of a new payload version: the count starts again.
            proposal.revised_payload = decision.payload
            proposal.payload_version = decision.payload_version
            proposal.save(update_fields=["revised_payload", "payload_version"])
        approvals = len(proposal_approvals_of_current_version(proposal))
        if approvals < proposal.approvals_required:
            return
        proposal.final_payload = proposal.current_payload
        proposal.approved_by = ApprovedBy.HUMAN
        _finalize(proposal, status=Status.APPROVED)
    audit_record(
        action=ProposalEvents.DECIDED,
        actor=decision.reviewer,
        obj=proposal,
        data={
            "status": proposal.status,
            "approved_by": proposal.approved_by,
            "payload_version": proposal.payload_version,
        },
    )
    outbox_enqueue_proposal_event(proposal=proposal, event_type="proposal.decided")


def _ensure_modification_valid(proposal: Proposal, payload) -> None:
    if not isinstance(payload, dict):
        raise InvalidInput(fields={"payload": [_("A modification needs the changed payload as an object.")]})
    if payload_too_large(payload):
        raise InvalidInput(fields={"payload": [_("The payload is larger than the limit.")]})
    if payload_version(payload) == proposal.payload_version:
        raise InvalidInput(fields={"payload": [_("The payload is unchanged; approve it instead.")]})
