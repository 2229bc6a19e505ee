"""Writes of the proposals app: submission, decisions, cancellation, execution, post-action review.

Every state change locks the proposal row, checks the state under the lock, changes it
and records its audit event in the same transaction.

The writes of the proposals app, one module per concern; this package is their one entry point."""

from .claims import proposal_claim, proposal_claim_release, proposal_reassign
from .common import DEFAULT_QUEUE, Submission, ensure_may_decide, queue_for, signature_verify, sla_of
from .decisions import proposal_decide, proposal_decide_in_batch, signing_batch_start
from .escalation import proposal_escalate, proposal_next_escalation_queue, proposals_escalate_overdue
from .post_action import proposal_post_review, proposal_report_execution
from .submission import proposal_cancel, proposal_revise, proposal_submit

__all__ = [
    "DEFAULT_QUEUE",
    "Submission",
    "ensure_may_decide",
    "proposal_cancel",
    "proposal_claim",
    "proposal_claim_release",
    "proposal_decide",
    "proposal_decide_in_batch",
    "proposal_escalate",
    "proposal_next_escalation_queue",
    "proposal_post_review",
    "proposal_reassign",
    "proposal_report_execution",
    "proposal_revise",
    "proposal_submit",
    "proposals_escalate_overdue",
    "queue_for",
    "signature_verify",
    "signing_batch_start",
    "sla_of",
]
