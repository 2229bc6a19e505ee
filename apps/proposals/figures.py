"""The figures the report, Insights, the review app's agent record and the API all show.

One definition each, here: the outcome filters, the rates and the time-to-decision percentiles.
A rate's docstring is the sentence the report prints in its "How is it computed" column
(`FIGURE_DEFINITIONS`), so the signed report and the dashboard cannot drift apart.
"""

import math

from django.conf import settings
from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Func, Q, QuerySet
from django.utils import formats
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.policies.models import ComplianceExposure, Mode

from .models import ApprovedBy, Proposal, Status

# --- outcomes of proposals that needed a human (pre-approval) ------------------------------------

PRE_APPROVAL = Q(mode=Mode.PRE_APPROVAL)
HUMAN_APPROVED = PRE_APPROVAL & Q(status=Status.APPROVED, approved_by=ApprovedBy.HUMAN)
APPROVED_AS_PROPOSED = HUMAN_APPROVED & Q(revised_payload__isnull=True)
MODIFIED = HUMAN_APPROVED & Q(revised_payload__isnull=False)
REJECTED = PRE_APPROVAL & Q(status=Status.REJECTED)
# A redirect: the reviewer sent it back with instructions; a non-approval outcome of its own.
CHANGES_REQUESTED = PRE_APPROVAL & Q(status=Status.CHANGES_REQUESTED)
# A revision the agent submitted after a redirect: a proposal of its own, counted where it ends.
REVISION = Q(revision__gt=0)
EXPIRED_UNAPPROVED = PRE_APPROVAL & Q(status=Status.EXPIRED)
APPROVED_ON_EXPIRY = PRE_APPROVAL & Q(status=Status.APPROVED, approved_by=ApprovedBy.POLICY)
# Expiry is the policy's doing, whatever `on_expiry` then made of it.
EXPIRED = EXPIRED_UNAPPROVED | APPROVED_ON_EXPIRY
HUMAN_VERDICT = HUMAN_APPROVED | REJECTED | CHANGES_REQUESTED
CLOSED = HUMAN_VERDICT | EXPIRED

PERCENTILES = {"p50": 0.5, "p95": 0.95}


def high_risk() -> Q:
    """High compliance exposure, irreversible, or affecting REPORT_HIGH_RISK_BLAST_RADIUS or more
    (read per call: deployments and tests set it). The report's rejected high-risk proposals and the
    control "high-risk proposals without a human" both count by it."""
    return (
        Q(compliance_exposure=ComplianceExposure.HIGH)
        | Q(irreversible=True)
        | Q(blast_radius__gte=settings.REPORT_HIGH_RISK_BLAST_RADIUS)
    )


def high_risk_definition() -> str:
    """`high_risk` in words, with the configured blast radius, in the active language."""
    radius = formats.number_format(settings.REPORT_HIGH_RISK_BLAST_RADIUS, force_grouping=True)
    return gettext("High risk means high compliance exposure, irreversible, or affecting %(radius)s or more.") % {
        "radius": radius
    }


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide (never a misleading 0)."""
    return part / whole if whole else None


def approval_rate(*, approved: int, closed: int) -> float | None:
    """Pre-approval proposals a reviewer approved, as proposed or modified, over the closed
    pre-approval proposals (approved, rejected, sent back with instructions, expired or approved on
    expiry); pending and cancelled ones are left out."""
    return rate(approved, closed)


def modification_rate(*, modified: int, closed: int) -> float | None:
    """Pre-approval proposals a reviewer approved with a changed payload, over the closed
    pre-approval proposals."""
    return rate(modified, closed)


def rejection_rate(*, rejected: int, closed: int) -> float | None:
    """Pre-approval proposals a reviewer rejected, over the closed pre-approval proposals."""
    return rate(rejected, closed)


def redirect_rate(*, changes_requested: int, closed: int) -> float | None:
    """Pre-approval proposals a reviewer sent back to the agent with instructions (changes
    requested), over the closed pre-approval proposals; the agent's revision counts on its own."""
    return rate(changes_requested, closed)


def expiry_rate(*, expired: int, closed: int) -> float | None:
    """Pre-approval proposals nobody decided before the last escalation tier ran out (expired, or
    approved on expiry where the rule says so), over the closed pre-approval proposals."""
    return rate(expired, closed)


def time_to_decision_percentile(fraction: float) -> str:
    """Nearest-rank percentile of the seconds from submission to a reviewer's final approval,
    rejection or redirect: the smallest time within which that share of the human decisions was made."""
    return f"p{round(fraction * 100)}"


# The docstrings above, translatable: the report's "How it is computed" column prints them
# (tests/proposals/test_figures.py holds each to its function's docstring).
FIGURE_DEFINITIONS = {
    "approval_rate": _(
        "Pre-approval proposals a reviewer approved, as proposed or modified, over the closed "
        "pre-approval proposals (approved, rejected, sent back with instructions, expired or approved on "
        "expiry); pending and cancelled ones are left out."
    ),
    "modification_rate": _(
        "Pre-approval proposals a reviewer approved with a changed payload, over the closed pre-approval proposals."
    ),
    "rejection_rate": _("Pre-approval proposals a reviewer rejected, over the closed pre-approval proposals."),
    "redirect_rate": _(
        "Pre-approval proposals a reviewer sent back to the agent with instructions (changes requested), "
        "over the closed pre-approval proposals; the agent's revision counts on its own."
    ),
    "expiry_rate": _(
        "Pre-approval proposals nobody decided before the last escalation tier ran out (expired, or "
        "approved on expiry where the rule says so), over the closed pre-approval proposals."
    ),
    "time_to_decision": _(
        "Nearest-rank percentile of the seconds from submission to a reviewer's final approval, "
        "rejection or redirect: the smallest time within which that share of the human decisions was made."
    ),
}
FIGURE_LABELS = {
    "approval_rate": _("Approval rate"),
    "modification_rate": _("Modification rate"),
    "rejection_rate": _("Rejection rate"),
    "redirect_rate": _("Redirect rate"),
    "expiry_rate": _("Expiry rate"),
    "time_to_decision": _("Time to decision"),
}


def closed_outcome_rates(
    *, approved: int, modified: int, rejected: int, expired: int, changes_requested: int = 0
) -> dict:
    """The rates of closed pre-approval proposals from their counts (approved includes modified)."""
    closed = approved + rejected + changes_requested + expired
    return {
        "approval_rate": approval_rate(approved=approved, closed=closed),
        "modification_rate": modification_rate(modified=modified, closed=closed),
        "rejection_rate": rejection_rate(rejected=rejected, closed=closed),
        "redirect_rate": redirect_rate(changes_requested=changes_requested, closed=closed),
        "expiry_rate": expiry_rate(expired=expired, closed=closed),
    }


# --- time to decision ----------------------------------------------------------------------------


class SecondsBetween(Func):
    """end - start in seconds, as a float, on PostgreSQL and SQLite."""

    output_field = FloatField()
    arity = 2

    def __init__(self, start, end, **extra):
        super().__init__(end, start, **extra)

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="EXTRACT(EPOCH FROM (%(expressions)s))::double precision",
            arg_joiner=" - ",
            **extra,
        )

    def as_sqlite(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s)) * 86400.0)",
            arg_joiner=") - julianday(",
            **extra,
        )


class PercentilesDisc(Aggregate):
    """PostgreSQL's nearest-rank ordered-set aggregate, several fractions from one sort, as an array."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(ARRAY[%(fractions)s]::double precision[]) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False

    def __init__(self, expression, *, fractions: tuple[float, ...], **extra):
        from django.contrib.postgres.fields import ArrayField  # PostgreSQL only, like the function

        text = ", ".join(repr(float(fraction)) for fraction in fractions)
        super().__init__(expression, fractions=text, output_field=ArrayField(FloatField()), **extra)


def seconds_to_decision():
    return SecondsBetween(F("created_at"), F("decided_at"))


def nearest_rank(*, count: int, fraction: float) -> int:
    """1-based rank of the nearest-rank percentile among `count` ordered values."""
    return max(math.ceil(fraction * count), 1)


def time_to_decision_percentiles(
    proposals: QuerySet[Proposal], *, fractions: tuple[float, ...], group_by: tuple[str, ...] = ()
) -> dict[tuple, list[float | None]]:
    """Nearest-rank percentiles of the seconds to decision of the human verdicts among `proposals`,
    per group of `group_by` values (one group, key `()`, without it).

    PostgreSQL: PERCENTILE_DISC in one grouped query. SQLite has none: per group, one ordered
    probe per rank (OFFSET rank - 1), so nothing but the wanted values comes back to Python.
    """
    decided = proposals.filter(HUMAN_VERDICT, decided_at__isnull=False)
    if connection.vendor == "postgresql":
        percentiles = PercentilesDisc(seconds_to_decision(), fractions=fractions)
        if not group_by:
            seconds = decided.aggregate(seconds=percentiles)["seconds"]
            return {(): list(seconds)} if seconds else {}
        rows = decided.values(*group_by).annotate(seconds=percentiles).order_by()
        return {tuple(row[name] for name in group_by): list(row["seconds"]) for row in rows}
    found: dict[tuple, list[float | None]] = {}
    if group_by:
        counts = list(decided.values(*group_by).annotate(verdicts=Count("id")).order_by())
    else:
        counts = [{"verdicts": total}] if (total := decided.count()) else []
    for row in counts:
        key = tuple(row[name] for name in group_by)
        ordered = (
            decided.filter(**{name: row[name] for name in group_by})
            .annotate(seconds=seconds_to_decision())
            .order_by("seconds")
            .values_list("seconds", flat=True)
        )
        found[key] = [ordered[nearest_rank(count=row["verdicts"], fraction=fraction) - 1] for fraction in fractions]
    return found
