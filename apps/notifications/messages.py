"""What each channel receives. Reviewer channels get a summary and a link, never the payload."""

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from rest_framework.renderers import JSONRenderer

from apps.proposals.models import Decision, Proposal
from apps.proposals.serializers import proposal_representation

from .models import EventType


def webhook_body(*, event_id, event_type: str, proposal: Proposal) -> str:
    """DESIGN.md: {"id", "type", "proposal": {...}}; the proposal as of the event, in the event's transaction.

    A proposal read with `proposals_for_webhooks` in this transaction (the SLA sweep's locked
    batches) is serialized as it is; any other is read again, its relations with it.
    """
    current = proposal if _read_for_webhooks(proposal) else proposals_for_webhooks(Proposal.objects).get(pk=proposal.pk)
    document = {"id": str(event_id), "type": event_type, "proposal": proposal_representation(current)}
    return JSONRenderer().render(document).decode()


def proposals_for_webhooks(proposals):
    """Everything ProposalOutputSerializer reads, in two queries."""
    return proposals.select_related(
        "agent", "queue", "policy_version", "policy_rule", "post_review__reviewer", "claimed_by"
    ).prefetch_related(Prefetch("decisions", queryset=Decision.objects.select_related("reviewer")))


def _read_for_webhooks(proposal: Proposal) -> bool:
    relations = (Proposal.agent, Proposal.queue, Proposal.policy_version, Proposal.policy_rule, Proposal.post_review)
    prefetched = getattr(proposal, "_prefetched_objects_cache", {})
    return "decisions" in prefetched and all(relation.is_cached(proposal) for relation in relations)


def webhook_signature(*, secret: str, timestamp: int, body: bytes) -> str:
    """X-HITL-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def review_link(proposal_id: int) -> str:
    return f"{settings.SITE_URL.rstrip('/')}/review/{proposal_id}/"


_HEADLINES = {
    EventType.CREATED: lambda: _("New proposal to review"),
    EventType.REMINDER: lambda: _("Reminder: a proposal is nearly due"),
    EventType.ESCALATED: lambda: _("Escalated to your queue"),
    EventType.EXPIRED: lambda: _("A proposal expired unreviewed"),
    EventType.DECIDED: lambda: _("Proposal decided"),
    EventType.FLAGGED: lambda: _("Execution flagged"),
    EventType.CHANGES_REQUESTED: lambda: _("Changes requested"),
    EventType.UNSTAFFED: lambda: _("Escalated to a queue where nobody may decide"),
}


@dataclass(frozen=True)
class ProposalSummary:
    """The few facts a reviewer needs to pick the item up; the payload stays in the app."""

    proposal_id: int
    headline: str
    summary: str
    action_type: str
    risk: str
    due: str
    queue: str
    link: str

    @classmethod
    def of(cls, *, proposal: Proposal, event_type: str, queue, due_at: datetime | None) -> "ProposalSummary":
        risk = _(
            "confidence %(confidence).2f, %(reversibility)s, blast radius %(blast)s, compliance exposure %(exposure)s"
        ) % {
            "confidence": proposal.confidence,
            "reversibility": _("irreversible") if proposal.irreversible else _("reversible"),
            "blast": proposal.blast_radius,
            "exposure": proposal.compliance_exposure,
        }
        return cls(
            proposal_id=proposal.pk,
            headline=str(_HEADLINES[event_type]()),
            summary=proposal.summary or proposal.action_type,
            action_type=proposal.action_type,
            risk=risk,
            due=due_at.strftime("%Y-%m-%d %H:%M UTC") if due_at else _("no due time"),
            queue=queue.slug,
            link=review_link(proposal.pk),
        )

    def lines(self) -> list[tuple[str, str]]:
        return [
            (_("Summary"), self.summary),
            (_("Action type"), self.action_type),
            (_("Risk"), self.risk),
            (_("Due"), self.due),
            (_("Queue"), self.queue),
        ]

    def subject(self) -> str:
        return f"[hitlplatform] {self.headline}: #{self.proposal_id} {self.summary}"[:300]

    def email_text(self, detail: str = "") -> str:
        facts = "\n".join(f"{label}: {value}" for label, value in self.lines())
        detail = f"{detail}\n\n" if detail else ""
        return f"{self.headline}\n\n{detail}{facts}\n\n{_('Open it')}: {self.link}\n"

    def slack_body(self) -> str:
        facts = "\n".join(f"*{label}:* {value}" for label, value in self.lines())
        return _json({"text": f"{self.headline}: <{self.link}|#{self.proposal_id} {self.summary}>\n{facts}"})

    def teams_body(self) -> str:
        return _json(
            {
                "@type": "MessageCard",
                "@context": "https://schema.org/extensions",
                "summary": self.headline,
                "title": f"{self.headline}: #{self.proposal_id}",
                "sections": [{"facts": [{"name": label, "value": value} for label, value in self.lines()]}],
                "potentialAction": [
                    {
                        "@type": "OpenUri",
                        "name": _("Open in hitlplatform"),
                        "targets": [{"os": "default", "uri": self.link}],
                    }
                ],
            }
        )


def _json(document) -> str:
    return JSONRenderer().render(document).decode()
