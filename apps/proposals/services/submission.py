"""Submissions and revisions (routed afresh by the active policy), and an agent's cancel."""

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.calendars import sla_deadlines
from apps.agents.models import Agent
from apps.audit.services import audit_record
from apps.notifications.services import outbox_enqueue_proposal_event
from apps.policies.routing import PRE_APPROVAL, route, routing_input
from apps.policies.selectors import policy_active
from hitlplatform.errors import Conflict, Forbidden, NotFound
from hitlplatform.wakeups import wakeup_send

from ..events import ProposalEvents
from ..fast_paths import proposal_mark_new
from ..lock_objects import lock_proposal
from ..models import (
    ApprovedBy,
    IdempotencyRecord,
    Proposal,
    Status,
)
from ..payloads import payload_version
from .common import DEFAULT_QUEUE, Submission, _finalize, _idempotent_replay, queue_for, sla_of


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
