"""The audit actions the review app writes, declared once for the writer and every reader."""


class ReviewEvents:
    VIEWED = "proposal.viewed"
