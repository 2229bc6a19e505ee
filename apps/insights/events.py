"""The audit actions the insights app writes, declared once for the writer and every reader."""


class InsightEvents:
    FIGURES_STORED = "insights.figures_stored"
    CORRECTIONS_EXPORTED = "insights.corrections_exported"
    QA_ASSIGNED = "qa.assigned"
    QA_REVIEWED = "qa.reviewed"
    RECOMMENDATION_CREATED = "recommendation.created"
    RECOMMENDATION_ACCEPTED = "recommendation.accepted"
    RECOMMENDATION_ACTIVATED = "recommendation.activated"
    RECOMMENDATION_DISMISSED = "recommendation.dismissed"
    RECOMMENDATION_SUPERSEDED = "recommendation.superseded"
