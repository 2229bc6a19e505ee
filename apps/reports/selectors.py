"""Reads of the reports app: the scope of a report, its figures and the rows it streams.

Every figure is a SQL aggregate (COUNT ... FILTER, GROUP BY, a database-side percentile), so
the cost of a report grows with the number of groups, never with Python work per proposal.
Only the exports and the embedded attachments walk every row, through server-side cursors.
"""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import (
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
)
from django.db.models.functions import Cast, JSONObject, Least
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from apps.agents.events import AgentEvents
from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.policies.models import Mode, PolicyVersion
from apps.proposals import figures
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

_PRE = figures.PRE_APPROVAL
_HUMAN_DECIDED = figures.HUMAN_VERDICT
_HUMAN_APPROVED = figures.HUMAN_APPROVED
_MODIFIED = figures.MODIFIED
_APPROVED_ON_EXPIRY = figures.APPROVED_ON_EXPIRY
_EXPIRED = figures.EXPIRED_UNAPPROVED
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


REPORT_EARLIEST_DAY = date(1970, 1, 1)
REPORT_LATEST_DAY = date(2999, 12, 31)


def report_scope_build(*, period_start: date, period_end: date, agent: str = "", action_type: str = "") -> ReportScope:
    """The scope of a report or export; InvalidInput (400) names every bad field."""
    errors: dict[str, list[str]] = {}
    for name, day in (("period_start", period_start), ("period_end", period_end)):
        if not REPORT_EARLIEST_DAY <= day <= REPORT_LATEST_DAY:
            # A period's end is turned into the next midnight; near year 9999 that overflows.
            errors[name] = [
                _("Choose a day from %(earliest)s to %(latest)s.")
                % {"earliest": date_format(REPORT_EARLIEST_DAY), "latest": date_format(REPORT_LATEST_DAY)}
            ]
    if errors:
        raise InvalidInput(_("The report scope is invalid."), fields=errors)
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
    times = decision_time_percentiles(scope, percents=(0.5, 0.95))
    return {
        **counts,
        **{f"sampling_{key}": value for key, value in sampling.items()},
        "human_decided": human_decided,
        "decided": decided,
        "human_reviewed": human_decided + sampling["reviewed"],
        "human_review_rate": _ratio(human_decided + sampling["reviewed"], counts["total"]),
        **figures.closed_outcome_rates(
            approved=counts["approved"],
            modified=counts["modified"],
            rejected=counts["rejected"],
            changes_requested=counts["changes_requested"],
            expired=counts["expired"] + counts["approved_on_expiry"],
        ),
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
            pre_changes_requested=Count("id", filter=_PRE & Q(status=Status.CHANGES_REQUESTED)),
            # revision chains: revisions submitted in the period, and those a human approved
            revisions=Count("id", filter=Q(revision__gt=0)),
            revisions_approved=Count("id", filter=Q(revision__gt=0) & _HUMAN_APPROVED),
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
        confidence_bin["total"] += row["human_approved"] + row["pre_rejected"] + row["pre_changes_requested"]
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
    # the reviewer workflow: a redirect's instructions, the signing batch, the revision chain
    "instructions",
    "batch",
    "proposal_revision_of",
    "proposal_revision",
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
            "instructions",
            "batch_id",
            "proposal__revision_of_id",
            "proposal__revision",
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
        instructions="instructions",
        batch="batch_id",
        proposal_revision_of="proposal__revision_of_id",
        proposal_revision="proposal__revision",
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
    """The chain's last verification and its latest signed checkpoint."""
    from apps.audit import canonical, signing
    from apps.audit import selectors as audit_selectors
    from apps.audit import verification as audit_verification

    integrity: dict = {"verification": None, "last_full_verification_at": None, "checkpoint": None}
    verification, last_full = audit_verification.audit_verification_status()
    integrity["last_full_verification_at"] = last_full.finished_at if last_full else None
    integrity["verification"] = verification
    checkpoint = audit_selectors.audit_checkpoint_latest()
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
