"""Typed views of what the platform returns (DESIGN.md, REST API). Unknown fields are kept, so a newer
server never breaks an older client."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

FINAL_STATUSES = frozenset({"approved", "rejected", "changes_requested", "expired", "cancelled"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=False)


class Signature(_Model):
    printed_name: str
    meaning: str
    signed_at: datetime


class Decision(_Model):
    id: int
    verdict: str
    rationale: str
    reviewer: str
    payload: dict[str, Any] | None = None
    payload_version: str = ""
    escalation_level: int = 0
    signature: Signature | None = None
    instructions: str | None = None
    batch: int | None = None  # the signing batch it was part of (21 CFR 11.200(a)(1)(i))


class Execution(_Model):
    status: str
    detail: dict[str, Any] = Field(default_factory=dict)
    reported_at: datetime | None = None


class Proposal(_Model):
    id: int
    status: str
    mode: str
    agent: str = ""
    action_type: str
    payload: dict[str, Any]
    revised_payload: dict[str, Any] | None = None
    payload_version: str = ""
    final_payload: dict[str, Any] | None = None
    modified: bool = False
    approved_by: str | None = None
    approved_on_expiry: bool = False
    approvals_required: int = 1
    decisions: list[Decision] = Field(default_factory=list)
    policy_rule: str | None = None
    policy_version: int | None = None
    routing: dict[str, Any] | None = None
    queue: str | None = None
    escalation_level: int = 0
    sla_due_at: datetime | None = None
    created_at: datetime | None = None
    decided_at: datetime | None = None
    execution: dict[str, Any] | None = None
    review: dict[str, Any] | None = None
    summary: str = ""
    reasoning: str = ""
    evidence: list[Any] = Field(default_factory=list)
    confidence: float | None = None
    irreversible: bool = False
    blast_radius: int = 0
    compliance_exposure: str = "none"
    expected_impact: str = ""
    external_id: str = ""
    callback_url: str = ""
    # The redirect (request_changes) and revisions.
    instructions: str | None = None
    revision_of: int | None = None
    revision: int | None = None
    revised_by: int | None = None
    claim: dict[str, Any] | None = None

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_approved(self) -> bool:
        return self.status == "approved"

    @property
    def rationale(self) -> str:
        """The reviewer's words that decided it: the last decision's rationale (or the instructions)."""
        if self.status == "changes_requested" and self.instructions:
            return self.instructions
        for decision in reversed(self.decisions):
            if decision.verdict in {"reject", "request_changes", "approve", "modify"}:
                return decision.instructions or decision.rationale
        return ""


class ProposalPage(_Model):
    count: int
    next: str | None = None
    previous: str | None = None
    results: list[Proposal]


class Simulation(_Model):
    """What a submission would be routed to (`policies/simulate/`); nothing is stored."""

    mode: str
    rule: str | None = None
    queue: str | None = None
    approvals_required: int = 1
    policy_version: int | None = None
    routing: dict[str, Any] | None = None


class Event(_Model):
    """A webhook event, also served by `events/` and `events/stream/`: `{"id", "type", "proposal"}`."""

    id: str
    type: str
    proposal: Proposal
