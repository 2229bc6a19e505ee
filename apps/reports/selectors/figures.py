"""The report's figures: SQL aggregates over the scope, the shared definitions from apps.proposals.figures."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    F,
    FloatField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Least

from apps.agents.events import AgentEvents
from apps.agents.models import Agent
from apps.policies.models import Mode, PolicyVersion
from apps.proposals import figures
from apps.proposals.models import ApprovedBy, PostActionReview, ReviewState, Status

from .scope import ReportScope, _narrowed, scope_audit_events, scope_decisions, scope_post_reviews, scope_proposals
from .sql import _Floor, _UtcDay

GROUP_MAX_ROWS = 200


# The per-day counters summed into the summary (their names there: see report_summary).
_SUMMARY_COUNTS = (
    "total",
    "autonomous",
    "post_review",
    "pre_approval",
    "pending",
    "cancelled",
    "human_approved",
    "modified",
    "pre_rejected",
    "pre_changes_requested",
    "revisions",
    "revisions_approved",
    "pre_expired",
    "approved_on_expiry",
    "rejected_high_risk",
    "sla_met",
    "sla_measured",
    "escalated",
    "escalations",
)


CONFIDENCE_BINS = 10


_SAMPLED_STATES = (ReviewState.QUEUED, ReviewState.CONFIRMED, ReviewState.FLAGGED)


_REVIEWED_STATES = (ReviewState.CONFIRMED, ReviewState.FLAGGED)


def report_summary(scope: ReportScope, *, outcomes: list[dict] | None = None) -> dict:
    """The executive summary: counts, rates (0..1 or None when nothing to divide), times in seconds.

    The counts are sums of `report_outcomes` (pass them when you have them): one scan of the
    proposals serves the summary, the table per agent and action type, and the charts.
    """
    outcomes = report_outcomes(scope) if outcomes is None else outcomes
    counts = {key: sum(row[key] for row in outcomes) for key in _SUMMARY_COUNTS}
    # In the summary, approved / rejected / expired are the pre-approval outcomes.
    counts["approved"], counts["rejected"], counts["changes_requested"], counts["expired"] = (
        counts.pop("human_approved"),
        counts.pop("pre_rejected"),
        counts.pop("pre_changes_requested"),
        counts.pop("pre_expired"),
    )
    sampling = scope_post_reviews(scope).aggregate(
        executed=Count("id"),
        sampled=Count("id", filter=Q(state__in=_SAMPLED_STATES)),
        reviewed=Count("id", filter=Q(state__in=_REVIEWED_STATES)),
        flagged=Count("id", filter=Q(state=ReviewState.FLAGGED)),
    )
    human_decided = counts["approved"] + counts["rejected"] + counts["changes_requested"]
    decided = human_decided + counts["expired"] + counts["approved_on_expiry"]
    suspensions = scope_audit_events(scope).filter(action=AgentEvents.SUSPENDED)
    if scope.agent is not None:
        suspensions = suspensions.filter(object_type="agents.agent", object_id=str(scope.agent.pk))
    times = decision_time_percentiles(scope, percents=tuple(figures.PERCENTILES.values()))
    return {
        **counts,
        **{f"sampling_{key}": value for key, value in sampling.items()},
        "human_decided": human_decided,
        "decided": decided,
        "human_reviewed": human_decided + sampling["reviewed"],
        "human_review_rate": figures.rate(human_decided + sampling["reviewed"], counts["total"]),
        **figures.closed_outcome_rates(
            approved=counts["approved"],
            modified=counts["modified"],
            rejected=counts["rejected"],
            changes_requested=counts["changes_requested"],
            expired=counts["expired"] + counts["approved_on_expiry"],
        ),
        "sla_compliance": figures.rate(counts["sla_met"], counts["sla_measured"]),
        "sample_coverage": figures.rate(sampling["sampled"], sampling["executed"]),
        "flag_rate": figures.rate(sampling["flagged"], sampling["reviewed"]),
        "median_seconds": times[figures.PERCENTILES["p50"]],
        "p95_seconds": times[figures.PERCENTILES["p95"]],
        "agent_suspensions": suspensions.count(),
        "decisions": scope_decisions(scope).count(),
        "audit_events": scope_audit_events(scope).count(),
    }


def decision_time_percentiles(scope: ReportScope, *, percents: tuple[float, ...]) -> dict[float, float | None]:
    """Time-to-decision percentiles of the scope (`figures.time_to_decision_percentiles`)."""
    found = figures.time_to_decision_percentiles(scope_proposals(scope), fractions=percents).get(())
    return dict(zip(percents, found, strict=True)) if found else dict.fromkeys(percents)


def report_groups(scope: ReportScope, *, outcomes: list[dict] | None = None) -> tuple[list[dict], int]:
    """One row per agent and action type (at most GROUP_MAX_ROWS, by name), and how many there are."""
    outcomes = report_outcomes(scope) if outcomes is None else outcomes
    keys = (
        "total",
        "autonomous",
        "post_review",
        "pre_approval",
        "human_approved",
        "modified",
        "pre_rejected",
        "pre_changes_requested",
        "pre_expired",
        "approved_on_expiry",
    )
    groups: dict[tuple, dict] = {}
    for row in outcomes:
        group = groups.setdefault((row["agent_id"], row["action_type"]), dict.fromkeys(keys, 0))
        for key in keys:
            group[key] += row[key]
    names = dict(Agent.objects.filter(pk__in={agent_id for agent_id, _type in groups}).values_list("pk", "name"))
    rows = []
    for (agent_id, action_type), group in groups.items():
        expired = group["pre_expired"] + group["approved_on_expiry"]
        decided = group["human_approved"] + group["pre_rejected"] + group["pre_changes_requested"] + expired
        rows.append(
            {
                "agent__name": names.get(agent_id, ""),
                "action_type": action_type,
                "total": group["total"],
                "autonomous": group["autonomous"],
                "post_review": group["post_review"],
                "pre_approval": group["pre_approval"],
                "approved": group["human_approved"],
                "modified": group["modified"],
                "rejected": group["pre_rejected"],
                "changes_requested": group["pre_changes_requested"],
                "expired": expired,
                "approval_rate": figures.approval_rate(approved=group["human_approved"], closed=decided),
            }
        )
    rows.sort(key=lambda row: (row["agent__name"], row["action_type"]))
    return rows[:GROUP_MAX_ROWS], len(rows)


def report_signoffs(scope: ReportScope) -> list[dict]:
    """Each reviewer who signed in the period: printed name, licence, decisions, and what their
    signatures meant (21 CFR 11.50), pre-approval decisions and post-action reviews together."""
    reviewers: dict[int, dict] = {}
    decision_groups = _signature_groups(scope_decisions(scope), signed_at="signed_at")
    reviews = _narrowed(
        PostActionReview.objects.filter(reviewed_at__gte=scope.since, reviewed_at__lt=scope.until),
        scope,
        prefix="proposal__",
    )
    review_groups = _signature_groups(reviews.filter(reviewer__isnull=False), signed_at="reviewed_at")
    # The groups carry no join; usernames and licences are looked up for the reviewers found.
    groups_by_kind = [("decisions", list(decision_groups)), ("reviews", list(review_groups))]
    signers = {group["reviewer_id"] for _kind, groups in groups_by_kind for group in groups}
    accounts = {
        pk: (username, licence or "")
        for pk, username, licence in get_user_model()
        .objects.filter(pk__in=signers)
        .values_list("pk", "username", "reviewer_profile__licence_number")
    }
    for kind, groups in groups_by_kind:
        for group in groups:
            username, licence = accounts.get(group["reviewer_id"], ("", ""))
            reviewer = reviewers.setdefault(
                group["reviewer_id"],
                {
                    "printed_name": group["printed_name"] or username,
                    "username": username,
                    "licence": licence,
                    "decisions": 0,
                    "reviews": 0,
                    "meanings": {},
                    "first": group["first"],
                    "last": group["last"],
                },
            )
            reviewer[kind] += group["signatures"]
            meaning = group["signature_meaning"] or "-"
            reviewer["meanings"][meaning] = reviewer["meanings"].get(meaning, 0) + group["signatures"]
            reviewer["first"] = min(reviewer["first"], group["first"])
            reviewer["last"] = max(reviewer["last"], group["last"])
    for reviewer in reviewers.values():
        reviewer["meanings"] = sorted(reviewer["meanings"].items())
    return sorted(reviewers.values(), key=lambda reviewer: (reviewer["printed_name"].lower(), reviewer["username"]))


def report_exceptions(scope: ReportScope, *, summary: dict | None = None) -> dict:
    """Each kind of exception: how many (from the summary), and the first REPORT_EXCEPTION_MAX_ROWS."""
    summary = report_summary(scope) if summary is None else summary
    cap = settings.REPORT_EXCEPTION_MAX_ROWS
    proposals = scope_proposals(scope).select_related("agent").order_by("created_at", "id")
    high_risk = figures.high_risk()
    kinds = {
        "expired": (proposals.filter(figures.EXPIRED_UNAPPROVED), summary["expired"]),
        "approved_on_expiry": (proposals.filter(figures.APPROVED_ON_EXPIRY), summary["approved_on_expiry"]),
        "modified": (proposals.filter(figures.MODIFIED), summary["modified"]),
        "rejected_high_risk": (
            proposals.filter(figures.REJECTED & high_risk),
            summary["rejected_high_risk"],
        ),
    }
    exceptions = {name: {"count": count, "rows": list(rows[:cap])} for name, (rows, count) in kinds.items()}
    flagged = (
        scope_post_reviews(scope)
        .filter(state=ReviewState.FLAGGED)
        .select_related("proposal__agent")
        .order_by("reviewed_at", "id")
    )
    exceptions["flagged"] = {"count": summary["sampling_flagged"], "rows": list(flagged[:cap])}
    changes = (
        PolicyVersion.objects.filter(
            Q(created_at__gte=scope.since, created_at__lt=scope.until)
            | Q(activated_at__gte=scope.since, activated_at__lt=scope.until)
        )
        .select_related("created_by", "activated_by")
        .order_by("number")
    )
    exceptions["policy_changes"] = {"count": changes.count(), "rows": list(changes[:cap])}
    return exceptions


def report_outcomes(scope: ReportScope) -> list[dict]:
    """Per UTC day of submission, agent, action type and tenth of confidence: every counter of
    the summary, of the table per agent and action type, and of the charts, in one grouped scan.

    At most days x agents x action types x 10 rows: bounded by the scope, never by the volume.
    """
    high_risk = figures.high_risk()
    return list(
        scope_proposals(scope)
        .annotate(
            day=_UtcDay("created_at"),
            bin=Least(
                _Floor(F("confidence") * CONFIDENCE_BINS), Value(CONFIDENCE_BINS - 1.0), output_field=FloatField()
            ),
        )
        .values("day", "agent_id", "action_type", "bin")
        .annotate(
            total=Count("id"),
            autonomous=Count("id", filter=Q(mode=Mode.AUTONOMOUS)),
            post_review=Count("id", filter=Q(mode=Mode.POST_REVIEW)),
            pre_approval=Count("id", filter=figures.PRE_APPROVAL),
            pending=Count("id", filter=figures.PRE_APPROVAL & Q(status=Status.PENDING)),
            cancelled=Count("id", filter=Q(status=Status.CANCELLED)),
            human_approved=Count("id", filter=figures.HUMAN_APPROVED),
            modified=Count("id", filter=figures.MODIFIED),
            pre_rejected=Count("id", filter=figures.REJECTED),
            pre_changes_requested=Count("id", filter=figures.CHANGES_REQUESTED),
            # revision chains: revisions submitted in the period, and those a human approved
            revisions=Count("id", filter=figures.REVISION),
            revisions_approved=Count("id", filter=figures.REVISION & figures.HUMAN_APPROVED),
            pre_expired=Count("id", filter=figures.EXPIRED_UNAPPROVED),
            approved_on_expiry=Count("id", filter=figures.APPROVED_ON_EXPIRY),
            rejected_high_risk=Count("id", filter=figures.REJECTED & high_risk),
            sla_met=Count(
                "id",
                filter=figures.HUMAN_VERDICT
                & Q(escalation_level=0, sla_due_at__isnull=False, decided_at__lte=F("sla_due_at")),
            ),
            sla_measured=Count(
                "id",
                filter=(figures.HUMAN_VERDICT & Q(sla_due_at__isnull=False))
                | figures.EXPIRED_UNAPPROVED
                | figures.APPROVED_ON_EXPIRY,
            ),
            escalated=Count("id", filter=Q(escalation_level__gt=0)),
            escalations=Sum("escalation_level", default=0),
            # the outcomes of the charts, whatever the mode
            by_policy=Count("id", filter=Q(status=Status.APPROVED, approved_by=ApprovedBy.POLICY)),
            approved=Count("id", filter=figures.APPROVED_AS_PROPOSED),
            rejected=Count("id", filter=Q(status=Status.REJECTED)),
            expired=Count("id", filter=Q(status=Status.EXPIRED)),
            open=Count("id", filter=Q(status__in=(Status.PENDING, Status.CANCELLED))),
        )
        .order_by()
    )


def report_daily_outcomes(scope: ReportScope, *, outcomes: list[dict] | None = None) -> list[dict]:
    """Per UTC day of submission, oldest first: the sums of `report_outcomes`."""
    outcomes = report_outcomes(scope) if outcomes is None else outcomes
    days: dict = {}
    for row in outcomes:
        day = days.setdefault(row["day"], {"day": row["day"]})
        for key, value in row.items():
            if key not in ("day", "agent_id", "action_type", "bin"):
                day[key] = day.get(key, 0) + value
    return [days[day] for day in sorted(days)]


def report_confidence_bins(scope: ReportScope, *, outcomes: list[dict] | None = None) -> list[dict]:
    """Human decisions per tenth of the agent's stated confidence, with the approval rate."""
    outcomes = report_outcomes(scope) if outcomes is None else outcomes
    bins = [{"bin": index, "total": 0, "approved": 0} for index in range(CONFIDENCE_BINS)]
    for row in outcomes:
        confidence_bin = bins[int(row["bin"])]
        confidence_bin["total"] += row["human_approved"] + row["pre_rejected"] + row["pre_changes_requested"]
        confidence_bin["approved"] += row["human_approved"]
    for confidence_bin in bins:
        confidence_bin["approval_rate"] = figures.rate(confidence_bin["approved"], confidence_bin["total"])
    return bins


def _signature_groups(signatures: QuerySet, *, signed_at: str) -> QuerySet:
    """Signatures per reviewer and meaning, with the printed name and the first and last instant."""
    return signatures.values("reviewer_id", "signature_meaning").annotate(
        signatures=Count("id"),
        printed_name=Max("signer_name"),
        first=Min(signed_at),
        last=Max(signed_at),
    )
