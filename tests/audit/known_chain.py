"""The committed chain of tests/audit/fixtures/known_chain.json: written once, verified forever.

Events written by this version must still verify after any upgrade, with the same code path
(`audit_verify`). Never regenerate the fixture to make a test pass; a new schema version gets
a fixture of its own. To write it (once), against a throwaway database:

    DATABASE_URL=sqlite:////tmp/known-chain.sqlite3 AUDIT_SIGNING_KEY=<TEST_SIGNING_SEED> \\
        python manage.py migrate && ... python tests/audit/known_chain.py
"""

import json
from datetime import UTC, datetime
from pathlib import Path

FIXTURE = Path(__file__).with_name("fixtures") / "known_chain.json"


def load() -> dict:
    """Insert the fixture's rows as they are; returns the fixture."""
    from apps.audit.models import AuditEvent, AuditEventData, ChainHead, Checkpoint, MerkleNode

    chain = json.loads(FIXTURE.read_text())
    AuditEvent.objects.bulk_create(
        AuditEvent(
            **{key: value for key, value in event.items() if key not in ("salt", "canonical_data")}
            | {"timestamp": _instant(event["timestamp"])}
        )
        for event in chain["events"]
    )
    AuditEventData.objects.bulk_create(
        AuditEventData(event_id=event["seq"], salt=event["salt"], canonical_data=event["canonical_data"])
        for event in chain["events"]
        if event["canonical_data"] is not None
    )
    MerkleNode.objects.bulk_create(
        MerkleNode(level=level, index=index, hash=node) for level, index, node in chain["merkle_nodes"]
    )
    Checkpoint.objects.bulk_create(
        Checkpoint(**checkpoint | {"timestamp": _instant(checkpoint["timestamp"])})
        for checkpoint in chain["checkpoints"]
    )
    ChainHead.objects.update_or_create(
        pk=1, defaults={**chain["head"], "frontier": json.dumps(chain["head"]["frontier"])}
    )
    return chain


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def write() -> None:  # pragma: no cover - run once by hand, see the module docstring
    import os
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")
    import django

    django.setup()
    from itertools import count

    from apps.audit import canonical, services
    from apps.audit.models import AuditEvent, ChainHead, Checkpoint, MerkleNode

    moments = count()
    services.timezone.now = lambda: datetime(
        2026, 11, 22, 2, 12, 24, 0 if next(moments) == 0 else 123456 + next(moments), tzinfo=UTC
    )
    record = services.audit_record

    class Agent:
        audit_actor_type = "agent"
        pk = 7

    record(action="policy.changed", object_type="policies.policy", object_id="1", data={"version": 1, "rules": 3})
    record(
        action="proposal.submitted",
        actor=Agent(),
        object_type="proposals.proposal",
        object_id="1",
        data={"confidence": 0.8, "amount": "500.00", "blast_radius": 1, "irreversible": False, "evidence": []},
    )
    record(
        action="decision.recorded",
        object_type="proposals.proposal",
        object_id="1",
        data={"verdict": "approve", "rationale": 'Zahlung geprüft – "ok"\n\ttab\u0001ctl \u2028 😀', "n": None},
    )
    record(action="auth.login_failed", data={"username": "bob"})
    services.audit_checkpoint_create()
    record(
        action="proposal.submitted",
        object_type="proposals.proposal",
        object_id="ñ/é",
        data={
            "floats": [0.1, 1e21, 1e-7, -0.0, 123456789.125, 5e-324, 1.7976931348623157e308],
            "big": 9007199254740991,
            "nested": {"z": {"b": [1, {"a": True}]}, "A": "", "é": "x", "\u20ac": 1, "\U0001f600": 2},
        },
    )
    record(action="role.granted", object_type="auth.user", object_id="3", data={"role": "compliance_officer"})
    record(
        action="proposal.executed",
        object_type="proposals.proposal",
        object_id="1",
        data={"status": "succeeded", "detail": {"refund_id": "R-1"}},
    )
    services.audit_checkpoint_create()
    record(
        action="user.created",
        object_type="auth.user",
        object_id="4",
        data={"username": "erasable", "email": "e@x.invalid"},
    )
    record(action="proposal.cancelled", object_type="proposals.proposal", object_id="2", data={})
    services.audit_redact(seq=8, reason="GDPR Art. 17 request #1")
    record(action="sla.swept", data={"expired": 0})
    services.audit_checkpoint_create()

    events = []
    for event in AuditEvent.objects.select_related("data_record").order_by("seq"):
        data = getattr(event, "data_record", None)
        events.append(
            {
                "seq": event.seq,
                "timestamp": canonical.format_timestamp(event.timestamp),
                "actor_type": event.actor_type,
                "actor_id": event.actor_id,
                "action": event.action,
                "object_type": event.object_type,
                "object_id": event.object_id,
                "data_hash": event.data_hash,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
                "schema_version": event.schema_version,
                "salt": data.salt if data else None,
                "canonical_data": data.canonical_data if data else None,
            }
        )
    head = ChainHead.objects.get()
    chain = {
        "description": "Events written by hitlplatform audit schema version 1; they must verify forever.",
        "events": events,
        "checkpoints": [
            {
                "tree_size": c.tree_size,
                "root_hash": c.root_hash,
                "timestamp": canonical.format_timestamp(c.timestamp),
                "signature": c.signature,
                "public_key": c.public_key,
            }
            for c in Checkpoint.objects.order_by("tree_size")
        ],
        "merkle_nodes": list(MerkleNode.objects.order_by("level", "index").values_list("level", "index", "hash")),
        "head": {"seq": head.seq, "hash": head.hash, "frontier": json.loads(head.frontier)},
    }
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(chain, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    write()
