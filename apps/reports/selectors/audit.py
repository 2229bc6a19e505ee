"""The audit trail as the compliance pages and the report read it: filtered, described, verified."""

import hashlib
import json
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    Max,
    Min,
    Q,
)
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.proposals.models import Proposal

from .scope import ReportScope, scope_audit_events


def report_audit_period(scope: ReportScope) -> dict:
    """The first and last sequence numbers of the period's events (for inclusion proofs)."""
    return scope_audit_events(scope).aggregate(first_seq=Min("seq"), last_seq=Max("seq"), events=Count("seq"))


def audit_events_filtered(
    *,
    action: str = "",
    actor_id: str = "",
    actor: str = "",
    object_type: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 50,
) -> list[AuditEvent]:
    """The newest events matching the filters (the compliance pages), paged by seq."""
    lookups = {
        "action__startswith": action,
        "actor_id": actor_id,
        "object_type": object_type,
        "timestamp__gte": since,
        "timestamp__lt": until,
        "seq__lt": before_seq,
    }
    events = AuditEvent.objects.select_related("data_record").order_by("-seq")
    events = events.filter(**{lookup: value for lookup, value in lookups.items() if value})
    if actor:
        matches = Q()
        for kind, identity in audit_actor_ids(actor):
            matches |= Q(actor_type=kind, actor_id=identity) if kind else Q(actor_id=identity)
        events = events.filter(matches)
    return list(events[:limit])


def audit_actor_ids(name: str) -> list[tuple[str, str]]:
    """A username or agent name typed in the filter as the (actor type, actor id) pairs it names;
    anything else is taken as a raw actor id of any type ("")."""
    name = name.strip()
    users = list(get_user_model().objects.filter(username__iexact=name).values_list("pk", flat=True))
    agents = list(Agent.objects.filter(name__iexact=name).values_list("pk", flat=True))
    if users or agents:
        return [("user", str(pk)) for pk in users] + [("agent", str(pk)) for pk in agents]
    return [("", name)]


def audit_events_described(events: list[AuditEvent]) -> list[AuditEvent]:
    """Each event with `actor_label`, `actor_url`, `object_label`, `object_url` and `data_items`.

    One query per kind of row referenced on the page (users, agents, proposals), not one per event.
    """
    user_ids = {event.actor_id for event in events if event.actor_type == "user" and event.actor_id.isdigit()}
    user_ids |= {
        event.object_id for event in events if event.object_type in USER_OBJECT_TYPES and event.object_id.isdigit()
    }
    agent_ids = {event.actor_id for event in events if event.actor_type == "agent" and event.actor_id.isdigit()}
    agent_ids |= {
        event.object_id for event in events if event.object_type == "agents.agent" and event.object_id.isdigit()
    }
    proposal_ids = {
        event.object_id for event in events if event.object_type == "proposals.proposal" and event.object_id.isdigit()
    }
    users = {str(user.pk): user for user in get_user_model().objects.filter(pk__in=user_ids)} if user_ids else {}
    agents = {str(agent.pk): agent.name for agent in Agent.objects.filter(pk__in=agent_ids)} if agent_ids else {}
    proposals = (
        {str(pk): summary for pk, summary in Proposal.objects.filter(pk__in=proposal_ids).values_list("pk", "summary")}
        if proposal_ids
        else {}
    )
    for event in events:
        event.actor_label, event.actor_url = _actor_described(event, users, agents)
        event.object_label, event.object_url = _object_described(event, users, agents, proposals)
        event.data_items = _data_items(event)
    return events


USER_OBJECT_TYPES = ("auth.user", "accounts.user")


def _actor_described(event, users, agents) -> tuple[str, str]:
    if event.actor_type == "system":
        return _("the system"), ""
    if event.actor_type == "agent":
        name = agents.get(event.actor_id)
        return (_("agent %(name)s") % {"name": name}, "") if name else (_("agent #%(id)s") % {"id": event.actor_id}, "")
    user = users.get(event.actor_id)
    if user is None:
        return (_("user #%(id)s") % {"id": event.actor_id}) if event.actor_id != "anonymous" else _("anonymous"), ""
    return user.get_full_name() or user.get_username(), f"?actor={user.get_username()}"


def _object_described(event, users, agents, proposals) -> tuple[str, str]:
    object_id = event.object_id
    if event.object_type == "proposals.proposal":
        summary = proposals.get(object_id, "")
        label = _("proposal #%(id)s") % {"id": object_id} + (f" · {summary}" if summary else "")
        return label, reverse("review:detail", args=[object_id]) if object_id.isdigit() else ""
    if event.object_type in USER_OBJECT_TYPES and object_id in users:
        return _("user %(name)s") % {"name": users[object_id].get_username()}, ""
    if event.object_type == "agents.agent" and object_id in agents:
        return _("agent %(name)s") % {"name": agents[object_id]}, ""
    if event.object_type == "reports.report" and object_id.isdigit():
        return _("report #%(id)s") % {"id": object_id}, reverse("compliance:reports")
    if not event.object_type:
        return "", ""
    return (
        f"{event.object_type.rsplit('.', 1)[-1].replace('_', ' ')} #{object_id}" if object_id else event.object_type,
        "",
    )


def _data_items(event) -> list[tuple[str, str]]:
    record = getattr(event, "data_record", None)
    if record is None:
        return []
    try:
        data = json.loads(record.canonical_data)
    except ValueError:
        return [("", record.canonical_data[:200])]
    if not isinstance(data, dict):
        return [("", json.dumps(data, ensure_ascii=False)[:200])]
    items = []
    for key, value in data.items():
        if isinstance(value, bool):
            text = _("yes") if value else _("no")
        elif isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = str(value)
        items.append((key, text if len(text) <= 120 else text[:119] + "…"))
    return items


def audit_chain_state() -> dict:
    """The chain as it is now: its verification (the last full run plus a walk of what came since),
    that last full run, and the latest checkpoint. The walk re-hashes events: read it once per report."""
    from apps.audit import selectors as audit_selectors
    from apps.audit import verification as audit_verification

    verification, last_full = audit_verification.audit_verification_status()
    return {
        "verification": verification,
        "last_full": last_full,
        "checkpoint": audit_selectors.audit_checkpoint_latest(),
    }


def report_audit_integrity(chain: dict | None = None) -> dict:
    """The chain's last verification and its latest signed checkpoint (`chain`: an `audit_chain_state()`)."""
    from apps.audit import canonical, signing

    chain = audit_chain_state() if chain is None else chain
    last_full, checkpoint = chain["last_full"], chain["checkpoint"]
    integrity: dict = {"verification": None, "last_full_verification_at": None, "checkpoint": None}
    integrity["last_full_verification_at"] = last_full.finished_at if last_full else None
    integrity["verification"] = chain["verification"]
    if checkpoint is not None:
        message = canonical.checkpoint_message(
            tree_size=checkpoint.tree_size,
            root_hash=checkpoint.root_hash,
            timestamp=canonical.format_timestamp(checkpoint.timestamp),
        )
        integrity["checkpoint"] = {
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "timestamp": checkpoint.timestamp,
            "signature": checkpoint.signature,
            "public_key": checkpoint.public_key,
            "fingerprint": public_key_fingerprint(checkpoint.public_key),
            "signed_message": message.decode(),
            "signature_valid": signing.signature_is_valid(
                message=message, signature_hex=checkpoint.signature, public_key=checkpoint.public_key
            ),
            "key_trusted": checkpoint.public_key in signing.trusted_public_keys(),
        }
    return integrity


def public_key_fingerprint(public_key_hex: str) -> str:
    """SHA-256 of the raw Ed25519 public key, in groups of four hex digits (read aloud over a phone)."""
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()
    return " ".join(digest[index : index + 4] for index in range(0, len(digest), 4))
