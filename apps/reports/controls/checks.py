"""What the evidence functions share: a check, the judgement of a control's checks, and the audit
trail's verification, which three controls (11.10(a), GDPR Art. 17, HIPAA 164.312(c)) show.

A check is a problem the figures may show (a count that should be zero, a setting out of
bounds) with the status it gives the control. `judged` makes the Evidence: the worst status
among the problems found, with their reasons in order, else met with the control's own sentence.
"""

from typing import NamedTuple

from django.utils.translation import gettext as _

from .facts import PeriodFacts
from .types import ControlStatus, Evidence

NOT_MET, ATTENTION = ControlStatus.NOT_MET, ControlStatus.ATTENTION


class Check(NamedTuple):
    """A problem the evidence may show: when `found`, the control gets `status` for `reason`."""

    found: bool
    status: str
    reason: str


def judged(figures: dict, *checks: Check, met: str, links: list) -> Evidence:
    """The worst status among the checks found (NOT_MET before ATTENTION), else met."""
    for status in (NOT_MET, ATTENTION):
        reasons = [check.reason for check in checks if check.found and check.status == status]
        if reasons:
            return Evidence(status=status, reason=" ".join(reasons), figures=figures, links=links)
    return Evidence(status=ControlStatus.MET, reason=met, figures=figures, links=links)


def nonzero(count: int, status: str, message: str) -> Check:
    """A count that should be zero; `message` names it as %(count)s."""
    return Check(bool(count), status, message % {"count": count})


def chain_figures(facts: PeriodFacts) -> dict:
    integrity = facts.integrity
    verification, last_full, checkpoint = integrity["verification"], integrity["last_full"], integrity["checkpoint"]
    return {
        "chain_intact": bool(verification.ok),
        "events_checked": verification.events_checked,
        "first_bad_seq": verification.first_bad_seq,
        "last_full_verification_at": last_full.finished_at.isoformat() if last_full else None,
        "checkpoint_tree_size": checkpoint.tree_size if checkpoint else None,
    }


def chain_broken(facts: PeriodFacts) -> Check:
    verification = facts.integrity["verification"]
    return Check(
        not verification.ok,
        NOT_MET,
        _("The audit trail fails verification at event %(seq)s: %(reason)s")
        % {"seq": verification.first_bad_seq, "reason": verification.reason},
    )
