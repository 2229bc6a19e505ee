"""Evidence of the GDPR, HIPAA and SOC 2 controls, one function per control (the matrix names them)."""

from django.utils.translation import gettext as _

from apps.audit.events import AuditEvents
from apps.policies.events import PolicyEvents
from apps.proposals import figures

from ..events import ReportEvents
from .checks import ATTENTION, NOT_MET, Check, chain_broken, chain_figures, judged, nonzero
from .facts import PeriodFacts
from .types import Evidence


def evidence_erasure(facts: PeriodFacts) -> Evidence:
    verification = facts.integrity["verification"]
    return judged(
        {
            "redactions": facts.count(AuditEvents.REDACTED),
            "redacted_total": verification.redacted,
            "chain_intact": bool(verification.ok),
        },
        chain_broken(facts),
        met=_("Erased event data leaves the audit trail verifiable."),
        links=[facts.audit_link(AuditEvents.REDACTED), facts.verify_link()],
    )


def evidence_human_involvement(facts: PeriodFacts) -> Evidence:
    proposals = facts.proposals
    return judged(
        {
            "proposals": proposals["total"],
            "autonomous_high_risk": proposals["autonomous_high_risk"],
            "approved_on_expiry": proposals["approved_on_expiry"],
        },
        nonzero(
            proposals["autonomous_high_risk"],
            ATTENTION,
            _("%(count)s high-risk proposal(s) ran without a human.") + " " + figures.high_risk_definition(),
        ),
        nonzero(
            proposals["approved_on_expiry"],
            ATTENTION,
            _("%(count)s proposal(s) were approved by policy because nobody decided in time."),
        ),
        met=_("Proposals of high risk waited for a human; none was approved for lack of one."),
        links=[facts.reports_link()],
    )


def evidence_audit_controls(facts: PeriodFacts) -> Evidence:
    return judged(
        {
            "audit_events": facts.events["total"],
            "full_verifications": facts.full_verifications,
            "reports_generated": facts.count(ReportEvents.GENERATED),
            "exports": facts.count(ReportEvents.EXPORTED),
        },
        Check(
            not facts.full_verifications,
            ATTENTION,
            _("No full verification of the audit trail ran in the period."),
        ),
        met=_("Activity was recorded and the audit trail was examined in the period."),
        links=[facts.verify_link(), facts.audit_link()],
    )


def evidence_integrity(facts: PeriodFacts) -> Evidence:
    last_seq, checkpoint = facts.events["last_seq"], facts.integrity["checkpoint"]
    return judged(
        chain_figures(facts),
        chain_broken(facts),
        Check(
            last_seq is not None and (checkpoint is None or checkpoint.tree_size < last_seq),
            ATTENTION,
            _("No signed checkpoint covers the last event of the period yet."),
        ),
        met=_("The audit trail verifies and a signed checkpoint covers the period."),
        links=[facts.verify_link()],
    )


def evidence_change_management(facts: PeriodFacts) -> Evidence:
    activations = facts.policy_activations
    return judged(
        {
            "policy_activations": activations["total"],
            "activated_by_author": activations["by_author"],
            "activated_without_second_person": activations["unattributed"],
        },
        nonzero(
            activations["by_author"],
            NOT_MET,
            _("%(count)s policy version(s) were activated by their own author."),
        ),
        nonzero(
            activations["unattributed"],
            ATTENTION,
            _("%(count)s policy version(s) were activated from the command line, without a second person."),
        ),
        met=_("Every policy change was drafted by one administrator and activated by another."),
        links=[facts.audit_link(PolicyEvents.CHANGED), facts.audit_link("policy.")],
    )
