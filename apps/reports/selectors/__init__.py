"""Reads of the reports app: the scope of a report, its figures and the rows it streams.

Every figure is a SQL aggregate (COUNT ... FILTER, GROUP BY, a database-side percentile), so
the cost of a report grows with the number of groups, never with Python work per proposal.
Only the exports and the embedded attachments walk every row, through server-side cursors.

One module per seam (sql, scope, figures, rows, audit); this package re-exports their public names."""

from .audit import (
    USER_OBJECT_TYPES,
    audit_actor_ids,
    audit_chain_state,
    audit_events_described,
    audit_events_filtered,
    public_key_fingerprint,
    report_audit_integrity,
    report_audit_period,
)
from .figures import (
    CONFIDENCE_BINS,
    GROUP_MAX_ROWS,
    decision_time_percentiles,
    report_confidence_bins,
    report_daily_outcomes,
    report_exceptions,
    report_groups,
    report_outcomes,
    report_signoffs,
    report_summary,
)
from .rows import AUDIT_COLUMNS, DECISION_COLUMNS, audit_json_rows, decision_json_lines, decision_rows, report_appendix
from .scope import (
    REPORT_EARLIEST_DAY,
    REPORT_LATEST_DAY,
    ReportScope,
    report_get,
    report_scope_build,
    report_scope_of,
    reports_recent,
    scope_audit_events,
    scope_decisions,
    scope_post_reviews,
    scope_proposals,
)

__all__ = [
    "AUDIT_COLUMNS",
    "CONFIDENCE_BINS",
    "DECISION_COLUMNS",
    "GROUP_MAX_ROWS",
    "REPORT_EARLIEST_DAY",
    "REPORT_LATEST_DAY",
    "USER_OBJECT_TYPES",
    "ReportScope",
    "audit_actor_ids",
    "audit_chain_state",
    "audit_events_described",
    "audit_events_filtered",
    "audit_json_rows",
    "decision_json_lines",
    "decision_rows",
    "decision_time_percentiles",
    "public_key_fingerprint",
    "report_appendix",
    "report_audit_integrity",
    "report_audit_period",
    "report_confidence_bins",
    "report_daily_outcomes",
    "report_exceptions",
    "report_get",
    "report_groups",
    "report_outcomes",
    "report_scope_build",
    "report_scope_of",
    "report_signoffs",
    "report_summary",
    "reports_recent",
    "scope_audit_events",
    "scope_decisions",
    "scope_post_reviews",
    "scope_proposals",
]
