"""The audit actions the escalations app writes, declared once for the writer and every reader."""


class EscalationEvents:
    EXPIRED = "proposal.expired"
    REMINDED = "proposal.reminded"
    REVIEW_ESCALATED = "review.escalated"
    REVIEW_SLA_BREACHED = "review.sla_breached"
