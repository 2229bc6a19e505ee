"""Writes of the proposals app: submission, decisions, cancellation, execution, post-action review.

Every state change locks the proposal row, checks the state under the lock, changes it
and records its audit event in the same transaction.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.calendars import sla_deadlines
from apps.accounts.models import Queue, Role
from apps.accounts.selectors import (
    REVIEW_QUEUE_PERMISSION,
    queue_staffing_gap,
    user_has_role,
    user_may_decide,
    user_sees_everything,
)
from apps.accounts.services import queue_get_or_create
from apps.accounts.signatures import signature_check
from apps.agents.models import Agent
from apps.audit.services import audit_record, audit_record_many
from apps.notifications.security import outbox_enqueue_signing_locked
from apps.notifications.services import outbox_enqueue_proposal_event, outbox_enqueue_unstaffed_alert
from apps.policies.routing import PRE_APPROVAL, route, routing_input
from apps.policies.sampling import is_sampled, sampling_draw
from apps.policies.selectors import policy_active
from hitlplatform.errors import Conflict, Forbidden, InvalidInput, NotFound
from hitlplatform.wakeups import wakeup_send

from .events import ProposalEvents
from .fast_paths import proposal_mark_new
from .lock_objects import lock_proposal
from .models import (
    SIGNATURE_MEANINGS,
    ApprovedBy,
    Decision,
    IdempotencyRecord,
    PostActionReview,
    Proposal,
    ReviewState,
    SigningBatch,
    Status,
    Verdict,
)
from .payloads import payload_too_large, payload_version
from .selectors import (
    proposal_approvals_of_current_version,
    proposal_for_reviewer,
    proposal_get_for,
    rule_escalation_queues,
)

DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class Submission:
    proposal: Proposal
    created: bool  # False when an Idempotency-Key replayed an earlier submission


def proposal_submit(*, agent: Agent, fields: dict, idempotency_key: str = "", request_hash: str = "") -> Submission:
    if idempotency_key:
        replay = _idempotent_replay(agent=agent, key=idempotency_key, request_hash=request_hash)
        if replay is not None:
            return Submission(proposal=replay, created=False)
    try:
        with transaction.atomic():
            proposal = _proposal_create(
                agent=agent, fields=fields, idempotency_key=idempotency_key, request_hash=request_hash
            )
    except IntegrityError:
        # A concurrent retry with the same key won the race; answer as it did.
        replay = _idempotent_replay(agent=agent, key=idempotency_key, request_hash=request_hash)
        if replay is None:
            raise
        return Submission(proposal=replay, created=False)
    return Submission(proposal=proposal, created=True)


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


def proposal_cancel(*, proposal_id: int, agent: Agent, reason: str = "") -> Proposal:
    with transaction.atomic():
        proposal = lock_proposal(proposal_id)
        if proposal.agent_id != agent.pk:
            raise Forbidden()
        if proposal.status != Status.PENDING:
            raise Conflict(_("Only a pending proposal can be cancelled."), code="not_pending")
        _finalize(proposal, status=Status.CANCELLED)
        audit_record(action=ProposalEvents.CANCELLED, actor=agent, obj=proposal, data={"reason": reason})
        wakeup_send(agent_id=agent.pk, proposal_id=proposal.pk)  # no integrator event, but waiters
    return proposal


def proposal_revise(
    *, proposal_id: int, agent: Agent, fields: dict, idempotency_key: str = "", request_hash: str = ""
) -> Submission:
    """The agent's revision of a proposal a reviewer sent back (DESIGN.md, Revisions).

    A new proposal chained to the previous one and routed afresh by the active policy: approvals
    never carry over. NotFound for another agent's proposal; Conflict when it is not
    `changes_requested`, was revised already, or the chain is at PROPOSAL_MAX_REVISIONS.
    """
    if idempotency_key:
        replay = _idempotent_replay(agent=agent, key=idempotency_key, request_hash=request_hash)
        if replay is not None:
            return Submission(proposal=replay, created=False)
    with transaction.atomic():
        previous = lock_proposal(proposal_id)
        if previous.agent_id != agent.pk:
            raise NotFound(_("No such proposal."))
        if previous.status != Status.CHANGES_REQUESTED:
            raise Conflict(
                _("Only a proposal whose changes were requested can be revised; this one is %(status)s.")
                % {"status": previous.get_status_display()},
                code="not_changes_requested",
            )
        if previous.revised_by_id is not None:
            raise Conflict(
                _("This proposal was revised already, by #%(id)s.") % {"id": previous.revised_by_id},
                code="already_revised",
            )
        if previous.revision + 1 > settings.PROPOSAL_MAX_REVISIONS:
            raise Conflict(
                _("At most %(count)s revisions of a proposal are allowed.")
                % {"count": settings.PROPOSAL_MAX_REVISIONS},
                code="too_many_revisions",
            )
        revision = _proposal_create(
            agent=agent,
            fields=fields,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            revision_of=previous,
        )
        Proposal.objects.filter(pk=previous.pk).update(revised_by=revision)
        previous.revised_by = revision
        audit_record(
            action=ProposalEvents.REVISED,
            actor=agent,
            obj=previous,
            data={"revised_by": revision.pk, "revision": revision.revision, "status": revision.status},
        )
    return Submission(proposal=revision, created=True)


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


def _ensure_sees(*, proposal: Proposal, user) -> None:
    """NotFound outside the user's scope: their queues, or everything for compliance officers and admins."""
    if user_sees_everything(user):
        return
    if proposal.queue is None or not user.has_perm(REVIEW_QUEUE_PERMISSION, proposal.queue):
        raise NotFound(_("No such proposal."))


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


def _proposal_create(
    *, agent: Agent, fields: dict, idempotency_key: str, request_hash: str, revision_of: Proposal | None = None
) -> Proposal:
    # The agent row was read by authentication moments ago in this request: its suspension
    # flag is that fresh, and a suspended agent's pending proposals cannot be approved anyway.
    if agent.is_suspended:
        raise Forbidden(_("The agent is suspended; it may not submit proposals."), code="agent_suspended")
    policy = policy_active()
    decision = route(policy.rules, routing_input(agent=agent.name, fields=fields))
    now = timezone.now()
    rule = decision.rule
    proposal = Proposal(
        agent=agent,
        payload_version=payload_version(fields["payload"]),
        mode=decision.mode,
        routing=decision.explanation,
        policy_version=policy.version,
        policy_rule=policy.rule_rows[rule.pk] if rule else None,
        approvals_required=rule.approvals_required if rule else 1,
        created_at=now,
        **fields,
    )
    if revision_of is not None:
        proposal.revision_of = revision_of
        proposal.revision = revision_of.revision + 1
        proposal.revision_root_id = revision_of.revision_root_id or revision_of.pk
    if decision.mode == PRE_APPROVAL:
        proposal.status = Status.PENDING
        proposal.queue = queue_for(rule.queue if rule else DEFAULT_QUEUE)
        proposal.remind_at, proposal.sla_due_at = sla_deadlines(queue=proposal.queue, start=now, sla=sla_of(proposal))
    else:
        proposal.status = Status.APPROVED
        proposal.approved_by = ApprovedBy.POLICY
        proposal.final_payload = proposal.payload
        proposal.decided_at = now
    proposal.save()
    if idempotency_key:
        IdempotencyRecord.objects.create(agent=agent, key=idempotency_key, request_hash=request_hash, proposal=proposal)
    if proposal.status == Status.PENDING:
        outbox_enqueue_proposal_event(proposal=proposal, event_type="proposal.created")
    # The audit append comes last: it holds the chain head until COMMIT, and every submission
    # waits for that lock, so nothing else should run while it is held.
    audit_record(
        action=ProposalEvents.SUBMITTED,
        actor=agent,
        obj=proposal,
        data={
            "action_type": proposal.action_type,
            "payload_version": proposal.payload_version,
            "confidence": proposal.confidence,
            "irreversible": proposal.irreversible,
            "blast_radius": proposal.blast_radius,
            "compliance_exposure": proposal.compliance_exposure,
            "external_id": proposal.external_id,
            "mode": proposal.mode,
            "status": proposal.status,
            "policy_version": policy.version.number if policy.version else None,
            "rule": rule.name if rule else None,
            "reason": decision.explanation["reason"],
            "queue": proposal.queue.slug if proposal.queue else None,
            **({"revision_of": revision_of.pk, "revision": proposal.revision} if revision_of is not None else {}),
        },
    )
    proposal_mark_new(proposal)
    return proposal


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


def _compare_and_set(*, proposal_ids: list[int], expected: dict, changes: dict) -> set[int]:
    """The conditional update of many rows: the ids whose row is still in the `expected` state,
    locked, then given the `changes`; per row the answer of a conditional update: who won."""
    won = set(Proposal.objects.select_for_update().filter(pk__in=proposal_ids, **expected).values_list("pk", flat=True))
    if won:
        Proposal.objects.filter(pk__in=won).update(**changes)
    return won


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


def sampling_key_id() -> str:
    """Names the sampling key in the audit trail without revealing it."""
    return hashlib.sha256(b"hitl-sampling-key-id:" + settings.SAMPLING_KEY.encode()).hexdigest()[:16]


def _ensure_modification_valid(proposal: Proposal, payload) -> None:
    if not isinstance(payload, dict):
        raise InvalidInput(fields={"payload": [_("A modification needs the changed payload as an object.")]})
    if payload_too_large(payload):
        raise InvalidInput(fields={"payload": [_("The payload is larger than the limit.")]})
    if payload_version(payload) == proposal.payload_version:
        raise InvalidInput(fields={"payload": [_("The payload is unchanged; approve it instead.")]})


def _next_escalation_queue(proposal: Proposal) -> str | None:
    tiers = rule_escalation_queues(proposal.policy_rule)
    return tiers[proposal.escalation_level] if proposal.escalation_level < len(tiers) else None


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
