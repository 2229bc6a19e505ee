"""What a control is, what its evidence function returns, and how a figure is labelled and printed."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import TextChoices
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from .facts import PeriodFacts


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


def _figure_text(key: str, value) -> str:
    from ..templatetags.report_format import num, pct, when

    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key.endswith("_rate"):
        return pct(value)
    if key.endswith("_at") and value:
        return when(datetime.fromisoformat(value))
    return num(value) if value is None or isinstance(value, int | float) else str(value)


# The label printed beside each figure of Evidence.figures, by its key.
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
