"""Reads of the insights app: figures per agent x action type x rule, reviewers, QA, corrections.

Every figure is a SQL aggregate (conditional counts over one GROUP BY); Python only turns
the counts of each group into rates. The rates and percentiles shared with the report and the
review app are defined once, in `apps.proposals.figures`.

Definitions (proposals created in the window):
- human review rate: pre-approval, or sampled for post-action review, over volume;
- approval / modification / rejection / redirect / expiry rate, time to decision p50 and p95:
  see `apps.proposals.figures` (approved includes modified; a redirect is a non-approval outcome
  of its own; nearest-rank percentiles); a revision is a proposal of its own, counted where it
  ends, and `revisions` / `revisions_approved` follow the chains (revisions submitted, and how many
  a human approved);
- SLA breach rate: decided after the due time, expired, or pending past it, over pre-approval
  proposals with an SLA that were not cancelled;
- flag rate: flagged over reviewed post-action reviews;
- calibration (accepted as proposed): per confidence decile, approved-as-proposed over human
  verdicts; Brier score:
  mean (confidence - approved as proposed)^2 over human verdicts;
- four-eyes agreement: items needing two or more approvals with verdicts (approve, modify,
  reject) from two or more reviewers, where all those verdicts are the same;
- quick decisions: verdicts signed within INSIGHTS_RUBBER_STAMP_SECONDS of the reviewer's first
  `proposal.viewed` event of the proposal, over all verdicts (one index probe per verdict).

One module per seam (window, figures, qa, corrections); this package re-exports their public names."""

from .corrections import corrections_for, redact_keys
from .figures import (
    APPROVED,
    APPROVED_AS_PROPOSED,
    CHANGES_REQUESTED,
    CLOSED,
    DECILES,
    DECISION_FIGURES,
    EXPIRED,
    FLAGGED,
    HUMAN_REVIEWED,
    HUMAN_VERDICT,
    MODIFIED,
    PERCENTILES,
    POST_REVIEWED,
    PROPOSAL_OBJECT_TYPE,
    REJECTED,
    REVISION,
    VERDICTS,
    VIEWED_ACTION,
    figures_for,
    figures_stored,
    reviewer_figures_for,
)
from .qa import (
    qa_agreement,
    qa_assignment_get_for,
    qa_assignments_list,
    qa_assignments_open_for,
    recommendation_get,
    recommendations_list,
)
from .window import MAX_WINDOW_DAYS, WINDOWS, Window, agent_for_insights, window_for

__all__ = [
    "APPROVED",
    "APPROVED_AS_PROPOSED",
    "CHANGES_REQUESTED",
    "CLOSED",
    "DECILES",
    "DECISION_FIGURES",
    "EXPIRED",
    "FLAGGED",
    "HUMAN_REVIEWED",
    "HUMAN_VERDICT",
    "MAX_WINDOW_DAYS",
    "MODIFIED",
    "PERCENTILES",
    "POST_REVIEWED",
    "PROPOSAL_OBJECT_TYPE",
    "REJECTED",
    "REVISION",
    "VERDICTS",
    "VIEWED_ACTION",
    "WINDOWS",
    "Window",
    "agent_for_insights",
    "corrections_for",
    "figures_for",
    "figures_stored",
    "qa_agreement",
    "qa_assignment_get_for",
    "qa_assignments_list",
    "qa_assignments_open_for",
    "recommendation_get",
    "recommendations_list",
    "redact_keys",
    "reviewer_figures_for",
    "window_for",
]
