"""The audit actions the proposals app writes, declared once for the writer and every reader."""


class ProposalEvents:
    SUBMITTED = "proposal.submitted"
    DECIDED = "proposal.decided"
    CANCELLED = "proposal.cancelled"
    EXECUTED = "proposal.executed"
    ESCALATED = "proposal.escalated"
    DECISION_RECORDED = "decision.recorded"
    NOT_SAMPLED = "review.not_sampled"
    SAMPLED = "review.sampled"
    REVIEW_CONFIRMED = "review.confirmed"
    REVIEW_FLAGGED = "review.flagged"
    PAYLOADS_PURGED = "proposal.payloads_purged"
