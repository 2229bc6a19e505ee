"""Reads of the reports app: the scope of a report, its figures and the rows it streams.

Every figure is a SQL aggregate (COUNT ... FILTER, GROUP BY, a database-side percentile), so
the cost of a report grows with the number of groups, never with Python work per proposal.
Only the exports and the embedded attachments walk every row, through server-side cursors.
"""

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    F,
    FloatField,
    Func,
    JSONField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    TextField,
    Value,
    Window,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, JSONObject, Least, RowNumber
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.policies.models import Mode, PolicyVersion
from apps.proposals.models import ApprovedBy, Decision, PostActionReview, Proposal, ReviewState, Status
from hitlplatform.errors import InvalidInput, NotFound

from .models import Report

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
    "pre_expired",
    "approved_on_expiry",
    "rejected_high_risk",
    "sla_met",
    "sla_measured",
    "escalated",
    "escalations",
)
CONFIDENCE_BINS = 10

# Pre-approval proposals a human approved, modified or rejected (expiry is the policy's doing).
_PRE = Q(mode=Mode.PRE_APPROVAL)
_HUMAN_DECIDED = _PRE & (Q(approved_by=ApprovedBy.HUMAN, status=Status.APPROVED) | Q(status=Status.REJECTED))
_HUMAN_APPROVED = _PRE & Q(status=Status.APPROVED, approved_by=ApprovedBy.HUMAN)
_MODIFIED = _HUMAN_APPROVED & Q(revised_payload__isnull=False)
_APPROVED_ON_EXPIRY = _PRE & Q(status=Status.APPROVED, approved_by=ApprovedBy.POLICY)
_EXPIRED = _PRE & Q(status=Status.EXPIRED)
_SAMPLED_STATES = (ReviewState.QUEUED, ReviewState.CONFIRMED, ReviewState.FLAGGED)
_REVIEWED_STATES = (ReviewState.CONFIRMED, ReviewState.FLAGGED)


@dataclass(frozen=True)
class ReportScope:
    """Proposals submitted from period_start to period_end (inclusive, UTC days), optionally of
    one agent and action type; decisions and audit events recorded in the same days."""

    period_start: date
    period_end: date
    agent: Agent | None = None
    action_type: str = ""

    @property
    def since(self) -> datetime:
        return datetime.combine(self.period_start, time.min, tzinfo=UTC)

    # A report of a period that includes today counts up to the instant it started, so that its
    # figures and its attachments describe the same rows.
    cutoff: datetime | None = None

    @property
    def until(self) -> datetime:
        end = datetime.combine(self.period_end + timedelta(days=1), time.min, tzinfo=UTC)
        return min(end, self.cutoff) if self.cutoff else end

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days + 1


def report_scope_build(*, period_start: date, period_end: date, agent: str = "", action_type: str = "") -> ReportScope:
    """The scope of a report or export; InvalidInput (400) names every bad field."""
    errors: dict[str, list[str]] = {}
    if period_end < period_start:
        errors["period_end"] = [_("The end of the period is before its start.")]
    elif (period_end - period_start).days + 1 > settings.REPORT_MAX_PERIOD_DAYS:
        errors["period_end"] = [
            _("The period may span at most %(days)s days.") % {"days": settings.REPORT_MAX_PERIOD_DAYS}
        ]
    agent_record = None
    if agent:
        agent_record = Agent.objects.filter(name=agent).first()
        if agent_record is None:
            errors["agent"] = [_("There is no agent named “%(name)s”.") % {"name": agent}]
    action_type = (action_type or "").strip()
    if "*" in action_type[:-1] or "?" in action_type or "[" in action_type:
        errors["action_type"] = [_("Use an exact action type or a prefix ending in *, e.g. payments.*")]
    if errors:
        raise InvalidInput(_("The report scope is invalid."), fields=errors)
    return ReportScope(period_start=period_start, period_end=period_end, agent=agent_record, action_type=action_type)


def report_get(*, report_id: int) -> Report:
    report = Report.objects.select_related("agent", "requested_by").filter(pk=report_id).first()
    if report is None:
        raise NotFound(_("No report %(id)s.") % {"id": report_id})
    return report


def reports_recent(*, limit: int = 50) -> QuerySet[Report]:
    return Report.objects.select_related("agent", "requested_by").order_by("-created_at", "-id")[:limit]


def report_scope_of(report: Report) -> ReportScope:
    return ReportScope(
        period_start=report.period_start,
        period_end=report.period_end,
        agent=report.agent,
        action_type=report.action_type,
    )


# --- the rows in scope -------------------------------------------------------------------------


def scope_proposals(scope: ReportScope) -> QuerySet[Proposal]:
    proposals = Proposal.objects.filter(created_at__gte=scope.since, created_at__lt=scope.until)
    return _narrowed(proposals, scope, prefix="")


def scope_decisions(scope: ReportScope) -> QuerySet[Decision]:
    decisions = Decision.objects.filter(signed_at__gte=scope.since, signed_at__lt=scope.until)
    return _narrowed(decisions, scope, prefix="proposal__")


def scope_post_reviews(scope: ReportScope) -> QuerySet[PostActionReview]:
    """Post-action reviews (sampling draws) of the proposals in scope."""
    reviews = PostActionReview.objects.filter(
        proposal__created_at__gte=scope.since, proposal__created_at__lt=scope.until
    )
    return _narrowed(reviews, scope, prefix="proposal__")


def scope_audit_events(scope: ReportScope) -> QuerySet[AuditEvent]:
    """Every event of the period: the chain is one, so it is never narrowed to an agent."""
    return AuditEvent.objects.filter(timestamp__gte=scope.since, timestamp__lt=scope.until)


def _narrowed(queryset: QuerySet, scope: ReportScope, *, prefix: str) -> QuerySet:
    if scope.agent is not None:
        queryset = queryset.filter(**{f"{prefix}agent": scope.agent})
    if scope.action_type.endswith("*"):
        queryset = queryset.filter(**{f"{prefix}action_type__startswith": scope.action_type[:-1]})
    elif scope.action_type:
        queryset = queryset.filter(**{f"{prefix}action_type": scope.action_type})
    return queryset


# --- figures ------------------------------------------------------------------------------------


def report_summary(scope: ReportScope, *, outcomes: list[dict] | None = None) -> dict:
    """The executive summary: counts, rates (0..1 or None when nothing to divide), times in seconds.

    The counts are sums of `report_outcomes` (pass them when you have them): one scan of the
    proposals serves the summary, the table per agent and action type, and the charts.
    """
    outcomes = report_outcomes(scope) if outcomes is None else outcomes
    counts = {key: sum(row[key] for row in outcomes) for key in _SUMMARY_COUNTS}
    # In the summary, approved / rejected / expired are the pre-approval outcomes.
    counts["approved"], counts["rejected"], counts["expired"] = (
        counts.pop("human_approved"),
        counts.pop("pre_rejected"),
        counts.pop("pre_expired"),
    )
    sampling = scope_post_reviews(scope).aggregate(
        executed=Count("id"),
        sampled=Count("id", filter=Q(state__in=_SAMPLED_STATES)),
        reviewed=Count("id", filter=Q(state__in=_REVIEWED_STATES)),
        flagged=Count("id", filter=Q(state=ReviewState.FLAGGED)),
    )
    human_decided = counts["approved"] + counts["rejected"]
    decided = human_decided + counts["expired"] + counts["approved_on_expiry"]
    suspensions = scope_audit_events(scope).filter(action="agent.suspended")
    if scope.agent is not None:
        suspensions = suspensions.filter(object_type="agents.agent", object_id=str(scope.agent.pk))
    times = decision_time_percentiles(scope, percents=(0.5, 0.95))
    return {
        **counts,
        **{f"sampling_{key}": value for key, value in sampling.items()},
        "human_decided": human_decided,
        "decided": decided,
        "human_reviewed": human_decided + sampling["reviewed"],
        "human_review_rate": _ratio(human_decided + sampling["reviewed"], counts["total"]),
        "approval_rate": _ratio(counts["approved"], decided),
        "modification_rate": _ratio(counts["modified"], decided),
        "rejection_rate": _ratio(counts["rejected"], decided),
        "expiry_rate": _ratio(counts["expired"] + counts["approved_on_expiry"], decided),
        "sla_compliance": _ratio(counts["sla_met"], counts["sla_measured"]),
        "sample_coverage": _ratio(sampling["sampled"], sampling["executed"]),
        "flag_rate": _ratio(sampling["flagged"], sampling["reviewed"]),
        "median_seconds": times[0.5],
        "p95_seconds": times[0.95],
        "agent_suspensions": suspensions.count(),
        "decisions": scope_decisions(scope).count(),
        "audit_events": scope_audit_events(scope).count(),
    }


def decision_time_percentiles(scope: ReportScope, *, percents: tuple[float, ...]) -> dict[float, float | None]:
    """Nearest-rank percentiles of submission-to-decision seconds of human decisions.

    PostgreSQL computes PERCENTILE_DISC in one pass; SQLite has no percentile, so one ordered
    query numbers the rows (ROW_NUMBER) and returns only the wanted ranks: nothing else comes back
    to Python.
    """
    decided = scope_proposals(scope).filter(_HUMAN_DECIDED, decided_at__isnull=False)
    # The SQL is built from constants and the quoted table name only.
    seconds = RawSQL(_seconds_to_decision_sql(), (), output_field=FloatField())  # noqa: S611
    if connection.vendor == "postgresql":
        figures = decided.aggregate(
            **{f"p{index}": _PercentileDisc(seconds, percent) for index, percent in enumerate(percents)}
        )
        return {percent: figures[f"p{index}"] for index, percent in enumerate(percents)}
    total = decided.count()
    if not total:
        return dict.fromkeys(percents)
    ranks = {percent: max(math.ceil(percent * total), 1) for percent in percents}
    found = dict(
        decided.annotate(seconds=seconds)
        .annotate(rank=Window(RowNumber(), order_by=F("seconds").asc()))
        .filter(rank__in=set(ranks.values()))
        .values_list("rank", "seconds")
    )
    return {percent: found[rank] for percent, rank in ranks.items()}


class _PercentileDisc(Aggregate):
    function = "PERCENTILE_DISC"
    template = "%(function)s(%(percent)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, percent: float, **extra):
        super().__init__(expression, percent=float(percent), **extra)


def _seconds_to_decision_sql() -> str:
    table = connection.ops.quote_name(Proposal._meta.db_table)
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({table}.decided_at - {table}.created_at))"
    return f"((julianday({table}.decided_at) - julianday({table}.created_at)) * 86400.0)"


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
        decided = group["human_approved"] + group["pre_rejected"] + expired
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
                "expired": expired,
                "approval_rate": _ratio(group["human_approved"], decided),
            }
        )
    rows.sort(key=lambda row: (row["agent__name"], row["action_type"]))
    return rows[:GROUP_MAX_ROWS], len(rows)


def report_signoffs(scope: ReportScope) -> list[dict]:
    """Each reviewer who signed in the period: printed name, licence, decisions, and what their
    signatures meant (21 CFR 11.50), pre-approval decisions and post-action reviews together."""
    reviewers: dict[int, dict] = {}
    decision_groups = (
        scope_decisions(scope)
        .values("reviewer_id", "signature_meaning")
        .annotate(
            signatures=Count("id"),
            printed_name=Max("signer_name"),
            first=Min("signed_at"),
            last=Max("signed_at"),
        )
    )
    review_groups = (
        _narrowed(
            PostActionReview.objects.filter(reviewed_at__gte=scope.since, reviewed_at__lt=scope.until),
            scope,
            prefix="proposal__",
        )
        .filter(reviewer__isnull=False)
        .values("reviewer_id", "signature_meaning")
        .annotate(
            signatures=Count("id"),
            printed_name=Max("signer_name"),
            first=Min("reviewed_at"),
            last=Max("reviewed_at"),
        )
    )
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
    high_risk = (
        Q(compliance_exposure="high")
        | Q(irreversible=True)
        | Q(blast_radius__gte=settings.REPORT_HIGH_RISK_BLAST_RADIUS)
    )
    kinds = {
        "expired": (proposals.filter(_EXPIRED), summary["expired"]),
        "approved_on_expiry": (proposals.filter(_APPROVED_ON_EXPIRY), summary["approved_on_expiry"]),
        "modified": (proposals.filter(_MODIFIED), summary["modified"]),
        "rejected_high_risk": (
            proposals.filter(_PRE & Q(status=Status.REJECTED) & high_risk),
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
    high_risk = (
        Q(compliance_exposure="high")
        | Q(irreversible=True)
        | Q(blast_radius__gte=settings.REPORT_HIGH_RISK_BLAST_RADIUS)
    )
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
            pre_approval=Count("id", filter=_PRE),
            pending=Count("id", filter=_PRE & Q(status=Status.PENDING)),
            cancelled=Count("id", filter=Q(status=Status.CANCELLED)),
            human_approved=Count("id", filter=_HUMAN_APPROVED),
            modified=Count("id", filter=_MODIFIED),
            pre_rejected=Count("id", filter=_PRE & Q(status=Status.REJECTED)),
            pre_expired=Count("id", filter=_EXPIRED),
            approved_on_expiry=Count("id", filter=_APPROVED_ON_EXPIRY),
            rejected_high_risk=Count("id", filter=_PRE & Q(status=Status.REJECTED) & high_risk),
            sla_met=Count(
                "id",
                filter=_HUMAN_DECIDED
                & Q(escalation_level=0, sla_due_at__isnull=False, decided_at__lte=F("sla_due_at")),
            ),
            sla_measured=Count(
                "id", filter=(_HUMAN_DECIDED & Q(sla_due_at__isnull=False)) | _EXPIRED | _APPROVED_ON_EXPIRY
            ),
            escalated=Count("id", filter=Q(escalation_level__gt=0)),
            escalations=Sum("escalation_level", default=0),
            # the outcomes of the charts, whatever the mode
            by_policy=Count("id", filter=Q(status=Status.APPROVED, approved_by=ApprovedBy.POLICY)),
            approved=Count("id", filter=_HUMAN_APPROVED & Q(revised_payload__isnull=True)),
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
        confidence_bin["total"] += row["human_approved"] + row["pre_rejected"]
        confidence_bin["approved"] += row["human_approved"]
    for confidence_bin in bins:
        confidence_bin["approval_rate"] = _ratio(confidence_bin["approved"], confidence_bin["total"])
    return bins


def report_appendix(scope: ReportScope, *, limit: int) -> list[tuple]:
    """The first `limit` decisions of the period, oldest first (the rest are in the attachment)."""
    return list(
        scope_decisions(scope)
        .order_by("signed_at", "id")
        .values_list(
            "signed_at",
            "proposal_id",
            "proposal__agent__name",
            "proposal__action_type",
            "signer_name",
            "verdict",
            "signature_meaning",
        )[:limit]
    )


def report_audit_period(scope: ReportScope) -> dict:
    """The first and last sequence numbers of the period's events (for inclusion proofs)."""
    return scope_audit_events(scope).aggregate(first_seq=Min("seq"), last_seq=Max("seq"), events=Count("seq"))


# --- streamed rows (exports and attachments) -----------------------------------------------------

DECISION_COLUMNS = (
    "id",
    "proposal_id",
    "agent",
    "action_type",
    "reviewer",
    "signer_name",
    "licence_number",
    "verdict",
    "signature_meaning",
    "rationale",
    "payload_version",
    "escalation_level",
    "signed_at",
    "proposal_status",
    "modified_payload",
)
AUDIT_COLUMNS = (
    "seq",
    "timestamp",
    "actor_type",
    "actor_id",
    "action",
    "object_type",
    "object_id",
    "data_hash",
    "prev_hash",
    "hash",
    "schema_version",
    "salt",
    "data",
)


def decision_rows(scope: ReportScope, *, chunk_size: int = 5000) -> Iterator[tuple]:
    """Every decision of the period as a tuple of DECISION_COLUMNS (the CSV export), in constant memory."""
    return (
        _decisions_ordered(scope)
        .values_list(
            "id",
            "proposal_id",
            "proposal__agent__name",
            "proposal__action_type",
            "reviewer__username",
            "signer_name",
            "reviewer__reviewer_profile__licence_number",
            "verdict",
            "signature_meaning",
            "rationale",
            "payload_version",
            "escalation_level",
            "signed_at",
            "proposal__status",
            "payload",
        )
        .iterator(chunk_size=chunk_size)
    )


def decision_json_lines(scope: ReportScope, *, chunk_size: int = 5000) -> Iterator[str]:
    """Every decision of the period as a JSON object text with DECISION_COLUMNS as keys.

    The database serializes each row (json_object / jsonb_build_object, in C): Python only
    passes the strings on, which is what keeps a million rows within the report's time budget.
    """
    line = JSONObject(
        id="id",
        proposal_id="proposal_id",
        agent="proposal__agent__name",
        action_type="proposal__action_type",
        reviewer="reviewer__username",
        signer_name="signer_name",
        licence_number="reviewer__reviewer_profile__licence_number",
        verdict="verdict",
        signature_meaning="signature_meaning",
        rationale="rationale",
        payload_version="payload_version",
        escalation_level="escalation_level",
        signed_at=_IsoUtc("signed_at"),
        proposal_status="proposal__status",
        modified_payload=_JsonValue("payload"),
    )
    return (
        _decisions_ordered(scope)
        .annotate(line=Cast(line, output_field=TextField()))
        .values_list("line", flat=True)
        .iterator(chunk_size=chunk_size)
    )


def audit_json_rows(scope: ReportScope, *, chunk_size: int = 5000) -> Iterator[tuple[str, str | None]]:
    """Every audit event of the period as (JSON object text of AUDIT_COLUMNS but `data`, canonical data).

    The canonical data is the exact text that was hashed (None once redacted); the caller splices
    it in unchanged, and the timestamp is the hashed text, so the hashes can be recomputed offline.
    """
    head = JSONObject(
        seq="seq",
        timestamp=_IsoUtc("timestamp"),
        actor_type="actor_type",
        actor_id="actor_id",
        action="action",
        object_type="object_type",
        object_id="object_id",
        data_hash="data_hash",
        prev_hash="prev_hash",
        hash="hash",
        schema_version="schema_version",
        salt="data_record__salt",
    )
    return (
        scope_audit_events(scope)
        .order_by("seq")
        .annotate(head=Cast(head, output_field=TextField()))
        .values_list("head", "data_record__canonical_data")
        .iterator(chunk_size=chunk_size)
    )


def _decisions_ordered(scope: ReportScope) -> QuerySet[Decision]:
    return scope_decisions(scope).order_by("signed_at", "id")


class _Floor(Func):
    """floor() of a non-negative number, natively (Floor is a Python function on SQLite)."""

    function = "FLOOR"
    output_field = FloatField()

    def as_sqlite(self, compiler, connection, **extra):
        # CAST truncates toward zero: the floor of a non-negative value.
        return super().as_sql(compiler, connection, template="CAST(%(expressions)s AS INTEGER)", **extra)


class _UtcDay(Func):
    """The UTC day of a timestamp, computed natively (TruncDate is a Python function on SQLite)."""

    output_field = DateField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="substr(%(expressions)s, 1, 10)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="(%(expressions)s AT TIME ZONE 'UTC')::date", **extra)


class _IsoUtc(Func):
    """A timestamp as microsecond ISO-8601 UTC text (apps.audit.canonical.format_timestamp)."""

    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC and drops a zero fraction.
        template = (
            "(CASE WHEN length(%(expressions)s) = 19 THEN replace(%(expressions)s, ' ', 'T') || '.000000Z'"
            " ELSE replace(%(expressions)s, ' ', 'T') || 'Z' END)"
        )
        return super().as_sql(compiler, connection, template=template, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        template = "to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
        return super().as_sql(compiler, connection, template=template, **extra)


class _JsonValue(Func):
    """A JSON column as a nested value of JSONObject (SQLite stores it as text)."""

    output_field = JSONField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="json(%(expressions)s)", **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="%(expressions)s", **extra)


def audit_events_filtered(
    *,
    action: str = "",
    actor_id: str = "",
    actor: str = "",
    object_type: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """The newest events matching the filters (the compliance pages), paged by seq."""
    events = AuditEvent.objects.select_related("data_record").order_by("-seq")
    if action:
        events = events.filter(action__startswith=action)
    if actor_id:
        events = events.filter(actor_id=actor_id)
    if actor:
        matches = Q()
        for kind, identity in audit_actor_ids(actor):
            matches |= Q(actor_type=kind, actor_id=identity) if kind else Q(actor_id=identity)
        events = events.filter(matches)
    if object_type:
        events = events.filter(object_type=object_type)
    if since:
        events = events.filter(timestamp__gte=since)
    if until:
        events = events.filter(timestamp__lt=until)
    if before_seq:
        events = events.filter(seq__lt=before_seq)
    return list(events[:limit])


def audit_actor_ids(name: str) -> list[tuple[str, str]]:
    """A username or agent name typed in the filter as the (actor type, actor id) pairs it names;
    anything else is taken as a raw actor id of any type ("")."""
    name = name.strip()
    users = list(get_user_model().objects.filter(username__iexact=name).values_list("pk", flat=True))
    agents = list(Agent.objects.filter(name__iexact=name).values_list("pk", flat=True))
    if users or agents:
        return [("user", str(pk)) for pk in users] + [("agent", str(pk)) for pk in agents]
    return [("", name)]


def audit_events_described(events: list[AuditEvent]) -> list[AuditEvent]:
    """Each event with `actor_label`, `actor_url`, `object_label`, `object_url` and `data_items`.

    One query per kind of row referenced on the page (users, agents, proposals), not one per event.
    """
    user_ids = {event.actor_id for event in events if event.actor_type == "user" and event.actor_id.isdigit()}
    user_ids |= {
        event.object_id for event in events if event.object_type in USER_OBJECT_TYPES and event.object_id.isdigit()
    }
    agent_ids = {event.actor_id for event in events if event.actor_type == "agent" and event.actor_id.isdigit()}
    agent_ids |= {
        event.object_id for event in events if event.object_type == "agents.agent" and event.object_id.isdigit()
    }
    proposal_ids = {
        event.object_id for event in events if event.object_type == "proposals.proposal" and event.object_id.isdigit()
    }
    users = {str(user.pk): user for user in get_user_model().objects.filter(pk__in=user_ids)} if user_ids else {}
    agents = {str(agent.pk): agent.name for agent in Agent.objects.filter(pk__in=agent_ids)} if agent_ids else {}
    proposals = (
        {str(pk): summary for pk, summary in Proposal.objects.filter(pk__in=proposal_ids).values_list("pk", "summary")}
        if proposal_ids
        else {}
    )
    for event in events:
        event.actor_label, event.actor_url = _actor_described(event, users, agents)
        event.object_label, event.object_url = _object_described(event, users, agents, proposals)
        event.data_items = _data_items(event)
    return events


USER_OBJECT_TYPES = ("auth.user", "accounts.user")


def _actor_described(event, users, agents) -> tuple[str, str]:
    if event.actor_type == "system":
        return _("the system"), ""
    if event.actor_type == "agent":
        name = agents.get(event.actor_id)
        return (_("agent %(name)s") % {"name": name}, "") if name else (_("agent #%(id)s") % {"id": event.actor_id}, "")
    user = users.get(event.actor_id)
    if user is None:
        return (_("user #%(id)s") % {"id": event.actor_id}) if event.actor_id != "anonymous" else _("anonymous"), ""
    return user.get_full_name() or user.get_username(), f"?actor={user.get_username()}"


def _object_described(event, users, agents, proposals) -> tuple[str, str]:
    object_id = event.object_id
    if event.object_type == "proposals.proposal":
        summary = proposals.get(object_id, "")
        label = _("proposal #%(id)s") % {"id": object_id} + (f" · {summary}" if summary else "")
        return label, reverse("review:detail", args=[object_id]) if object_id.isdigit() else ""
    if event.object_type in USER_OBJECT_TYPES and object_id in users:
        return _("user %(name)s") % {"name": users[object_id].get_username()}, ""
    if event.object_type == "agents.agent" and object_id in agents:
        return _("agent %(name)s") % {"name": agents[object_id]}, ""
    if event.object_type == "reports.report" and object_id.isdigit():
        return _("report #%(id)s") % {"id": object_id}, reverse("compliance:reports")
    if not event.object_type:
        return "", ""
    return (
        f"{event.object_type.rsplit('.', 1)[-1].replace('_', ' ')} #{object_id}" if object_id else event.object_type,
        "",
    )


def _data_items(event) -> list[tuple[str, str]]:
    record = getattr(event, "data_record", None)
    if record is None:
        return []
    try:
        data = json.loads(record.canonical_data)
    except ValueError:
        return [("", record.canonical_data[:200])]
    if not isinstance(data, dict):
        return [("", json.dumps(data, ensure_ascii=False)[:200])]
    items = []
    for key, value in data.items():
        if isinstance(value, bool):
            text = _("yes") if value else _("no")
        elif isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = str(value)
        items.append((key, text if len(text) <= 120 else text[:119] + "…"))
    return items


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def report_audit_integrity() -> dict:
    """The chain's verification and its latest signed checkpoint, as far as the audit app offers them."""
    from apps.audit import canonical, signing
    from apps.audit import selectors as audit_selectors

    integrity: dict = {"verification": None, "last_full_verification_at": None, "checkpoint": None}
    verification_status = getattr(audit_selectors, "audit_verification_status", None)
    if verification_status is not None:
        verification, last_full = verification_status()
        integrity["last_full_verification_at"] = last_full.finished_at if last_full else None
    else:
        verification = audit_selectors.audit_verify()
    integrity["verification"] = verification
    latest = getattr(audit_selectors, "audit_checkpoint_latest", None)
    checkpoint = latest() if latest is not None else None
    if checkpoint is not None:
        message = canonical.checkpoint_message(
            tree_size=checkpoint.tree_size,
            root_hash=checkpoint.root_hash,
            timestamp=canonical.format_timestamp(checkpoint.timestamp),
        )
        integrity["checkpoint"] = {
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "timestamp": checkpoint.timestamp,
            "signature": checkpoint.signature,
            "public_key": checkpoint.public_key,
            "fingerprint": public_key_fingerprint(checkpoint.public_key),
            "signed_message": message.decode(),
            "signature_valid": signing.signature_is_valid(
                message=message, signature_hex=checkpoint.signature, public_key=checkpoint.public_key
            ),
            "key_trusted": checkpoint.public_key in signing.trusted_public_keys(),
        }
    return integrity


def public_key_fingerprint(public_key_hex: str) -> str:
    """SHA-256 of the raw Ed25519 public key, in groups of four hex digits (read aloud over a phone)."""
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()
    return " ".join(digest[index : index + 4] for index in range(0, len(digest), 4))
