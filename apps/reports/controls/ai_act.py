"""Evidence of the EU AI Act controls, one function per control (the matrix names them)."""

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.agents.events import AgentEvents
from apps.proposals.events import ProposalEvents

from .checks import ATTENTION, NOT_MET, Check, judged, nonzero
from .facts import LEGAL_MIN_RETENTION_DAYS, PeriodFacts
from .types import Evidence


def evidence_automatic_logging(facts: PeriodFacts) -> Evidence:
    proposals = facts.proposals["total"]
    logged = facts.count(ProposalEvents.SUBMITTED)
    unlogged = max(proposals - logged, 0)
    return judged(
        {
            "proposals": proposals,
            "submission_events": logged,
            "audit_events": facts.events["total"],
            "proposals_without_event": unlogged,
        },
        nonzero(unlogged, NOT_MET, _("%(count)s proposal(s) of the period have no “proposal.submitted” event.")),
        met=_("Every proposal of the period was logged automatically when it was submitted."),
        links=[facts.audit_link(ProposalEvents.SUBMITTED)],
    )


def evidence_automation_bias(facts: PeriodFacts) -> Evidence:
    behaviour = facts.review_behaviour
    verdicts = facts.decisions["human_verdicts"]
    quick_rate = behaviour["quick_decisions"] / verdicts if verdicts else None
    return judged(
        {
            "human_verdicts": verdicts,
            "quick_decisions": behaviour["quick_decisions"],
            "quick_decision_rate": quick_rate,
            "rubber_stamp_reviewers": behaviour["rubber_stamp_reviewers"],
        },
        nonzero(
            behaviour["rubber_stamp_reviewers"],
            ATTENTION,
            _("%(count)s reviewer(s) approved almost everything over a large sample."),
        ),
        Check(
            quick_rate is not None and quick_rate > settings.CONTROLS_MAX_QUICK_DECISION_RATE,
            ATTENTION,
            _("%(count)s decision(s) were signed within seconds of the first look at the proposal.")
            % {"count": behaviour["quick_decisions"]},
        ),
        met=_("Reviewers spent time on their items; no rubber-stamp pattern was found."),
        links=[(_("Insights"), reverse("insights:index"))],
    )


def evidence_override_and_stop(facts: PeriodFacts) -> Evidence:
    submitted = facts.proposals["submitted_while_suspended"]
    approved = facts.decisions["approved_while_suspended"]
    return judged(
        {
            "overrides": facts.decisions["overrides"],
            "agent_suspensions": facts.count(AgentEvents.SUSPENDED),
            "agent_resumptions": facts.count(AgentEvents.RESUMED),
            "submitted_while_suspended": submitted,
            "approved_while_suspended": approved,
        },
        nonzero(
            submitted + approved,
            NOT_MET,
            _("%(count)s proposal(s) were submitted or approved while their agent was suspended."),
        ),
        met=_("Reviewers rejected or modified proposals; suspended agents were stopped."),
        links=[facts.audit_link("agent.")],
    )


def evidence_four_eyes(facts: PeriodFacts) -> Evidence:
    under_approved = facts.four_eyes["under_approved"]
    return judged(
        {"four_eyes_items": facts.four_eyes["items"], "under_approved": under_approved},
        nonzero(
            under_approved,
            NOT_MET,
            _("%(count)s proposal(s) were approved by fewer distinct reviewers than required."),
        ),
        met=_("Every proposal that needed several approvals had them from distinct reviewers."),
        links=[facts.audit_link(ProposalEvents.DECISION_RECORDED)],
    )


def evidence_log_retention(facts: PeriodFacts) -> Evidence:
    configured = settings.AUDIT_MIN_RETENTION_DAYS
    too_early = facts.purges["too_early"]
    return judged(
        {
            "retention_days": configured,
            "purge_runs": facts.count(ProposalEvents.PAYLOADS_PURGED),
            "payloads_purged": facts.purges["purged"],
            "purged_too_early": too_early,
        },
        Check(
            configured < LEGAL_MIN_RETENTION_DAYS,
            NOT_MET,
            _("The minimum retention is set to %(days)s days, below six months (%(legal)s days).")
            % {"days": configured, "legal": LEGAL_MIN_RETENTION_DAYS},
        ),
        nonzero(too_early, NOT_MET, _("%(count)s proposal(s) were purged less than six months after submission.")),
        met=_("Audit events are never deleted; payloads are kept at least six months."),
        links=[facts.audit_link(ProposalEvents.PAYLOADS_PURGED)],
    )


def evidence_named_competent_people(facts: PeriodFacts) -> Evidence:
    decisions = facts.decisions
    return judged(
        {
            "signers": facts.signers["signers"],
            "decisions": decisions["total"],
            "decisions_without_licence": decisions["without_licence"],
            "decisions_with_expired_licence": decisions["expired_licence"],
        },
        nonzero(
            decisions["expired_licence"],
            NOT_MET,
            _("%(count)s decision(s) were signed after the reviewer's licence had expired."),
        ),
        nonzero(
            decisions["without_licence"],
            ATTENTION,
            _("%(count)s decision(s) were signed by reviewers without a recorded licence."),
        ),
        met=_("Every decision was signed by a named reviewer with a licence valid that day."),
        links=[facts.reports_link()],
    )


def evidence_explanation(facts: PeriodFacts) -> Evidence:
    proposals, decisions = facts.proposals, facts.decisions
    return judged(
        {
            "proposals": proposals["total"],
            "proposals_without_routing": proposals["unexplained"],
            "decisions": decisions["total"],
            "decisions_without_rationale": decisions["without_rationale"],
        },
        nonzero(decisions["without_rationale"], NOT_MET, _("%(count)s decision(s) have no rationale.")),
        nonzero(proposals["unexplained"], ATTENTION, _("%(count)s proposal(s) have no recorded routing explanation.")),
        met=_("Every proposal records why it was routed; every decision records its rationale."),
        links=[facts.audit_link(ProposalEvents.SUBMITTED), facts.audit_link(ProposalEvents.DECISION_RECORDED)],
    )
