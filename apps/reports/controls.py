"""The control matrix: each regulatory requirement the platform answers, as data.

One module on purpose (issue 18 asks for the controls as data in one module), hence over 400
lines: an auditor reads the whole matrix, each control beside its evidence function, top to bottom.

A control names its regulation and clause, states the requirement in the platform's words,
says how the platform meets it, computes its live evidence for a period (`Evidence`: a status,
the figures, the reason, links to where the evidence lives) and names the tests that prove the
behaviour. The API, the compliance page and the PDF report all call `controls_evaluate`, so
one function defines each figure.

Every figure is an aggregate query (COUNT ... FILTER over the period's rows, one grouped scan of
the period's audit events shared by all controls): the cost grows with the period's volume in
the database, never with Python work per row. 30 days of 1M decisions (1.35M proposals, 1M audit
events), SQLite, on a busy 2-core machine: 4.1 s (benchmarks/bench_controls.py; the report's
executive summary of the same period: 23 s).
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property, reduce

from django.conf import settings
from django.db.models import Count, F, Max, Min, Q, TextChoices, TextField, Value
from django.db.models.functions import Cast
from django.db.models.lookups import Exact
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.events import AccountEvents
from apps.accounts.models import ReviewerProfile
from apps.agents.events import AgentEvents
from apps.agents.models import Agent
from apps.audit.events import AuditEvents
from apps.audit.models import Checkpoint, VerificationRun
from apps.policies.events import PolicyEvents
from apps.policies.models import ComplianceExposure, Mode, PolicyVersion
from apps.proposals.events import ProposalEvents
from apps.proposals.models import ApprovedBy, Proposal, Status, Verdict

from .events import ReportEvents
from .scans import period_filter
from .selectors import ReportScope, scope_decisions, scope_proposals

# EU AI Act Art. 19(1) and 26(6): logs kept "for a period ... of at least six months".
LEGAL_MIN_RETENTION_DAYS = 183
# 11.10(a): a full verification older than this (the nightly task runs one a day) needs a look.
FULL_VERIFICATION_MAX_AGE = timedelta(days=2)
# The audit actions the evidence counts, as their writers declare them.
SIGNATURE_FAILED = AccountEvents.SIGNATURE_FAILED
SIGNING_LOCKED = AccountEvents.SIGNING_LOCKED
LOGIN_FAILED = AccountEvents.LOGIN_FAILED
LOCKED_OUT = AccountEvents.LOCKED_OUT
DECISION_RECORDED = ProposalEvents.DECISION_RECORDED
PROPOSAL_SUBMITTED = ProposalEvents.SUBMITTED
AGENT_SUSPENDED = AgentEvents.SUSPENDED
AGENT_RESUMED = AgentEvents.RESUMED
REDACTED = AuditEvents.REDACTED
PAYLOADS_PURGED = ProposalEvents.PAYLOADS_PURGED
REPORT_GENERATED = ReportEvents.GENERATED
REPORT_FAILED = ReportEvents.FAILED
REPORT_EXPORTED = ReportEvents.EXPORTED
ROLE_CHANGES = (
    AccountEvents.ROLE_GRANTED,
    AccountEvents.ROLE_REVOKED,
    AccountEvents.PERMISSION_GRANTED,
    AccountEvents.PERMISSION_REVOKED,
)
POLICY_CHANGED = PolicyEvents.CHANGED
_VERDICTS = (Verdict.APPROVE, Verdict.MODIFY, Verdict.REJECT)
_APPROVALS = (Verdict.APPROVE, Verdict.MODIFY)
_FOUR_EYES_APPROVED = Q(approvals_required__gt=1, status=Status.APPROVED, approved_by=ApprovedBy.HUMAN)


class ControlStatus(TextChoices):
    MET = "met", gettext_lazy("met")
    ATTENTION = "attention", gettext_lazy("attention")
    NOT_MET = "not_met", gettext_lazy("not met")


@dataclass
class Evidence:
    """What a control's evidence function returns: figures are ints, floats, ISO texts or None."""

    status: str
    reason: str
    figures: dict = field(default_factory=dict)
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Control:
    id: str
    regulation: str
    clause: str
    requirement: str
    implementation: str
    evidence: Callable[["PeriodFacts"], Evidence]
    tests: tuple[str, ...]


@dataclass
class ControlResult:
    control: Control
    evidence: Evidence

    def as_dict(self) -> dict:
        """The machine form of the API and of controls.jsonl (text in the active language)."""
        control, evidence = self.control, self.evidence
        return {
            "id": control.id,
            "regulation": control.regulation,
            "clause": control.clause,
            "requirement": str(control.requirement),
            "implementation": str(control.implementation),
            "status": str(evidence.status),
            "reason": evidence.reason,
            "figures": evidence.figures,
            "links": [{"label": str(label), "url": url} for label, url in evidence.links],
            "tests": list(control.tests),
        }

    @property
    def status_label(self) -> str:
        return str(ControlStatus(self.evidence.status).label)

    @property
    def figure_rows(self) -> list[tuple[str, str]]:
        """(label, localized value) of each figure, for the page and the PDF."""
        return [
            (str(FIGURE_LABELS.get(key, key)), _figure_text(key, value)) for key, value in self.evidence.figures.items()
        ]


def controls_evaluate(scope: ReportScope) -> list[ControlResult]:
    """Every control with its evidence for the period of `scope` (its agent and action type are
    ignored: the controls speak for the whole platform)."""
    facts = PeriodFacts(scope)
    return [ControlResult(control=control, evidence=control.evidence(facts)) for control in CONTROLS]


def _figure_text(key: str, value) -> str:
    from .templatetags.report_format import num, pct, when

    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key.endswith("_rate"):
        return pct(value)
    if key.endswith("_at") and value:
        return when(datetime.fromisoformat(value))
    return num(value) if value is None or isinstance(value, int | float) else str(value)


def controls_summary(results: list[ControlResult]) -> dict[str, int]:
    """How many controls have each status."""
    counts = dict.fromkeys(ControlStatus.values, 0)
    for result in results:
        counts[result.evidence.status] += 1
    return counts


def controls_document(scope: ReportScope, results: list[ControlResult]) -> dict:
    """The matrix of a period in its machine form: the API's body; controls.jsonl has its rows."""
    return {
        "period_start": scope.period_start.isoformat(),
        "period_end": scope.period_end.isoformat(),
        "summary": controls_summary(results),
        "controls": [result.as_dict() for result in results],
    }


# --- the facts of a period, each read once and shared by the controls --------------------------


class PeriodFacts:
    """Lazily read aggregates of one period; each is one query whatever the volume."""

    def __init__(self, scope: ReportScope):
        self.scope = scope

    @cached_property
    def events(self) -> dict:
        """Per audit action: events of the period; with their total and first and last seq."""
        rows = list(
            self._period_events().values("action").annotate(count=Count("seq"), first=Min("seq"), last=Max("seq"))
        )
        return {
            "by_action": {row["action"]: row["count"] for row in rows},
            "total": sum(row["count"] for row in rows),
            "first_seq": min((row["first"] for row in rows), default=None),
            "last_seq": max((row["last"] for row in rows), default=None),
        }

    def count(self, *actions: str) -> int:
        return sum(self.events["by_action"].get(action, 0) for action in actions)

    @cached_property
    def decisions(self) -> dict:
        """Signatures on decisions of the period and what each one lacks.

        Owners, suspensions and licence expiries are a handful of rows: read first, each becomes
        a condition on the decision's own columns, so the scan joins only the proposal (for its
        final instant) instead of agents and profiles (100k decisions: 0.77 -> 0.3 s).
        """
        decisions = scope_decisions(self._whole())
        counts = {
            "total": Count("id"),
            "incomplete_signature": Count("id", filter=Q(signer_name="") | Q(signature_meaning="")),
            "unversioned": Count("id", filter=Q(payload_version="")),
            "after_final": Count(
                "id", filter=Q(proposal__decided_at__isnull=False, signed_at__gt=F("proposal__decided_at"))
            ),
            "without_rationale": Count("id", filter=Q(rationale="")),
            "without_licence": Count("id", filter=~Q(reviewer_id__in=_licensed_reviewers())),
            "overrides": Count("id", filter=Q(verdict__in=(Verdict.REJECT, Verdict.MODIFY))),
            "human_verdicts": Count("id", filter=Q(verdict__in=_VERDICTS)),
        }
        conditional = {
            "by_agent_owner": [
                Q(proposal__agent_id=agent_id, reviewer_id=owner_id) for agent_id, owner_id in _agent_owners()
            ],
            "expired_licence": [
                Q(reviewer_id=reviewer_id, signed_at__gte=_day_after(expires_on))
                for reviewer_id, expires_on in _licence_expiries(before=self.scope.period_end)
            ],
            "approved_while_suspended": [
                Q(verdict__in=_APPROVALS, proposal__agent_id=agent_id, signed_at__gte=suspended_at)
                for agent_id, suspended_at in self.suspensions
            ],
        }
        counts.update(
            {name: Count("id", filter=_any(conditions)) for name, conditions in conditional.items() if conditions}
        )
        figures = decisions.aggregate(**counts)
        return {**dict.fromkeys(conditional, 0), **figures}

    @cached_property
    def suspensions(self) -> list[tuple]:
        """(agent id, suspended since) of the agents suspended now."""
        return list(Agent.objects.filter(suspended_at__isnull=False).values_list("pk", "suspended_at"))

    @cached_property
    def signers(self) -> dict:
        """Distinct signers of the period, and printed names under which more than one account
        signed: one GROUP BY whose rows are (name, account) pairs, as many as there are signers."""
        pairs = list(scope_decisions(self._whole()).values_list("signer_name", "reviewer_id").distinct().order_by())
        accounts_per_name: dict[str, int] = {}
        for name, _reviewer in pairs:
            accounts_per_name[name] = accounts_per_name.get(name, 0) + 1
        return {
            "signers": len({reviewer for _name, reviewer in pairs}),
            "shared_printed_names": sum(1 for accounts in accounts_per_name.values() if accounts > 1),
        }

    @cached_property
    def proposals(self) -> dict:
        high_risk = Q(compliance_exposure=ComplianceExposure.HIGH) | Q(irreversible=True)
        counts = {
            "total": Count("id"),
            # The stored text, not a JSON comparison: no parse per row (100k proposals: 0.98 -> 0.1 s).
            "unexplained": Count("id", filter=Exact(Cast("routing", TextField()), Value("{}"))),
            "autonomous_high_risk": Count("id", filter=Q(mode=Mode.AUTONOMOUS) & high_risk),
            "approved_on_expiry": Count(
                "id", filter=Q(mode=Mode.PRE_APPROVAL, status=Status.APPROVED, approved_by=ApprovedBy.POLICY)
            ),
            "four_eyes_items": Count("id", filter=_FOUR_EYES_APPROVED),
        }
        suspended = [Q(agent_id=agent_id, created_at__gte=since) for agent_id, since in self.suspensions]
        if suspended:
            counts["submitted_while_suspended"] = Count("id", filter=_any(suspended))
        proposals = period_filter(
            Proposal.objects.all(), field="created_at", since=self.scope.since, until=self.scope.until
        )
        return {"submitted_while_suspended": 0, **proposals.aggregate(**counts)}

    @cached_property
    def four_eyes(self) -> dict:
        """Proposals that needed two or more approvals and were approved by humans in the period,
        and those approved by fewer distinct reviewers (counted only when there are any)."""
        items = self.proposals["four_eyes_items"]
        if not items:
            return {"items": 0, "under_approved": 0}
        under = (
            scope_proposals(self._whole())
            .filter(_FOUR_EYES_APPROVED)
            .annotate(
                approvers=Count("decisions__reviewer", filter=Q(decisions__verdict__in=_APPROVALS), distinct=True)
            )
            .filter(approvers__lt=F("approvals_required"))
            .count()
        )
        return {"items": items, "under_approved": under}

    @cached_property
    def purges(self) -> dict:
        """Proposal contents purged in the period, and those purged before the legal minimum.

        A purge always records its event in the same transaction: without one in the period
        there is nothing to count, and the unindexed scan of every proposal is skipped.
        """
        if not self.count(PAYLOADS_PURGED):
            return {"purged": 0, "too_early": 0}
        purged = Proposal.objects.filter(
            payload_purged_at__gte=self.scope.since, payload_purged_at__lt=self.scope.until
        )
        return purged.aggregate(
            purged=Count("id"),
            too_early=Count(
                "id", filter=Q(payload_purged_at__lt=F("created_at") + timedelta(days=LEGAL_MIN_RETENTION_DAYS))
            ),
        )

    @cached_property
    def integrity(self) -> dict:
        """The chain's verification (last full run plus what came since) and the latest checkpoint."""
        from apps.audit.verification import audit_verification_status

        verification, last_full = audit_verification_status()
        checkpoint = Checkpoint.objects.order_by("-tree_size").first()
        return {"verification": verification, "last_full": last_full, "checkpoint": checkpoint}

    @cached_property
    def full_verifications(self) -> int:
        return VerificationRun.objects.filter(
            kind=VerificationRun.Kind.FULL, finished_at__gte=self.scope.since, finished_at__lt=self.scope.until
        ).count()

    @cached_property
    def policy_activations(self) -> dict:
        activated = PolicyVersion.objects.filter(activated_at__gte=self.scope.since, activated_at__lt=self.scope.until)
        return activated.aggregate(
            total=Count("id"),
            by_author=Count("id", filter=Q(activated_by__isnull=False, activated_by=F("created_by"))),
            unattributed=Count("id", filter=Q(activated_by__isnull=True) | Q(created_by__isnull=True)),
        )

    @cached_property
    def review_behaviour(self) -> dict:
        """Quick decisions and rubber-stamp reviewers, as Insights defines them."""
        from apps.insights.selectors import Window, reviewer_figures_for

        window = Window(days=self.scope.days, start=self.scope.since, end=self.scope.until - timedelta(microseconds=1))
        reviewers = reviewer_figures_for(window=window)
        return {
            "quick_decisions": sum(row["quick_decisions"] for row in reviewers),
            "rubber_stamp_reviewers": sum(1 for row in reviewers if row["rubber_stamp"]),
        }

    def _whole(self) -> ReportScope:
        return ReportScope(
            period_start=self.scope.period_start, period_end=self.scope.period_end, cutoff=self.scope.cutoff
        )

    def _period_events(self):
        from .selectors import scope_audit_events

        return scope_audit_events(self.scope)

    # links into the evidence

    def audit_link(self, action: str = "") -> tuple[str, str]:
        query = {"since": self.scope.period_start.isoformat(), "until": self.scope.period_end.isoformat()}
        if action:
            label = _("Audit events “%(action)s” of the period") % {"action": action}
            query = {"action": action, **query}
        else:
            label = _("Audit events of the period")
        return label, f"{reverse('compliance:audit')}?{urlencode(query)}"

    def verify_link(self) -> tuple[str, str]:
        return _("Verification of the audit trail"), reverse("compliance:verify")

    def reports_link(self) -> tuple[str, str]:
        return _("Signed reports"), reverse("compliance:reports")

    def exports_link(self) -> tuple[str, str]:
        query = urlencode(
            {"period_start": self.scope.period_start.isoformat(), "period_end": self.scope.period_end.isoformat()}
        )
        return _("Exports of the period"), f"{reverse('compliance:exports')}?{query}"


def _any(conditions: list[Q]) -> Q:
    return reduce(operator.or_, conditions)


def _agent_owners() -> list[tuple]:
    return list(Agent.objects.filter(owner__isnull=False).values_list("pk", "owner_id"))


def _licensed_reviewers():
    return ReviewerProfile.objects.exclude(licence_number="").values("user_id")


def _licence_expiries(*, before: date) -> list[tuple]:
    """(reviewer id, expiry day) of the licences that expired before the period's last day."""
    return list(
        ReviewerProfile.objects.filter(licence_expires_on__lt=before).values_list("user_id", "licence_expires_on")
    )


def _day_after(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=UTC)


# --- evidence functions, one per control --------------------------------------------------------


def _met(reason: str, figures: dict, links: list) -> Evidence:
    return Evidence(status=ControlStatus.MET, reason=reason, figures=figures, links=links)


def _evidence(problems: list[tuple[str, str]], *, met: str, figures: dict, links: list) -> Evidence:
    """The worst status among `problems` ((status, reason), in order of importance), else met."""
    for status in (ControlStatus.NOT_MET, ControlStatus.ATTENTION):
        reasons = [reason for problem_status, reason in problems if problem_status == status]
        if reasons:
            return Evidence(status=status, reason=" ".join(reasons), figures=figures, links=links)
    return _met(met, figures, links)


def _chain_figures(facts: PeriodFacts) -> dict:
    integrity = facts.integrity
    verification, last_full, checkpoint = integrity["verification"], integrity["last_full"], integrity["checkpoint"]
    return {
        "chain_intact": bool(verification.ok),
        "events_checked": verification.events_checked,
        "first_bad_seq": verification.first_bad_seq,
        "last_full_verification_at": last_full.finished_at.isoformat() if last_full else None,
        "checkpoint_tree_size": checkpoint.tree_size if checkpoint else None,
    }


def _chain_broken(facts: PeriodFacts) -> list[tuple[str, str]]:
    verification = facts.integrity["verification"]
    if verification.ok:
        return []
    return [
        (
            ControlStatus.NOT_MET,
            _("The audit trail fails verification at event %(seq)s: %(reason)s")
            % {"seq": verification.first_bad_seq, "reason": verification.reason},
        )
    ]


def evidence_altered_records(facts: PeriodFacts) -> Evidence:
    last_full = facts.integrity["last_full"]
    problems = _chain_broken(facts)
    if last_full is None:
        problems.append((ControlStatus.ATTENTION, _("No full verification of the audit trail has been recorded.")))
    elif last_full.finished_at < (facts.scope.cutoff or timezone.now()) - FULL_VERIFICATION_MAX_AGE:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("The last full verification of the audit trail is more than %(days)s days old.")
                % {"days": FULL_VERIFICATION_MAX_AGE.days},
            )
        )
    return _evidence(
        problems,
        met=_("Every event of the audit trail verifies; a full verification ran recently."),
        figures=_chain_figures(facts),
        links=[facts.verify_link()],
    )


def evidence_copies(facts: PeriodFacts) -> Evidence:
    figures = {
        "reports_generated": facts.count(REPORT_GENERATED),
        "reports_failed": facts.count(REPORT_FAILED),
        "exports": facts.count(REPORT_EXPORTED),
    }
    problems = []
    if figures["reports_failed"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s report(s) failed to generate.") % {"count": figures["reports_failed"]},
            )
        )
    return _evidence(
        problems,
        met=_("Signed PDF/A reports and CSV/JSONL exports of any period are available on request."),
        figures=figures,
        links=[facts.reports_link(), facts.exports_link(), facts.audit_link("report.")],
    )


def evidence_access_checks(facts: PeriodFacts) -> Evidence:
    decisions = facts.decisions
    figures = {
        "decisions": decisions["total"],
        "decisions_by_agent_owner": decisions["by_agent_owner"],
        "failed_logins": facts.count(LOGIN_FAILED),
        "account_lockouts": facts.count(LOCKED_OUT),
        "role_changes": facts.count(*ROLE_CHANGES),
    }
    problems = []
    if figures["decisions_by_agent_owner"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s decision(s) were signed by the owner of the proposing agent.")
                % {"count": figures["decisions_by_agent_owner"]},
            )
        )
    if figures["account_lockouts"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s account lockout(s) after repeated failed sign-ins.")
                % {"count": figures["account_lockouts"]},
            )
        )
    return _evidence(
        problems,
        met=_("Every decision was signed by an authorized reviewer who does not own the agent."),
        figures=figures,
        links=[facts.audit_link("auth."), facts.audit_link("role.")],
    )


def evidence_audit_trail(facts: PeriodFacts) -> Evidence:
    events = facts.events
    first, last = events["first_seq"], events["last_seq"]
    missing_seq = (last - first + 1 - events["total"]) if first is not None else 0
    unlogged = max(facts.decisions["total"] - facts.count(DECISION_RECORDED), 0)
    figures = {
        "audit_events": events["total"],
        "first_seq": first,
        "last_seq": last,
        "missing_seq": missing_seq,
        "decisions": facts.decisions["total"],
        "decisions_without_event": unlogged,
    }
    problems = []
    if missing_seq:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s sequence number(s) are missing between the period's first and last event.")
                % {"count": missing_seq},
            )
        )
    if unlogged:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s decision(s) of the period have no “decision.recorded” event in it.") % {"count": unlogged},
            )
        )
    return _evidence(
        problems,
        met=_("Every decision has its time-stamped event; the sequence is gapless."),
        figures=figures,
        links=[facts.audit_link(DECISION_RECORDED)],
    )


def evidence_sequencing(facts: PeriodFacts) -> Evidence:
    figures = {"decisions": facts.decisions["total"], "decisions_after_final": facts.decisions["after_final"]}
    problems = []
    if figures["decisions_after_final"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s decision(s) were signed after their proposal was final.")
                % {"count": figures["decisions_after_final"]},
            )
        )
    return _evidence(
        problems,
        met=_("Every decision was signed while its proposal was still open."),
        figures=figures,
        links=[facts.audit_link(DECISION_RECORDED)],
    )


def evidence_signature_manifestation(facts: PeriodFacts) -> Evidence:
    figures = {"signatures": facts.decisions["total"], "incomplete_signatures": facts.decisions["incomplete_signature"]}
    problems = []
    if figures["incomplete_signatures"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s signature(s) lack the printed name or the meaning.")
                % {"count": figures["incomplete_signatures"]},
            )
        )
    return _evidence(
        problems,
        met=_("Every signature shows the printed name, the instant and the meaning."),
        figures=figures,
        links=[facts.audit_link(DECISION_RECORDED)],
    )


def evidence_signature_link(facts: PeriodFacts) -> Evidence:
    figures = {"signatures": facts.decisions["total"], "unversioned_signatures": facts.decisions["unversioned"]}
    problems = []
    if figures["unversioned_signatures"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s signature(s) do not name the payload version they signed.")
                % {"count": figures["unversioned_signatures"]},
            )
        )
    return _evidence(
        problems,
        met=_("Every signature names the hash of the payload version it signed."),
        figures=figures,
        links=[facts.audit_link(DECISION_RECORDED)],
    )


def evidence_unique_signatures(facts: PeriodFacts) -> Evidence:
    figures = {"signers": facts.signers["signers"], "shared_printed_names": facts.signers["shared_printed_names"]}
    problems = []
    if figures["shared_printed_names"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s printed name(s) were used by more than one account.")
                % {"count": figures["shared_printed_names"]},
            )
        )
    return _evidence(
        problems,
        met=_("Each signer signed under their own account and printed name."),
        figures=figures,
        links=[facts.audit_link("user.")],
    )


def evidence_signature_components(facts: PeriodFacts) -> Evidence:
    idle = settings.SESSION_IDLE_TIMEOUT
    figures = {"signatures": facts.decisions["total"], "session_idle_timeout_seconds": idle}
    problems = []
    if not 0 < idle <= settings.CONTROLS_MAX_SESSION_IDLE_SECONDS:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("The idle session timeout is %(seconds)s seconds; at most %(limit)s are expected.")
                % {"seconds": idle, "limit": settings.CONTROLS_MAX_SESSION_IDLE_SECONDS},
            )
        )
    return _evidence(
        problems,
        met=_("Each signature re-entered the password of the signed-in user; idle sessions end."),
        figures=figures,
        links=[facts.audit_link("auth.")],
    )


def evidence_unauthorized_use(facts: PeriodFacts) -> Evidence:
    figures = {
        "failed_signatures": facts.count(SIGNATURE_FAILED),
        "signing_lockouts": facts.count(SIGNING_LOCKED),
        "failed_logins": facts.count(LOGIN_FAILED),
        "account_lockouts": facts.count(LOCKED_OUT),
    }
    problems = []
    if figures["signing_lockouts"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s signature lockout(s) after repeated wrong signature passwords.")
                % {"count": figures["signing_lockouts"]},
            )
        )
    if figures["account_lockouts"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s account lockout(s) after repeated failed sign-ins.")
                % {"count": figures["account_lockouts"]},
            )
        )
    return _evidence(
        problems,
        met=_("Failed sign-ins and signatures are recorded; no lockout happened."),
        figures=figures,
        links=[facts.audit_link("auth.")],
    )


def evidence_automatic_logging(facts: PeriodFacts) -> Evidence:
    proposals = facts.proposals["total"]
    logged = facts.count(PROPOSAL_SUBMITTED)
    figures = {
        "proposals": proposals,
        "submission_events": logged,
        "audit_events": facts.events["total"],
        "proposals_without_event": max(proposals - logged, 0),
    }
    problems = []
    if figures["proposals_without_event"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s proposal(s) of the period have no “proposal.submitted” event.")
                % {"count": figures["proposals_without_event"]},
            )
        )
    return _evidence(
        problems,
        met=_("Every proposal of the period was logged automatically when it was submitted."),
        figures=figures,
        links=[facts.audit_link(PROPOSAL_SUBMITTED)],
    )


def evidence_automation_bias(facts: PeriodFacts) -> Evidence:
    behaviour = facts.review_behaviour
    verdicts = facts.decisions["human_verdicts"]
    quick_rate = behaviour["quick_decisions"] / verdicts if verdicts else None
    figures = {
        "human_verdicts": verdicts,
        "quick_decisions": behaviour["quick_decisions"],
        "quick_decision_rate": quick_rate,
        "rubber_stamp_reviewers": behaviour["rubber_stamp_reviewers"],
    }
    problems = []
    if behaviour["rubber_stamp_reviewers"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s reviewer(s) approved almost everything over a large sample.")
                % {"count": behaviour["rubber_stamp_reviewers"]},
            )
        )
    if quick_rate is not None and quick_rate > settings.CONTROLS_MAX_QUICK_DECISION_RATE:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s decision(s) were signed within seconds of the first look at the proposal.")
                % {"count": behaviour["quick_decisions"]},
            )
        )
    return _evidence(
        problems,
        met=_("Reviewers spent time on their items; no rubber-stamp pattern was found."),
        figures=figures,
        links=[(_("Insights"), reverse("insights:index"))],
    )


def evidence_override_and_stop(facts: PeriodFacts) -> Evidence:
    figures = {
        "overrides": facts.decisions["overrides"],
        "agent_suspensions": facts.count(AGENT_SUSPENDED),
        "agent_resumptions": facts.count(AGENT_RESUMED),
        "submitted_while_suspended": facts.proposals["submitted_while_suspended"],
        "approved_while_suspended": facts.decisions["approved_while_suspended"],
    }
    problems = []
    leaked = figures["submitted_while_suspended"] + figures["approved_while_suspended"]
    if leaked:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s proposal(s) were submitted or approved while their agent was suspended.")
                % {"count": leaked},
            )
        )
    return _evidence(
        problems,
        met=_("Reviewers rejected or modified proposals; suspended agents were stopped."),
        figures=figures,
        links=[facts.audit_link("agent.")],
    )


def evidence_four_eyes(facts: PeriodFacts) -> Evidence:
    figures = {"four_eyes_items": facts.four_eyes["items"], "under_approved": facts.four_eyes["under_approved"]}
    problems = []
    if figures["under_approved"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s proposal(s) were approved by fewer distinct reviewers than required.")
                % {"count": figures["under_approved"]},
            )
        )
    return _evidence(
        problems,
        met=_("Every proposal that needed several approvals had them from distinct reviewers."),
        figures=figures,
        links=[facts.audit_link(DECISION_RECORDED)],
    )


def evidence_log_retention(facts: PeriodFacts) -> Evidence:
    configured = settings.AUDIT_MIN_RETENTION_DAYS
    figures = {
        "retention_days": configured,
        "purge_runs": facts.count(PAYLOADS_PURGED),
        "payloads_purged": facts.purges["purged"],
        "purged_too_early": facts.purges["too_early"],
    }
    problems = []
    if configured < LEGAL_MIN_RETENTION_DAYS:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("The minimum retention is set to %(days)s days, below six months (%(legal)s days).")
                % {"days": configured, "legal": LEGAL_MIN_RETENTION_DAYS},
            )
        )
    if figures["purged_too_early"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s proposal(s) were purged less than six months after submission.")
                % {"count": figures["purged_too_early"]},
            )
        )
    return _evidence(
        problems,
        met=_("Audit events are never deleted; payloads are kept at least six months."),
        figures=figures,
        links=[facts.audit_link(PAYLOADS_PURGED)],
    )


def evidence_named_competent_people(facts: PeriodFacts) -> Evidence:
    decisions = facts.decisions
    figures = {
        "signers": facts.signers["signers"],
        "decisions": decisions["total"],
        "decisions_without_licence": decisions["without_licence"],
        "decisions_with_expired_licence": decisions["expired_licence"],
    }
    problems = []
    if figures["decisions_with_expired_licence"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s decision(s) were signed after the reviewer's licence had expired.")
                % {"count": figures["decisions_with_expired_licence"]},
            )
        )
    if figures["decisions_without_licence"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s decision(s) were signed by reviewers without a recorded licence.")
                % {"count": figures["decisions_without_licence"]},
            )
        )
    return _evidence(
        problems,
        met=_("Every decision was signed by a named reviewer with a licence valid that day."),
        figures=figures,
        links=[facts.reports_link()],
    )


def evidence_explanation(facts: PeriodFacts) -> Evidence:
    figures = {
        "proposals": facts.proposals["total"],
        "proposals_without_routing": facts.proposals["unexplained"],
        "decisions": facts.decisions["total"],
        "decisions_without_rationale": facts.decisions["without_rationale"],
    }
    problems = []
    if figures["decisions_without_rationale"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s decision(s) have no rationale.") % {"count": figures["decisions_without_rationale"]},
            )
        )
    if figures["proposals_without_routing"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s proposal(s) have no recorded routing explanation.")
                % {"count": figures["proposals_without_routing"]},
            )
        )
    return _evidence(
        problems,
        met=_("Every proposal records why it was routed; every decision records its rationale."),
        figures=figures,
        links=[facts.audit_link(PROPOSAL_SUBMITTED), facts.audit_link(DECISION_RECORDED)],
    )


def evidence_erasure(facts: PeriodFacts) -> Evidence:
    verification = facts.integrity["verification"]
    figures = {
        "redactions": facts.count(REDACTED),
        "redacted_total": verification.redacted,
        "chain_intact": bool(verification.ok),
    }
    return _evidence(
        _chain_broken(facts),
        met=_("Erased event data leaves the audit trail verifiable."),
        figures=figures,
        links=[facts.audit_link(REDACTED), facts.verify_link()],
    )


def evidence_human_involvement(facts: PeriodFacts) -> Evidence:
    figures = {
        "proposals": facts.proposals["total"],
        "autonomous_high_risk": facts.proposals["autonomous_high_risk"],
        "approved_on_expiry": facts.proposals["approved_on_expiry"],
    }
    problems = []
    if figures["autonomous_high_risk"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s irreversible or high-exposure proposal(s) ran without a human.")
                % {"count": figures["autonomous_high_risk"]},
            )
        )
    if figures["approved_on_expiry"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s proposal(s) were approved by policy because nobody decided in time.")
                % {"count": figures["approved_on_expiry"]},
            )
        )
    return _evidence(
        problems,
        met=_("Proposals of high risk waited for a human; none was approved for lack of one."),
        figures=figures,
        links=[facts.reports_link()],
    )


def evidence_audit_controls(facts: PeriodFacts) -> Evidence:
    figures = {
        "audit_events": facts.events["total"],
        "full_verifications": facts.full_verifications,
        "reports_generated": facts.count(REPORT_GENERATED),
        "exports": facts.count(REPORT_EXPORTED),
    }
    problems = []
    if not figures["full_verifications"]:
        problems.append((ControlStatus.ATTENTION, _("No full verification of the audit trail ran in the period.")))
    return _evidence(
        problems,
        met=_("Activity was recorded and the audit trail was examined in the period."),
        figures=figures,
        links=[facts.verify_link(), facts.audit_link()],
    )


def evidence_integrity(facts: PeriodFacts) -> Evidence:
    figures = _chain_figures(facts)
    problems = _chain_broken(facts)
    last_seq, checkpoint = facts.events["last_seq"], facts.integrity["checkpoint"]
    if last_seq is not None and (checkpoint is None or checkpoint.tree_size < last_seq):
        problems.append((ControlStatus.ATTENTION, _("No signed checkpoint covers the last event of the period yet.")))
    return _evidence(
        problems,
        met=_("The audit trail verifies and a signed checkpoint covers the period."),
        figures=figures,
        links=[facts.verify_link()],
    )


def evidence_change_management(facts: PeriodFacts) -> Evidence:
    activations = facts.policy_activations
    figures = {
        "policy_activations": activations["total"],
        "activated_by_author": activations["by_author"],
        "activated_without_second_person": activations["unattributed"],
    }
    problems = []
    if activations["by_author"]:
        problems.append(
            (
                ControlStatus.NOT_MET,
                _("%(count)s policy version(s) were activated by their own author.")
                % {"count": activations["by_author"]},
            )
        )
    if activations["unattributed"]:
        problems.append(
            (
                ControlStatus.ATTENTION,
                _("%(count)s policy version(s) were activated from the command line, without a second person.")
                % {"count": activations["unattributed"]},
            )
        )
    return _evidence(
        problems,
        met=_("Every policy change was drafted by one administrator and activated by another."),
        figures=figures,
        links=[facts.audit_link(POLICY_CHANGED), facts.audit_link("policy.")],
    )


# --- the matrix ------------------------------------------------------------------------------------

CFR11 = "21 CFR Part 11"
AI_ACT = "EU AI Act"
GDPR = "GDPR"
HIPAA = "HIPAA"
SOC2 = "SOC 2"

CONTROLS: tuple[Control, ...] = (
    Control(
        id="CFR11-10a",
        regulation=CFR11,
        clause="11.10(a)",
        requirement=gettext_lazy("The system can discern invalid or altered records."),
        implementation=gettext_lazy(
            "Every event is hash-chained and its data salted and hashed; verification re-hashes the chain "
            "and names the first altered event; signed Merkle checkpoints pin its state."
        ),
        evidence=evidence_altered_records,
        tests=(
            "tests/audit/test_audit_verify.py::test_changed_data_is_named_by_seq",
            "tests/audit/test_audit_verify.py::test_rewritten_event_with_recomputed_hash_breaks_the_next_link",
        ),
    ),
    Control(
        id="CFR11-10b",
        regulation=CFR11,
        clause="11.10(b)",
        requirement=gettext_lazy("Accurate and complete copies of records in human-readable and electronic form."),
        implementation=gettext_lazy(
            "Signed PDF/A-3 reports embed every decision and audit event of the period as JSON Lines; "
            "CSV and JSONL exports stream any period."
        ),
        evidence=evidence_copies,
        tests=(
            "tests/reports/test_report_pdf.py::test_the_attachments_hold_every_decision_and_audit_event_of_the_period",
            "tests/reports/test_exports_api.py::test_decisions_csv_has_a_row_per_decision",
        ),
    ),
    Control(
        id="CFR11-10dg",
        regulation=CFR11,
        clause="11.10(d), 11.10(g)",
        requirement=gettext_lazy("Access is limited to authorized individuals, and authority is checked."),
        implementation=gettext_lazy(
            "Roles and per-queue object permissions decide who sees and decides what; nobody decides for an "
            "agent they own; repeated failed sign-ins lock the account."
        ),
        evidence=evidence_access_checks,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_the_owner_of_the_agent_may_not_decide",
            "tests/proposals/test_proposal_decide.py::test_a_reviewer_without_the_queue_gets_not_found",
            "tests/proposals/test_proposal_decide.py::test_a_compliance_officer_may_look_but_not_decide",
            "tests/review/test_auth.py::test_five_failures_lock_the_account_and_the_lockout_is_audited",
        ),
    ),
    Control(
        id="CFR11-10e",
        regulation=CFR11,
        clause="11.10(e)",
        requirement=gettext_lazy(
            "Secure, computer-generated, time-stamped audit trails; changes do not obscure what was recorded."
        ),
        implementation=gettext_lazy(
            "Each change writes its event in the same transaction; the database refuses updates and deletes "
            "of events; sequence numbers are gapless."
        ),
        evidence=evidence_audit_trail,
        tests=(
            "tests/audit/test_audit_record.py::test_each_event_links_to_the_previous_one_gaplessly",
            "tests/audit/test_audit_record.py::test_event_rolls_back_with_the_callers_transaction",
            "tests/audit/test_immutability.py::test_the_orm_cannot_change_or_delete_an_event_either",
        ),
    ),
    Control(
        id="CFR11-10f",
        regulation=CFR11,
        clause="11.10(f)",
        requirement=gettext_lazy("Operational checks enforce the permitted sequencing of steps."),
        implementation=gettext_lazy(
            "A state machine decides each proposal: final states never change, a reject ends the approvals, "
            "a modification restarts them."
        ),
        evidence=evidence_sequencing,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_a_final_proposal_cannot_be_decided_again",
            "tests/proposals/test_proposal_decide.py::test_any_reject_ends_it",
        ),
    ),
    Control(
        id="CFR11-50",
        regulation=CFR11,
        clause="11.50",
        requirement=gettext_lazy("Signed records show the signer's printed name, the date and time, and the meaning."),
        implementation=gettext_lazy(
            "Each decision stores the printed name, the instant and the meaning (approved, rejected, ...); "
            "reports list them per reviewer."
        ),
        evidence=evidence_signature_manifestation,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_each_decision_records_the_signature_manifestation",
            "tests/reports/test_report_pdf.py::test_sign_offs_name_each_reviewer_with_licence_and_meanings",
        ),
    ),
    Control(
        id="CFR11-70",
        regulation=CFR11,
        clause="11.70",
        requirement=gettext_lazy("Signatures are linked to their records so they cannot be transferred."),
        implementation=gettext_lazy(
            "A signature names the hash of the payload version it approves; a decision on a stale version is refused."
        ),
        evidence=evidence_signature_link,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_a_stale_payload_version_is_a_conflict",
            "tests/proposals/test_proposal_decide.py::test_a_modification_starts_the_count_again",
        ),
    ),
    Control(
        id="CFR11-100",
        regulation=CFR11,
        clause="11.100(a)",
        requirement=gettext_lazy("Each electronic signature is unique to one individual and never reassigned."),
        implementation=gettext_lazy(
            "Signatures belong to personal accounts with unique usernames; accounts are deactivated, never "
            "renamed for someone else."
        ),
        evidence=evidence_unique_signatures,
        tests=(
            "tests/reports/test_controls.py::test_a_username_cannot_belong_to_two_accounts",
            "tests/proposals/test_proposal_decide.py::test_second_approval_by_same_reviewer_is_refused",
        ),
    ),
    Control(
        id="CFR11-200a",
        regulation=CFR11,
        clause="11.200(a)",
        requirement=gettext_lazy(
            "Signatures use two distinct identification components; sessions follow the signing rules."
        ),
        implementation=gettext_lazy(
            "Signing re-enters the password of the signed-in user (username and password); idle sessions time out."
        ),
        evidence=evidence_signature_components,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_a_wrong_password_writes_nothing",
            "tests/review/test_auth.py::test_an_idle_session_times_out",
        ),
    ),
    Control(
        id="CFR11-300d",
        regulation=CFR11,
        clause="11.300(d)",
        requirement=gettext_lazy("Attempts at unauthorized use are detected and reported."),
        implementation=gettext_lazy(
            "Failed sign-ins, lockouts, failed signatures and signature lockouts are audit events; this "
            "matrix counts them."
        ),
        evidence=evidence_unauthorized_use,
        tests=(
            "tests/review/test_auth.py::test_a_failed_sign_in_is_audited_without_the_password",
            "tests/review/test_auth.py::test_five_failures_lock_the_account_and_the_lockout_is_audited",
        ),
    ),
    Control(
        id="AIA-12",
        regulation=AI_ACT,
        clause="Art. 12",
        requirement=gettext_lazy("Events are logged automatically over the lifetime of the system."),
        implementation=gettext_lazy(
            "Every submission, routing, decision, escalation and execution is logged by the service that makes "
            "it, in the same transaction."
        ),
        evidence=evidence_automatic_logging,
        tests=(
            "tests/reports/test_controls.py::test_every_submission_and_decision_is_logged_automatically",
            "tests/audit/test_audit_record.py::test_event_rolls_back_with_the_callers_transaction",
        ),
    ),
    Control(
        id="AIA-14-4b",
        regulation=AI_ACT,
        clause="Art. 14(4)(b)",
        requirement=gettext_lazy("Overseers stay aware of automation bias."),
        implementation=gettext_lazy(
            "Insights measure time on item and flag quick decisions and reviewers who approve almost "
            "everything; QA samples decisions for a second look."
        ),
        evidence=evidence_automation_bias,
        tests=(
            "tests/insights/test_figures.py::test_quick_decisions_after_viewing",
            "tests/insights/test_figures.py::test_reviewer_figures_flag_a_rubber_stamp_over_a_large_sample",
        ),
    ),
    Control(
        id="AIA-14-4de",
        regulation=AI_ACT,
        clause="Art. 14(4)(d), 14(4)(e)",
        requirement=gettext_lazy("Overseers can disregard or reverse an output, and stop the system."),
        implementation=gettext_lazy(
            "Reviewers reject or modify proposals and flag executed actions; suspending an agent refuses its "
            "submissions and blocks approval of its pending proposals."
        ),
        evidence=evidence_override_and_stop,
        tests=(
            "tests/agents/test_agent_suspension.py::test_a_suspended_agent_cannot_submit",
            "tests/agents/test_agent_suspension.py::test_pending_proposals_of_a_suspended_agent_cannot_be_approved_until_resumed",
            "tests/proposals/test_proposal_decide.py::test_any_reject_ends_it",
        ),
    ),
    Control(
        id="AIA-14-5",
        regulation=AI_ACT,
        clause="Art. 14(5)",
        requirement=gettext_lazy("Separate verification and confirmation by at least two competent persons."),
        implementation=gettext_lazy(
            "A rule may require several approvals by distinct reviewers of the same payload version; one "
            "person cannot approve twice."
        ),
        evidence=evidence_four_eyes,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_two_distinct_approvals_approve_the_proposal",
            "tests/proposals/test_proposal_decide.py::test_second_approval_by_same_reviewer_is_refused",
        ),
    ),
    Control(
        id="AIA-19-26-6",
        regulation=AI_ACT,
        clause="Art. 19, 26(6)",
        requirement=gettext_lazy("Logs are kept for at least six months."),
        implementation=gettext_lazy(
            "No code path deletes audit events; a payload purge refuses anything younger than the minimum "
            "retention and is itself audited."
        ),
        evidence=evidence_log_retention,
        tests=(
            "tests/proposals/test_purge_payloads.py::test_purge_refuses_anything_younger_than_the_minimum_retention",
            "tests/proposals/test_purge_payloads.py::test_purge_empties_old_final_payloads_keeps_pending_ones_and_is_audited",
        ),
    ),
    Control(
        id="AIA-26-2",
        regulation=AI_ACT,
        clause="Art. 26(2)",
        requirement=gettext_lazy("Oversight is assigned to named people with the competence and authority."),
        implementation=gettext_lazy(
            "Reviewers have profiles with licence, expiry and authorization level; rules may require a level, "
            "and an expired licence may not decide there."
        ),
        evidence=evidence_named_competent_people,
        tests=(
            "tests/proposals/test_proposal_decide.py::test_an_expired_licence_may_not_decide_where_the_rule_asks",
            "tests/proposals/test_proposal_decide.py::test_the_rule_can_require_an_authorization_level",
        ),
    ),
    Control(
        id="AIA-86",
        regulation=AI_ACT,
        clause="Art. 86",
        requirement=gettext_lazy("A clear explanation of the role of the system in each decision."),
        implementation=gettext_lazy(
            "Each proposal stores its routing explanation (policy version, rule, every condition evaluated) and "
            "each decision its rationale."
        ),
        evidence=evidence_explanation,
        tests=(
            "tests/policies/test_routing.py::test_router_never_raises_and_always_explains",
            "tests/proposals/test_proposal_api.py::test_bad_decisions_get_400_and_write_nothing",
        ),
    ),
    Control(
        id="GDPR-17",
        regulation=GDPR,
        clause="Art. 17",
        requirement=gettext_lazy("Personal data can be erased without breaking the audit trail."),
        implementation=gettext_lazy(
            "An event's salted data can be erased by a recorded redaction; the chain commits to the data "
            "hash only, so it still verifies."
        ),
        evidence=evidence_erasure,
        tests=(
            "tests/audit/test_audit_redact.py::test_a_redacted_chain_still_verifies_and_reports_the_redaction",
            "tests/audit/test_audit_verify.py::test_data_deleted_without_redaction_is_named_by_seq",
        ),
    ),
    Control(
        id="GDPR-22",
        regulation=GDPR,
        clause="Art. 22",
        requirement=gettext_lazy("Decisions with legal or similar effect involve a human meaningfully."),
        implementation=gettext_lazy(
            "Policies route by risk; no matching rule or low confidence means human pre-approval, and "
            "post-review samples autonomous actions."
        ),
        evidence=evidence_human_involvement,
        tests=(
            "tests/policies/test_routing.py::test_no_matching_rule_means_pre_approval",
            "tests/policies/test_routing.py::test_confidence_below_the_rule_minimum_requires_approval",
        ),
    ),
    Control(
        id="HIPAA-312b",
        regulation=HIPAA,
        clause="164.312(b)",
        requirement=gettext_lazy("Mechanisms record and examine activity in systems holding the information."),
        implementation=gettext_lazy(
            "Sign-ins, views, decisions and exports are audit events; a nightly task verifies the whole trail; "
            "compliance pages and reports examine it."
        ),
        evidence=evidence_audit_controls,
        tests=(
            "tests/review/test_auth.py::test_signing_in_lands_on_the_queue_and_is_audited",
            "tests/audit/test_audit_record.py::test_each_event_links_to_the_previous_one_gaplessly",
        ),
    ),
    Control(
        id="HIPAA-312c",
        regulation=HIPAA,
        clause="164.312(c)(1)",
        requirement=gettext_lazy("Information is protected from improper alteration or destruction."),
        implementation=gettext_lazy(
            "The database refuses updates and deletes of the audit tables; the hash chain and signed "
            "checkpoints reveal any alteration."
        ),
        evidence=evidence_integrity,
        tests=(
            "tests/audit/test_immutability.py::test_the_orm_cannot_change_or_delete_an_event_either",
            "tests/audit/test_audit_verify.py::test_changed_data_is_named_by_seq",
        ),
    ),
    Control(
        id="SOC2-CC8.1",
        regulation=SOC2,
        clause="CC8.1",
        requirement=gettext_lazy("Changes are authorized, approved and recorded."),
        implementation=gettext_lazy(
            "Every policy change is a new audited version; a draft must be activated by a different "
            "administrator than its author."
        ),
        evidence=evidence_change_management,
        tests=("tests/policies/test_load_policies.py::test_a_draft_must_be_activated_by_a_different_admin",),
    ),
)

FIGURE_LABELS = {
    "chain_intact": gettext_lazy("Audit trail intact"),
    "events_checked": gettext_lazy("Events verified"),
    "first_bad_seq": gettext_lazy("First bad event"),
    "last_full_verification_at": gettext_lazy("Last full verification (UTC)"),
    "checkpoint_tree_size": gettext_lazy("Events under the latest checkpoint"),
    "reports_generated": gettext_lazy("Reports generated"),
    "reports_failed": gettext_lazy("Reports failed"),
    "exports": gettext_lazy("Exports"),
    "decisions": gettext_lazy("Decisions"),
    "decisions_by_agent_owner": gettext_lazy("Decisions by the agent's owner"),
    "failed_logins": gettext_lazy("Failed sign-ins"),
    "account_lockouts": gettext_lazy("Account lockouts"),
    "role_changes": gettext_lazy("Role and permission changes"),
    "audit_events": gettext_lazy("Audit events"),
    "first_seq": gettext_lazy("First event"),
    "last_seq": gettext_lazy("Last event"),
    "missing_seq": gettext_lazy("Missing sequence numbers"),
    "decisions_without_event": gettext_lazy("Decisions without their event"),
    "decisions_after_final": gettext_lazy("Decisions after the proposal was final"),
    "signatures": gettext_lazy("Signatures"),
    "incomplete_signatures": gettext_lazy("Incomplete signatures"),
    "unversioned_signatures": gettext_lazy("Signatures without a payload version"),
    "signers": gettext_lazy("Signers"),
    "shared_printed_names": gettext_lazy("Printed names used by several accounts"),
    "session_idle_timeout_seconds": gettext_lazy("Idle session timeout (seconds)"),
    "failed_signatures": gettext_lazy("Failed signatures"),
    "signing_lockouts": gettext_lazy("Signature lockouts"),
    "proposals": gettext_lazy("Proposals"),
    "submission_events": gettext_lazy("Submission events"),
    "proposals_without_event": gettext_lazy("Proposals without their event"),
    "human_verdicts": gettext_lazy("Human verdicts"),
    "quick_decisions": gettext_lazy("Quick decisions"),
    "quick_decision_rate": gettext_lazy("Share of quick decisions"),
    "rubber_stamp_reviewers": gettext_lazy("Reviewers flagged as rubber stamps"),
    "overrides": gettext_lazy("Rejections and modifications"),
    "agent_suspensions": gettext_lazy("Agent suspensions"),
    "agent_resumptions": gettext_lazy("Agent resumptions"),
    "submitted_while_suspended": gettext_lazy("Submitted while suspended"),
    "approved_while_suspended": gettext_lazy("Approved while suspended"),
    "four_eyes_items": gettext_lazy("Proposals needing several approvals"),
    "under_approved": gettext_lazy("Approved with too few reviewers"),
    "retention_days": gettext_lazy("Minimum retention (days)"),
    "purge_runs": gettext_lazy("Payload purges"),
    "payloads_purged": gettext_lazy("Proposals purged"),
    "purged_too_early": gettext_lazy("Purged before six months"),
    "decisions_without_licence": gettext_lazy("Decisions without a licence"),
    "decisions_with_expired_licence": gettext_lazy("Decisions with an expired licence"),
    "proposals_without_routing": gettext_lazy("Proposals without a routing explanation"),
    "decisions_without_rationale": gettext_lazy("Decisions without a rationale"),
    "redactions": gettext_lazy("Redactions in the period"),
    "redacted_total": gettext_lazy("Redacted events in the trail"),
    "autonomous_high_risk": gettext_lazy("High-risk proposals without a human"),
    "approved_on_expiry": gettext_lazy("Approved on expiry"),
    "full_verifications": gettext_lazy("Full verifications"),
    "policy_activations": gettext_lazy("Policy activations"),
    "activated_by_author": gettext_lazy("Activated by their author"),
    "activated_without_second_person": gettext_lazy("Activated without a second person"),
}
