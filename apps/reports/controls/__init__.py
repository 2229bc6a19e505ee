"""The control matrix: each regulatory requirement the platform answers, with its live evidence.

The API, the compliance page and the PDF report all call `controls_evaluate`, so one function
defines each figure. One module per seam: `types` (a control and its evidence), `facts` (the
period's aggregates, each read once), `checks` and the evidence functions (what the figures
show), `matrix` (the controls as data); this package re-exports what the rest of the app uses.
"""

from ..selectors import ReportScope
from .facts import PeriodFacts
from .matrix import CONTROLS
from .types import FIGURE_LABELS, Control, ControlResult, ControlStatus, Evidence

__all__ = [
    "CONTROLS",
    "FIGURE_LABELS",
    "Control",
    "ControlResult",
    "ControlStatus",
    "Evidence",
    "PeriodFacts",
    "controls_document",
    "controls_evaluate",
    "controls_summary",
]


def controls_evaluate(scope: ReportScope, *, chain: dict | None = None) -> list[ControlResult]:
    """Every control with its evidence for the period of `scope` (its agent and action type are
    ignored: the controls speak for the whole platform). `chain`: an `audit_chain_state()` the
    caller already read, so that a report verifies the chain once."""
    facts = PeriodFacts(scope, chain=chain)
    return [ControlResult(control=control, evidence=control.evidence(facts)) for control in CONTROLS]


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
