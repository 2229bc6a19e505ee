"""Reads of the recommendations inbox and of the blind QA re-reviews."""

from django.db.models import (
    Count,
    Q,
    QuerySet,
)
from django.utils.translation import gettext as _

from apps.accounts.selectors import queues_reviewable_by
from apps.proposals.figures import rate
from hitlplatform.errors import NotFound

from ..models import QaAssignment, Recommendation
from .window import Window


def recommendations_list(*, state: str | None = None) -> QuerySet[Recommendation]:
    recommendations = Recommendation.objects.select_related("policy_version", "draft_version", "decided_by")
    return recommendations.filter(state=state) if state else recommendations


def recommendation_get(*, recommendation_id: int) -> Recommendation:
    recommendation = recommendations_list().filter(pk=recommendation_id).first()
    if recommendation is None:
        raise NotFound(_("No such recommendation."))
    return recommendation


def qa_assignments_open_for(user) -> QuerySet[QaAssignment]:
    """What a senior reviewer may take: open, for them or for anyone, in a queue they review, not their
    own decision or agent."""
    return (
        QaAssignment.objects.select_related("proposal", "proposal__agent")
        .filter(state=QaAssignment.State.OPEN)
        .filter(proposal__queue__in=queues_reviewable_by(user))
        .filter(Q(assigned_to__isnull=True) | Q(assigned_to=user))
        .exclude(first_reviewer=user)
        .exclude(proposal__agent__owner=user)
    )


def qa_assignment_get_for(*, assignment_id: int, user) -> QaAssignment:
    assignment = qa_assignments_open_for(user).filter(pk=assignment_id).first()
    if assignment is None:
        raise NotFound(_("No such QA assignment waiting for you."))
    return assignment


def qa_assignments_list() -> QuerySet[QaAssignment]:
    return QaAssignment.objects.select_related(
        "proposal", "proposal__agent", "decision", "first_reviewer", "second_reviewer", "assigned_to"
    ).order_by("-created_at", "-id")


def qa_agreement(*, window: Window) -> dict:
    """Agreement of blind second reviews with the first verdict, per first reviewer and per action type."""
    done = QaAssignment.objects.filter(
        state=QaAssignment.State.DONE, reviewed_at__gte=window.start, reviewed_at__lte=window.end
    )

    def by(*fields):
        rows = done.values(*fields).annotate(reviews=Count("id"), agreed=Count("id", filter=Q(agrees=True)))
        return [row | {"agreement_rate": rate(row["agreed"], row["reviews"])} for row in rows.order_by(*fields)]

    return {
        "window_days": window.days,
        "by_reviewer": [
            {"reviewer": row.pop("first_reviewer__username")} | row for row in by("first_reviewer__username")
        ],
        "by_action_type": [
            {"action_type": row.pop("proposal__action_type")} | row for row in by("proposal__action_type")
        ],
    }
