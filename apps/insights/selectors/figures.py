"""Figures per agent x action type x rule and per reviewer: one GROUP BY of conditional counts; the shared rates and percentiles come from apps.proposals.figures."""

from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Avg,
    BigIntegerField,
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, Least

from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.proposals import figures
from apps.proposals.figures import rate
from apps.proposals.models import Decision, Proposal, ReviewState, Status, Verdict
from apps.review.events import ReviewEvents

from ..models import FigureSet
from .window import Window

DECILES = 10


PERCENTILES = figures.PERCENTILES


VERDICTS = (Verdict.APPROVE, Verdict.MODIFY, Verdict.REJECT)  # an escalation is no verdict on the action


VIEWED_ACTION = ReviewEvents.VIEWED


DECISION_FIGURES = ("decisions", "quick_decisions")


PROPOSAL_OBJECT_TYPE = "proposals.proposal"


# The outcome filters are the shared figure definitions; approved-as-proposed is what the
# calibration and the graduated-autonomy recommendations weigh (a modification means the agent erred).
APPROVED = figures.HUMAN_APPROVED


APPROVED_AS_PROPOSED = figures.APPROVED_AS_PROPOSED


MODIFIED = figures.MODIFIED


REJECTED = figures.REJECTED


CHANGES_REQUESTED = figures.CHANGES_REQUESTED


REVISION = figures.REVISION


EXPIRED = figures.EXPIRED


HUMAN_VERDICT = figures.HUMAN_VERDICT


CLOSED = figures.CLOSED


HUMAN_REVIEWED = figures.PRE_APPROVAL | Q(
    post_review__state__in=(ReviewState.QUEUED, ReviewState.CONFIRMED, ReviewState.FLAGGED)
)


POST_REVIEWED = Q(post_review__state__in=(ReviewState.CONFIRMED, ReviewState.FLAGGED))


FLAGGED = Q(post_review__state=ReviewState.FLAGGED)


def figures_for(*, window: Window, agent: Agent | None = None, action_type: str | None = None) -> list[dict]:
    """One row per agent x action type x rule with every figure of the window."""
    with _aggregating():
        return _figures_for(window=window, agent=agent, action_type=action_type)


def figures_stored(*, days: int) -> tuple[datetime | None, list[dict]]:
    """The figures of the latest nightly run for a window of that many days (none: (None, []))."""
    latest = FigureSet.objects.filter(window_days=days).order_by("-computed_at").values_list("computed_at", flat=True)
    computed_at = latest.first()
    if computed_at is None:
        return None, []
    figures = FigureSet.objects.filter(window_days=days, computed_at=computed_at).values_list("figures", flat=True)
    return computed_at, sorted(figures, key=lambda row: (row["agent"], row["action_type"], row["rule"] or ""))


def reviewer_figures_for(*, window: Window) -> list[dict]:
    """Per reviewer: verdicts, approvals, quick decisions; a rubber-stamp flag over a large sample."""
    with _aggregating():
        return _reviewer_figures_for(window=window)


@contextmanager
def _aggregating():
    """On PostgreSQL, without JIT (compiling the dozens of FILTER expressions costs more than it
    saves) and with room to sort in memory.

    (SQLite is left alone: its transactions here take the write lock at BEGIN.)
    """
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SET LOCAL work_mem = '64MB'")  # per-group sorts of the percentiles stay in memory
        yield


def _figures_for(*, window: Window, agent: Agent | None, action_type: str | None) -> list[dict]:
    proposals = _proposals_in(window, agent=agent, action_type=action_type)
    groups = {_key(row): row for row in _proposal_aggregates(proposals, since=window.start, now=window.end)}
    _add_percentiles(proposals, groups)
    _add_calibration(proposals, groups)
    for row in _decision_aggregates(window, agent=agent, action_type=action_type):
        group = groups.get(_key(row))
        if group is not None:
            group.update({name: row[name] for name in DECISION_FIGURES})
    return [_figures_of(group, window) for group in sorted(groups.values(), key=_sort_key)]


def _reviewer_figures_for(*, window: Window) -> list[dict]:
    rows = (
        Decision.objects.filter(signed_at__gte=window.start, signed_at__lte=window.end, verdict__in=VERDICTS)
        .values("reviewer_id", "reviewer__username")
        .annotate(
            decisions=Count("id"),
            approvals=Count("id", filter=Q(verdict=Verdict.APPROVE)),
            quick_decisions=Count("id", filter=_quick_decision()),
        )
        .order_by("reviewer__username")
    )
    reviewers = []
    for row in rows:
        approval_rate = rate(row["approvals"], row["decisions"])
        reviewers.append(
            {
                "reviewer_id": row["reviewer_id"],
                "reviewer": row["reviewer__username"],
                "decisions": row["decisions"],
                "approvals": row["approvals"],
                "approval_rate": approval_rate,
                "quick_decisions": row["quick_decisions"],
                "quick_decision_rate": rate(row["quick_decisions"], row["decisions"]),
                "rubber_stamp": row["decisions"] >= settings.INSIGHTS_RUBBER_STAMP_MIN_SAMPLE
                and approval_rate > settings.INSIGHTS_RUBBER_STAMP_APPROVAL_RATE,
            }
        )
    return reviewers


def _proposals_in(window: Window, *, agent=None, action_type=None) -> QuerySet[Proposal]:
    proposals = Proposal.objects.filter(created_at__gte=window.start, created_at__lte=window.end)
    if agent is not None:
        proposals = proposals.filter(agent=agent)
    if action_type:
        proposals = proposals.filter(action_type=action_type)
    return proposals


def _proposal_aggregates(proposals: QuerySet[Proposal], *, since: datetime, now: datetime):
    confidence = F("confidence")
    squared_error = Case(
        When(APPROVED_AS_PROPOSED, then=(Value(1.0) - confidence) * (Value(1.0) - confidence)),
        default=confidence * confidence,
        output_field=FloatField(),
    )
    counts = {
        "volume": Count("id"),
        "human_reviewed": Count("id", filter=HUMAN_REVIEWED),
        "closed": Count("id", filter=CLOSED),
        "verdicts": Count("id", filter=HUMAN_VERDICT),
        "approved": Count("id", filter=APPROVED),
        "modified": Count("id", filter=MODIFIED),
        "rejected": Count("id", filter=REJECTED),
        "changes_requested": Count("id", filter=CHANGES_REQUESTED),
        "revisions": Count("id", filter=REVISION),
        "revisions_approved": Count("id", filter=REVISION & APPROVED),  # MODIFIED is within APPROVED
        "expired": Count("id", filter=EXPIRED),
        "sla_total": Count(
            "id", filter=figures.PRE_APPROVAL & Q(sla_due_at__isnull=False) & ~Q(status=Status.CANCELLED)
        ),
        "sla_breached": Count("id", filter=_sla_breached(now)),
        "post_reviewed": Count("id", filter=POST_REVIEWED),
        "flagged": Count("id", filter=FLAGGED),
        "brier_score": Avg(squared_error, filter=HUMAN_VERDICT),
        "four_eyes_items": Count("id", filter=_four_eyes(since)),
        "four_eyes_disagreed": Count("id", filter=_four_eyes_disagreement(since)),
    }
    return (
        proposals.values("agent_id", "agent__name", "action_type", rule_name=F("policy_rule__name"))
        .annotate(**counts)
        .order_by()
    )


def _add_percentiles(proposals: QuerySet[Proposal], groups: dict) -> None:
    """Time to decision p50 and p95 per group (`figures.time_to_decision_percentiles`)."""
    found = figures.time_to_decision_percentiles(
        proposals, fractions=tuple(PERCENTILES.values()), group_by=("agent_id", "action_type", "policy_rule__name")
    )
    for key, seconds in found.items():
        groups[key].update(
            {f"time_to_decision_{name}": value for name, value in zip(PERCENTILES, seconds, strict=True)}
        )


def _add_calibration(proposals: QuerySet[Proposal], groups: dict) -> None:
    """Verdicts and approvals per confidence decile: one narrow GROUP BY over the human verdicts."""
    decile = Least(Floor(F("confidence") * DECILES), Value(DECILES - 1), output_field=IntegerField())
    rows = (
        proposals.filter(HUMAN_VERDICT)
        .values("agent_id", "action_type", rule_name=F("policy_rule__name"), decile=decile)
        .annotate(verdicts=Count("id"), approved=Count("id", filter=APPROVED_AS_PROPOSED))
        .order_by()
    )
    for group in groups.values():
        group["calibration"] = {}
    for row in rows:
        groups[_key(row)]["calibration"][int(row["decile"])] = (row["verdicts"], row["approved"])


def _decision_aggregates(window: Window, *, agent=None, action_type=None):
    decisions = Decision.objects.filter(
        proposal__created_at__gte=window.start, proposal__created_at__lte=window.end, verdict__in=VERDICTS
    )
    if agent is not None:
        decisions = decisions.filter(proposal__agent=agent)
    if action_type:
        decisions = decisions.filter(proposal__action_type=action_type)
    return (
        decisions.values(
            agent_id=F("proposal__agent_id"),
            action_type=F("proposal__action_type"),
            rule_name=F("proposal__policy_rule__name"),
        )
        .annotate(
            decisions=Count("id"),
            quick_decisions=Count("id", filter=_quick_decision()),
        )
        .order_by()
    )


def _views_of_decided_proposal():
    """The reviewer's `proposal.viewed` events of the decision's proposal (audit_event_object_idx)."""
    return AuditEvent.objects.filter(
        action=VIEWED_ACTION,
        object_type=PROPOSAL_OBJECT_TYPE,
        object_id=Cast(OuterRef("proposal_id"), output_field=CharField()),
        actor_type="user",
        actor_id=Cast(OuterRef("reviewer_id"), output_field=CharField()),
    )


def _quick_decision() -> Q:
    """The reviewer's first look at the proposal came only a few seconds before signing.

    Cheapest test first: the proposal was viewed at all, then a view inside the last seconds
    (rare), and only then the probe for an earlier look.
    """
    seconds = timedelta(seconds=settings.INSIGHTS_RUBBER_STAMP_SECONDS)
    views = _views_of_decided_proposal()
    just_before = views.filter(timestamp__lte=OuterRef("signed_at"), timestamp__gte=OuterRef("signed_at") - seconds)
    long_before = views.filter(timestamp__lt=OuterRef("signed_at") - seconds)
    return Q(proposal_id__in=_viewed_proposal_ids()) & Q(Exists(just_before)) & ~Q(Exists(long_before))


def _viewed_proposal_ids():
    """Every proposal anybody viewed: an uncorrelated subquery, which PostgreSQL hashes once, so
    only the decisions of viewed proposals pay for the correlated probes."""
    return (
        AuditEvent.objects.filter(action=VIEWED_ACTION, object_type=PROPOSAL_OBJECT_TYPE)
        .annotate(viewed_id=Cast("object_id", output_field=BigIntegerField()))
        .values("viewed_id")
    )


def _sla_breached(now: datetime) -> Q:
    late = Q(decided_at__gt=F("sla_due_at")) | Q(status=Status.EXPIRED) | Q(status=Status.PENDING, sla_due_at__lt=now)
    return figures.PRE_APPROVAL & Q(sla_due_at__isnull=False) & ~Q(status=Status.CANCELLED) & late


def _four_eyes(since: datetime) -> Q:
    """An item needing two or more approvals on which two different reviewers gave a verdict.

    A pair (d1, d2) with d2's reviewer below d1's exists exactly when there are two reviewers.
    """
    return Q(approvals_required__gt=1) & Q(Exists(_verdict_pairs(since)))


def _four_eyes_disagreement(since: datetime) -> Q:
    """The reviewers agree when all their verdicts (escalations aside) are the same."""
    differ = Q(proposal__decisions__verdict__lt=F("verdict")) | Q(proposal__decisions__verdict__gt=F("verdict"))
    return Q(approvals_required__gt=1) & Q(Exists(_verdict_pairs(since, differ)))


def _verdict_pairs(since: datetime, condition: Q | None = None):
    # One filter() call, so every proposal__decisions condition is on the same second decision;
    # the window bound keeps PostgreSQL's hashed subplan to the window's decisions.
    return Decision.objects.filter(
        Q(proposal=OuterRef("pk"), proposal__created_at__gte=since, verdict__in=VERDICTS)
        & Q(proposal__decisions__verdict__in=VERDICTS, proposal__decisions__reviewer_id__lt=F("reviewer_id"))
        & (condition or Q())
    )


def _key(row) -> tuple:
    return row["agent_id"], row["action_type"], row["rule_name"]


def _sort_key(group) -> tuple:
    return group["agent__name"], group["action_type"], group["rule_name"] or ""


def _figures_of(group: dict, window: Window) -> dict:
    decisions, quick = (group.get(name, 0) for name in DECISION_FIGURES)
    items, disagreed = group["four_eyes_items"], group["four_eyes_disagreed"]
    return {
        "window_days": window.days,
        "agent": group["agent__name"],
        "agent_id": group["agent_id"],
        "action_type": group["action_type"],
        "rule": group["rule_name"],
        "volume": group["volume"],
        "human_reviewed": group["human_reviewed"],
        "human_review_rate": rate(group["human_reviewed"], group["volume"]),
        "closed": group["closed"],
        "approved": group["approved"],
        "modified": group["modified"],
        "rejected": group["rejected"],
        "changes_requested": group["changes_requested"],
        "revisions": group["revisions"],
        "revisions_approved": group["revisions_approved"],
        "expired": group["expired"],
        **figures.closed_outcome_rates(
            approved=group["approved"],
            modified=group["modified"],
            rejected=group["rejected"],
            changes_requested=group["changes_requested"],
            expired=group["expired"],
        ),
        "time_to_decision_p50": group.get("time_to_decision_p50"),
        "time_to_decision_p95": group.get("time_to_decision_p95"),
        "sla_total": group["sla_total"],
        "sla_breached": group["sla_breached"],
        "sla_breach_rate": rate(group["sla_breached"], group["sla_total"]),
        "post_reviewed": group["post_reviewed"],
        "flagged": group["flagged"],
        "flag_rate": rate(group["flagged"], group["post_reviewed"]),
        "calibration": [
            {
                "decile": decile,
                "low": decile / DECILES,
                "high": (decile + 1) / DECILES,
                "verdicts": verdicts,
                "approved": approved,
                "approval_rate": rate(approved, verdicts),
            }
            for decile in range(DECILES)
            for verdicts, approved in [group["calibration"].get(decile, (0, 0))]
        ],
        "brier_score": group["brier_score"],
        "four_eyes_items": items,
        "four_eyes_agreed": items - disagreed,
        "four_eyes_agreement_rate": rate(items - disagreed, items),
        "decisions": decisions,
        "quick_decisions": quick,
        "quick_decision_rate": rate(quick, decisions),
    }
