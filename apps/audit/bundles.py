"""Offline-verifiable audit bundles: the events of a period with their proofs and the standalone verifier."""

import json
import zipfile
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from hitlplatform.errors import InvalidInput

from . import canonical, signing
from .models import (
    ENVELOPE_FIELDS,
    AuditEvent,
    Checkpoint,
)
from .selectors import audit_checkpoints, audit_consistency_proof, audit_frontier
from .services import audit_checkpoint_create


def audit_bundle_export(*, start: date, end: date, out: Path | str) -> dict:
    """Write a zip of the events of the days `start`..`end` (UTC, inclusive) for offline verification.

    It holds the events with their canonical data and salts (JSONL), the checkpoints, the
    public key, the Merkle frontier before the first event and a consistency proof to a signed
    checkpoint covering the last, a README and the standalone verifier (offline/verify_bundle.py).
    A checkpoint is signed first when none covers the period yet.
    """
    if end < start:
        raise InvalidInput(fields={"end": [_("The end date must not be before the start date.")]})
    in_period = AuditEvent.objects.filter(
        timestamp__gte=datetime.combine(start, time.min, tzinfo=UTC),
        timestamp__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )
    first_seq = in_period.order_by("seq").values_list("seq", flat=True).first()
    last_seq = in_period.order_by("-seq").values_list("seq", flat=True).first()
    if first_seq is None:
        raise InvalidInput(
            fields={"start": [_("No audit events between %(start)s and %(end)s.") % {"start": start, "end": end}]}
        )
    covering = audit_checkpoints().filter(tree_size__gte=last_seq).first()
    if covering is None:
        audit_checkpoint_create()
        covering = audit_checkpoints().filter(tree_size__gte=last_seq).first()
    checkpoints = [
        _checkpoint_as_dict(checkpoint)
        for checkpoint in audit_checkpoints().filter(tree_size__gte=first_seq, tree_size__lte=covering.tree_size)
    ]
    consistency = (
        []
        if covering.tree_size == last_seq
        else audit_consistency_proof(first=last_seq, second=covering.tree_size)["consistency_path"]
    )
    manifest = {
        "format": "hitlplatform-audit-bundle",
        "version": 1,
        "generated_at": canonical.format_timestamp(timezone.now()),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "first_seq": first_seq,
        "last_seq": last_seq,
        "events": last_seq - first_seq + 1,
        "prefix_frontier": audit_frontier(tree_size=first_seq - 1),
        "covering_checkpoint": _checkpoint_as_dict(covering),
        "consistency_path": consistency,
        "public_key": signing.public_key_hex(),
    }
    verifier = Path(__file__).with_name("offline") / "verify_bundle.py"
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        with bundle.open("events.jsonl", "w") as lines:
            for event in _bundle_events(first_seq, last_seq):
                lines.write(json.dumps(event, sort_keys=True).encode() + b"\n")
        bundle.writestr("checkpoints.json", json.dumps(checkpoints, indent=1))
        bundle.writestr("manifest.json", json.dumps(manifest, indent=1))
        bundle.writestr("public_key.txt", manifest["public_key"] + "\n")
        bundle.writestr("README.txt", _BUNDLE_README.format(**manifest))
        bundle.write(verifier, "verify_bundle.py")
    return manifest


_BUNDLE_README = """hitlplatform audit bundle: events {first_seq}..{last_seq} ({start} to {end})

events.jsonl      one event a line: the hashed envelope fields, hash, and the salt and the exact
                  RFC 8785 canonical data that data_hash covers (null when erased, GDPR Art. 17)
checkpoints.json  signed tree heads (Ed25519 over RFC 8785 JSON of tree_size, root_hash, timestamp)
manifest.json     the period, the Merkle frontier before the first event, the checkpoint covering
                  the last one and an RFC 9162 consistency proof to it
public_key.txt    the Ed25519 public key of the checkpoints (hex); compare it with one you trust

Verify (Python 3.11+, `pip install cryptography`):

    python verify_bundle.py bundle.zip --public-key {public_key}

Hashes: data_hash = SHA-256(salt || canonical data); hash = SHA-256(RFC 8785 JSON of schema_version,
seq, timestamp, actor_type, actor_id, action, object_type, object_id, data_hash, prev_hash);
Merkle leaf = SHA-256(0x00 || hash), node = SHA-256(0x01 || left || right), leaf index = seq - 1.
"""


def _bundle_events(first_seq: int, last_seq: int):
    fields = [*ENVELOPE_FIELDS, "hash", "schema_version", "data_record__salt", "data_record__canonical_data"]
    rows = (
        AuditEvent.objects.filter(seq__gte=first_seq, seq__lte=last_seq)
        .order_by("seq")
        .values_list(*fields)
        .iterator(chunk_size=2000)
    )
    for row in rows:
        event = dict(zip([*fields[:-2], "salt", "canonical_data"], row, strict=True))
        event["timestamp"] = canonical.format_timestamp(event["timestamp"])
        yield event


def _checkpoint_as_dict(checkpoint: Checkpoint) -> dict:
    return {
        "tree_size": checkpoint.tree_size,
        "root_hash": checkpoint.root_hash,
        "timestamp": canonical.format_timestamp(checkpoint.timestamp),
        "signature": checkpoint.signature,
        "public_key": checkpoint.public_key,
    }
