"""What humans corrected (modified, rejected, flagged), exportable with keys redacted, for the agents' developers."""

from collections.abc import Iterator

from django.db.models import (
    OuterRef,
    Q,
    Subquery,
)

from apps.agents.models import Agent
from apps.proposals.models import Decision, PostActionReview, Proposal, ReviewState, Status, Verdict

from .figures import FLAGGED


def corrections_for(
    *, redact: frozenset[str] = frozenset(), agent: Agent | None = None, since=None, until=None
) -> Iterator[dict]:
    """Modified, rejected and flagged items as labelled examples, streamed in id order."""
    corrected = Q(status=Status.APPROVED, revised_payload__isnull=False) | Q(status=Status.REJECTED) | FLAGGED
    proposals = Proposal.objects.filter(corrected)
    if agent is not None:
        proposals = proposals.filter(agent=agent)
    if since is not None:
        proposals = proposals.filter(created_at__gte=since)
    if until is not None:
        proposals = proposals.filter(created_at__lt=until)
    correcting = Decision.objects.filter(
        proposal=OuterRef("pk"), verdict__in=(Verdict.MODIFY, Verdict.REJECT)
    ).order_by("-signed_at", "-id")
    rows = (
        proposals.annotate(
            decision_verdict=Subquery(correcting.values("verdict")[:1]),
            decision_rationale=Subquery(correcting.values("rationale")[:1]),
        )
        .values(
            "id",
            "agent__name",
            "action_type",
            "status",
            "payload",
            "revised_payload",
            "summary",
            "reasoning",
            "evidence",
            "confidence",
            "irreversible",
            "blast_radius",
            "compliance_exposure",
            "expected_impact",
            "created_at",
            "decided_at",
            "policy_rule__name",
            "decision_verdict",
            "decision_rationale",
            "post_review__state",
            "post_review__correction",
            "post_review__rationale",
            "post_review__reviewed_at",
        )
        .order_by("id")
    )
    for row in rows.iterator(chunk_size=2000):
        context = {
            "agent": row["agent__name"],
            "action_type": row["action_type"],
            "rule": row["policy_rule__name"],
            "summary": row["summary"],
            "reasoning": row["reasoning"],
            "evidence": row["evidence"],
            "confidence": row["confidence"],
            "irreversible": row["irreversible"],
            "blast_radius": row["blast_radius"],
            "compliance_exposure": row["compliance_exposure"],
            "expected_impact": row["expected_impact"],
            "created_at": row["created_at"].isoformat(),
        }
        if row["status"] == Status.REJECTED or row["revised_payload"] is not None:
            modified = row["status"] == Status.APPROVED
            yield _redacted(
                {
                    "proposal_id": row["id"],
                    "kind": "modified" if modified else "rejected",
                    "original_payload": row["payload"],
                    "corrected_payload": row["revised_payload"] if modified else None,
                    "verdict": row["decision_verdict"] or (Verdict.MODIFY if modified else Verdict.REJECT),
                    "rationale": row["decision_rationale"] or "",
                    "decided_at": row["decided_at"].isoformat() if row["decided_at"] else None,
                    "context": context,
                },
                redact,
            )
        if row["post_review__state"] == ReviewState.FLAGGED:
            reviewed_at = row["post_review__reviewed_at"]
            yield _redacted(
                {
                    "proposal_id": row["id"],
                    "kind": "flagged",
                    "original_payload": row["revised_payload"]
                    if row["revised_payload"] is not None
                    else row["payload"],
                    "corrected_payload": row["post_review__correction"],
                    "verdict": PostActionReview.Verdict.FLAG.value,
                    "rationale": row["post_review__rationale"],
                    "decided_at": reviewed_at.isoformat() if reviewed_at else None,
                    "context": context,
                },
                redact,
            )


def redact_keys(value, keys: frozenset[str]):
    """The value with every mapping key named in ``keys`` (at any depth) replaced by a marker."""
    if isinstance(value, dict):
        return {key: "[redacted]" if key in keys else redact_keys(item, keys) for key, item in value.items()}
    if isinstance(value, list):
        return [redact_keys(item, keys) for item in value]
    return value


def _redacted(item: dict, keys: frozenset[str]) -> dict:
    if not keys:
        return item
    return item | {
        "original_payload": redact_keys(item["original_payload"], keys),
        "corrected_payload": redact_keys(item["corrected_payload"], keys),
        "context": redact_keys(item["context"], keys),
    }
