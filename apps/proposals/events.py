"""The audit actions of the proposals app's reviewer workflow, declared once (STYLE.md): the
services write them and every reader (reports, insights, the thread view) uses the constant."""


class ProposalEvents:
    SUBMITTED = "proposal.submitted"
    DECIDED = "proposal.decided"
    DECISION_RECORDED = "decision.recorded"
    CHANGES_REQUESTED = "proposal.changes_requested"
    REVISED = "proposal.revised"
    CLAIMED = "proposal.claimed"
    CLAIM_RELEASED = "proposal.claim_released"
    REASSIGNED = "proposal.reassigned"
    ESCALATED = "proposal.escalated"
    ESCALATED_UNSTAFFED = "proposal.escalated_unstaffed"
    BATCH_SIGNED = "signature.batch_signed"
