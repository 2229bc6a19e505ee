"""Evidence of the 21 CFR Part 11 controls, one function per control (the matrix names them)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.events import AccountEvents
from apps.proposals.events import ProposalEvents

from ..events import ReportEvents
from .checks import ATTENTION, NOT_MET, Check, chain_broken, chain_figures, judged, nonzero
from .facts import ROLE_CHANGES, PeriodFacts
from .types import Evidence

# 11.10(a): a full verification older than this (the nightly task runs one a day) needs a look.
FULL_VERIFICATION_MAX_AGE = timedelta(days=2)


def evidence_altered_records(facts: PeriodFacts) -> Evidence:
    last_full = facts.integrity["last_full"]
    now = facts.scope.cutoff or timezone.now()
    return judged(
        chain_figures(facts),
        chain_broken(facts),
        Check(last_full is None, ATTENTION, _("No full verification of the audit trail has been recorded.")),
        Check(
            last_full is not None and last_full.finished_at < now - FULL_VERIFICATION_MAX_AGE,
            ATTENTION,
            _("The last full verification of the audit trail is more than %(days)s days old.")
            % {"days": FULL_VERIFICATION_MAX_AGE.days},
        ),
        met=_("Every event of the audit trail verifies; a full verification ran recently."),
        links=[facts.verify_link()],
    )


def evidence_copies(facts: PeriodFacts) -> Evidence:
    failed = facts.count(ReportEvents.FAILED)
    return judged(
        {
            "reports_generated": facts.count(ReportEvents.GENERATED),
            "reports_failed": failed,
            "exports": facts.count(ReportEvents.EXPORTED),
        },
        nonzero(failed, ATTENTION, _("%(count)s report(s) failed to generate.")),
        met=_("Signed PDF/A reports and CSV/JSONL exports of any period are available on request."),
        links=[facts.reports_link(), facts.exports_link(), facts.audit_link("report.")],
    )


def evidence_access_checks(facts: PeriodFacts) -> Evidence:
    by_owner = facts.decisions["by_agent_owner"]
    return judged(
        {
            "decisions": facts.decisions["total"],
            "decisions_by_agent_owner": by_owner,
            "failed_logins": facts.count(AccountEvents.LOGIN_FAILED),
            "account_lockouts": facts.count(AccountEvents.LOCKED_OUT),
            "role_changes": facts.count(*ROLE_CHANGES),
        },
        nonzero(by_owner, NOT_MET, _("%(count)s decision(s) were signed by the owner of the proposing agent.")),
        _account_lockouts(facts),
        met=_("Every decision was signed by an authorized reviewer who does not own the agent."),
        links=[facts.audit_link("auth."), facts.audit_link("role.")],
    )


def evidence_audit_trail(facts: PeriodFacts) -> Evidence:
    events = facts.events
    first, last = events["first_seq"], events["last_seq"]
    missing_seq = (last - first + 1 - events["total"]) if first is not None else 0
    unlogged = max(facts.decisions["total"] - facts.count(ProposalEvents.DECISION_RECORDED), 0)
    return judged(
        {
            "audit_events": events["total"],
            "first_seq": first,
            "last_seq": last,
            "missing_seq": missing_seq,
            "decisions": facts.decisions["total"],
            "decisions_without_event": unlogged,
        },
        nonzero(
            missing_seq,
            NOT_MET,
            _("%(count)s sequence number(s) are missing between the period's first and last event."),
        ),
        nonzero(unlogged, ATTENTION, _("%(count)s decision(s) of the period have no “decision.recorded” event in it.")),
        met=_("Every decision has its time-stamped event; the sequence is gapless."),
        links=[facts.audit_link(ProposalEvents.DECISION_RECORDED)],
    )


def evidence_sequencing(facts: PeriodFacts) -> Evidence:
    return _signed_decisions_lacking(
        facts,
        "decisions_after_final",
        total="decisions",
        problem=_("%(count)s decision(s) were signed after their proposal was final."),
        met=_("Every decision was signed while its proposal was still open."),
    )


def evidence_signature_manifestation(facts: PeriodFacts) -> Evidence:
    return _signed_decisions_lacking(
        facts,
        "incomplete_signatures",
        problem=_("%(count)s signature(s) lack the printed name or the meaning."),
        met=_("Every signature shows the printed name, the instant and the meaning."),
    )


def evidence_signature_link(facts: PeriodFacts) -> Evidence:
    return _signed_decisions_lacking(
        facts,
        "unversioned_signatures",
        problem=_("%(count)s signature(s) do not name the payload version they signed."),
        met=_("Every signature names the hash of the payload version it signed."),
    )


def evidence_unique_signatures(facts: PeriodFacts) -> Evidence:
    shared = facts.signers["shared_printed_names"]
    return judged(
        {"signers": facts.signers["signers"], "shared_printed_names": shared},
        nonzero(shared, ATTENTION, _("%(count)s printed name(s) were used by more than one account.")),
        met=_("Each signer signed under their own account and printed name."),
        links=[facts.audit_link("user.")],
    )


def evidence_signature_components(facts: PeriodFacts) -> Evidence:
    idle, limit = settings.SESSION_IDLE_TIMEOUT, settings.CONTROLS_MAX_SESSION_IDLE_SECONDS
    return judged(
        {"signatures": facts.decisions["total"], "session_idle_timeout_seconds": idle},
        Check(
            not 0 < idle <= limit,
            ATTENTION,
            _("The idle session timeout is %(seconds)s seconds; at most %(limit)s are expected.")
            % {"seconds": idle, "limit": limit},
        ),
        met=_("Each signature re-entered the password of the signed-in user; idle sessions end."),
        links=[facts.audit_link("auth.")],
    )


def evidence_unauthorized_use(facts: PeriodFacts) -> Evidence:
    signing_lockouts = facts.count(AccountEvents.SIGNING_LOCKED)
    return judged(
        {
            "failed_signatures": facts.count(AccountEvents.SIGNATURE_FAILED),
            "signing_lockouts": signing_lockouts,
            "failed_logins": facts.count(AccountEvents.LOGIN_FAILED),
            "account_lockouts": facts.count(AccountEvents.LOCKED_OUT),
        },
        nonzero(
            signing_lockouts,
            ATTENTION,
            _("%(count)s signature lockout(s) after repeated wrong signature passwords."),
        ),
        _account_lockouts(facts),
        met=_("Failed sign-ins and signatures are recorded; no lockout happened."),
        links=[facts.audit_link("auth.")],
    )


def _signed_decisions_lacking(
    facts: PeriodFacts, figure: str, *, total: str = "signatures", problem: str, met: str
) -> Evidence:
    """The evidence of a control on what every signed decision must have: the decisions of the
    period (as figure `total`) and those lacking it (`figure`, as the facts name it too)."""
    lacking = facts.decisions[figure]
    return judged(
        {total: facts.decisions["total"], figure: lacking},
        nonzero(lacking, NOT_MET, problem),
        met=met,
        links=[facts.audit_link(ProposalEvents.DECISION_RECORDED)],
    )


def _account_lockouts(facts: PeriodFacts) -> Check:
    return nonzero(
        facts.count(AccountEvents.LOCKED_OUT),
        ATTENTION,
        _("%(count)s account lockout(s) after repeated failed sign-ins."),
    )
