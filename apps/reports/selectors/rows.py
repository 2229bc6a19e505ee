"""The rows a report streams: its appendix and the CSV / JSON Lines exports, through server-side cursors."""

from collections.abc import Iterator

from django.db.models import (
    QuerySet,
    TextField,
)
from django.db.models.functions import Cast, JSONObject

from apps.audit.models import EVENT_COLUMNS
from apps.proposals.models import Decision

from .scope import ReportScope, scope_audit_events, scope_decisions
from .sql import _IsoUtc, _JsonValue


def report_appendix(scope: ReportScope, *, limit: int) -> list[tuple]:
    """The first `limit` decisions of the period, oldest first (the rest are in the attachment)."""
    return list(
        scope_decisions(scope)
        .order_by("signed_at", "id")
        .values_list(
            "signed_at",
            "proposal_id",
            "proposal__agent__name",
            "proposal__action_type",
            "signer_name",
            "verdict",
            "signature_meaning",
        )[:limit]
    )


# Each column of the decision exports and the field it reads.
_DECISION_FIELDS = {
    "id": "id",
    "proposal_id": "proposal_id",
    "agent": "proposal__agent__name",
    "action_type": "proposal__action_type",
    "reviewer": "reviewer__username",
    "signer_name": "signer_name",
    "licence_number": "reviewer__reviewer_profile__licence_number",
    "verdict": "verdict",
    "signature_meaning": "signature_meaning",
    "rationale": "rationale",
    "payload_version": "payload_version",
    "escalation_level": "escalation_level",
    "signed_at": "signed_at",
    "proposal_status": "proposal__status",
    "modified_payload": "payload",
    # the reviewer workflow: a redirect's instructions, the signing batch, the revision chain
    "instructions": "instructions",
    "batch": "batch_id",
    "proposal_revision_of": "proposal__revision_of_id",
    "proposal_revision": "proposal__revision",
}
# In the JSON Lines: the instant as ISO text, the modified payload as a nested value.
_DECISION_JSON_FORMS = {"signed_at": _IsoUtc, "modified_payload": _JsonValue}
DECISION_COLUMNS = tuple(_DECISION_FIELDS)
AUDIT_COLUMNS = (*EVENT_COLUMNS, "salt", "data")


def decision_rows(scope: ReportScope, *, chunk_size: int = 5000) -> Iterator[tuple]:
    """Every decision of the period as a tuple of DECISION_COLUMNS (the CSV export), in constant memory."""
    return _decisions_ordered(scope).values_list(*_DECISION_FIELDS.values()).iterator(chunk_size=chunk_size)


def decision_json_lines(scope: ReportScope, *, chunk_size: int = 5000) -> Iterator[str]:
    """Every decision of the period as a JSON object text with DECISION_COLUMNS as keys.

    The database serializes each row (json_object / jsonb_build_object, in C): Python only
    passes the strings on, which is what keeps a million rows within the report's time budget.
    """
    line = JSONObject(
        **{
            column: _DECISION_JSON_FORMS[column](field) if column in _DECISION_JSON_FORMS else field
            for column, field in _DECISION_FIELDS.items()
        }
    )
    return (
        _decisions_ordered(scope)
        .annotate(line=Cast(line, output_field=TextField()))
        .values_list("line", flat=True)
        .iterator(chunk_size=chunk_size)
    )


def audit_json_rows(scope: ReportScope, *, chunk_size: int = 5000) -> Iterator[tuple[str, str | None]]:
    """Every audit event of the period as (JSON object text of AUDIT_COLUMNS but `data`, canonical data).

    The canonical data is the exact text that was hashed (None once redacted); the caller splices
    it in unchanged, and the timestamp is the hashed text, so the hashes can be recomputed offline.
    """
    head = JSONObject(
        **{column: column for column in EVENT_COLUMNS}
        | {"timestamp": _IsoUtc("timestamp"), "salt": "data_record__salt"}
    )
    return (
        scope_audit_events(scope)
        .order_by("seq")
        .annotate(head=Cast(head, output_field=TextField()))
        .values_list("head", "data_record__canonical_data")
        .iterator(chunk_size=chunk_size)
    )


def _decisions_ordered(scope: ReportScope) -> QuerySet[Decision]:
    return scope_decisions(scope).order_by("signed_at", "id")
