"""Writes of the audit trail. `audit_record` is the only way an event enters the chain."""

import functools
import json
import logging
import secrets
import zipfile
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError

from . import canonical, merkle, signing
from .event_rows import hashed_timestamp
from .models import (
    ENVELOPE_FIELDS,
    SCHEMA_VERSION,
    ActorType,
    AuditEvent,
    AuditEventData,
    ChainHead,
    Checkpoint,
    VerificationRun,
)

logger = logging.getLogger(__name__)

REDACTED_ACTION = "audit.redacted"
EVENT_OBJECT_TYPE = "audit.auditevent"
SALT_BYTES = 32


def audit_record(
    *,
    action: str,
    actor=None,
    obj=None,
    data: Mapping | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction.

    `actor`: None for the system, an object with `audit_actor_type` (an agent), or a user.
    `obj`: the model instance the event is about (or pass object_type / object_id).
    `data`: a JSON-able mapping; dates, UUIDs and decimals become strings.
    """
    fields, salt, canonical_data = _new_event(
        action=action, actor=actor, obj=obj, data=data, object_type=object_type, object_id=object_id
    )
    event = AuditEvent(**fields)
    with transaction.atomic(savepoint=False):
        _chain_append(event, salt=salt, canonical_data=canonical_data)
    return event


def audit_record_many(*, events: Iterable[Mapping]) -> int:
    """Append events to the chain in the caller's transaction, in order, each exactly what
    `audit_record(**event)` appends: for a transaction that records a batch (the SLA sweep), one
    lock of the chain head and one write for all of them instead of two statements each.
    Returns how many were appended. Events are validated before anything is written.
    """
    prepared = [_new_event(**event) for event in events]
    if not prepared:
        return 0
    timestamp = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (timestamp, fields["actor_type"], fields["actor_id"], fields["action"], fields["object_type"],
         fields["object_id"], fields["data_hash"], salt, canonical_data, fields["schema_version"])
        for fields, salt, canonical_data in prepared
    ]  # fmt: skip
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        _append_batch(cursor, _locked_head(cursor), rows)
    return len(rows)


def audit_chain_hold() -> None:
    """Lock the chain head in the caller's transaction now, as its next append would.

    Rows written after it get their ids in commit order (the head stays locked until commit), so a
    reader resuming after an id (the agents' event stream) never misses a row committed later.
    """
    with connection.cursor() as cursor:
        _locked_head(cursor)


def audit_checkpoint_create() -> Checkpoint | None:
    """Sign the Merkle root of the chain as it is now; None when no event came since the last one."""
    head = ChainHead.objects.filter(pk=1).first()
    if head is None or head.seq == 0:
        return None
    latest = Checkpoint.objects.order_by("-tree_size").values_list("tree_size", flat=True).first()
    if latest is not None and latest >= head.seq:
        return None
    root = merkle.frontier_root([bytes.fromhex(node) for node in json.loads(head.frontier)]).hex()
    timestamp = timezone.now()
    message = canonical.checkpoint_message(
        tree_size=head.seq, root_hash=root, timestamp=canonical.format_timestamp(timestamp)
    )
    signature, public_key = signing.sign(message)
    try:
        with transaction.atomic():
            return Checkpoint.objects.create(
                tree_size=head.seq, root_hash=root, timestamp=timestamp, signature=signature, public_key=public_key
            )
    except IntegrityError:  # another worker signed the same tree size first
        return None


def audit_redact(*, seq: int, reason: str, actor=None) -> AuditEvent:
    """Erase an event's data and salt (GDPR Art. 17); the chain keeps its data_hash and verifies.

    The erasure is itself recorded, as an `audit.redacted` event about the erased one; the
    database refuses to delete event data that no such event names.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("A reason is required to redact audit data.")]})
    with transaction.atomic():  # a savepoint: a refusal leaves the caller's transaction usable
        with connection.cursor() as cursor:  # serializes redactions with every append (no UPDATE right needed on data)
            _locked_head(cursor)
        data_record = AuditEventData.objects.select_related("event").filter(event_id=seq).first()
        if data_record is None:
            if AuditEvent.objects.filter(seq=seq).exists():
                raise ValidationError({"seq": [_("The data of event %(seq)s is already redacted.") % {"seq": seq}]})
            raise NotFound(_("No audit event %(seq)s.") % {"seq": seq})
        if data_record.event.action == REDACTED_ACTION:
            raise ValidationError({"seq": [_("A redaction record cannot itself be redacted.")]})
        redaction = audit_record(
            action=REDACTED_ACTION,
            actor=actor,
            object_type=EVENT_OBJECT_TYPE,
            object_id=str(seq),
            data={"redacted_seq": seq, "reason": reason},
        )
        data_record.delete()
    return redaction


def audit_verification_record(*, chunk_size: int = 5000) -> VerificationRun:
    """Verify the whole chain and keep the outcome (the nightly "audit.verify_full" task)."""
    from .selectors import audit_verify

    started_at = timezone.now()
    verification = audit_verify(chunk_size=chunk_size)
    logger.info(
        "audit chain verified: ok=%s, %s events, %s segments in %s processes",
        verification.ok, verification.events_checked, verification.segments, verification.processes,
    )  # fmt: skip
    return VerificationRun.objects.create(
        kind=VerificationRun.Kind.FULL,
        started_at=started_at,
        finished_at=timezone.now(),
        ok=verification.ok,
        events_checked=verification.events_checked,
        checkpoints_checked=verification.checkpoints_checked,
        redacted=verification.redacted,
        head_seq=verification.head_seq,
        head_hash=verification.head_hash,
        frontier=json.dumps(verification.frontier),
        first_bad_seq=verification.first_bad_seq,
        reason=verification.reason,
    )


def audit_bundle_export(*, start: date, end: date, out: Path | str) -> dict:
    """Write a zip of the events of the days `start`..`end` (UTC, inclusive) for offline verification.

    It holds the events with their canonical data and salts (JSONL), the checkpoints, the
    public key, the Merkle frontier before the first event and a consistency proof to a signed
    checkpoint covering the last, a README and the standalone verifier (offline/verify_bundle.py).
    A checkpoint is signed first when none covers the period yet.
    """
    from .selectors import audit_checkpoints, audit_consistency_proof, audit_frontier

    if end < start:
        raise ValidationError({"end": [_("The end date must not be before the start date.")]})
    in_period = AuditEvent.objects.filter(
        timestamp__gte=datetime.combine(start, time.min, tzinfo=UTC),
        timestamp__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )
    first_seq = in_period.order_by("seq").values_list("seq", flat=True).first()
    last_seq = in_period.order_by("-seq").values_list("seq", flat=True).first()
    if first_seq is None:
        raise ValidationError(
            {"start": [_("No audit events between %(start)s and %(end)s.") % {"start": start, "end": end}]}
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


# --- the chain: one linking step, shared by single appends and batch appends -------------------------


def _new_event(*, action, actor=None, obj=None, data=None, object_type=None, object_id=None):
    """Validate and canonicalize an event: (envelope fields but seq/timestamp/links, salt, canonical data).

    Everything that does not depend on the chain head, so a bad event raises in the caller's
    transaction before anything is written, and no lock is held while this runs.
    """
    actor_type, actor_id = _actor_identity(actor)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id if object_id is not None else str(obj.pk)
    object_type, object_id = object_type or "", "" if object_id is None else str(object_id)
    _check_envelope_field("action", action, max_length=100, required=True)
    _check_envelope_field("actor_id", actor_id, max_length=64)
    _check_envelope_field("object_type", object_type, max_length=100)
    _check_envelope_field("object_id", object_id, max_length=64)
    canonical_data = canonical.canonical_json(_jsonable(data))
    salt = secrets.token_hex(SALT_BYTES)
    fields = {
        "actor_type": actor_type,
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data_hash": canonical.data_hash(salt, canonical_data),
        "schema_version": SCHEMA_VERSION,
    }
    return fields, salt, canonical_data


def _link(frontier: list[bytes], **envelope) -> tuple[str, list[tuple[int, int, bytes]]]:
    """The hash of the event with this hashed envelope, and the Merkle nodes its leaf completes.

    `envelope` is what canonical.event_hash takes (seq, timestamp as hashed text, prev_hash, ...);
    the leaf joins `frontier`, the head's frontier of seq - 1 leaves, in place.
    """
    event_hash = canonical.event_hash(**envelope)
    completed = merkle.frontier_append(frontier, envelope["seq"] - 1, merkle.leaf_hash(bytes.fromhex(event_hash)))
    return event_hash, completed


def _chain_append(event: AuditEvent, *, salt: str, canonical_data: str) -> None:
    """Link `event` to the chain head and store it with its data: the critical section of an append.

    Appends are serialized from the head's lock until the caller's COMMIT, so the lock is held
    for two statements only: the locked read of the head and one write (on PostgreSQL a single
    statement of data-modifying CTEs). Rows are written by hand, not by the ORM, to keep the
    time under the lock short.
    """
    with connection.cursor() as cursor:
        head_seq, event.prev_hash, head_frontier = _locked_head(cursor)
        event.seq = head_seq + 1
        event.timestamp = timezone.now()
        frontier = [bytes.fromhex(node) for node in json.loads(head_frontier)]
        event.hash, completed = _link(
            frontier,
            schema_version=event.schema_version,
            seq=event.seq,
            timestamp=canonical.format_timestamp(event.timestamp),
            actor_type=event.actor_type,
            actor_id=event.actor_id,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            data_hash=event.data_hash,
            prev_hash=event.prev_hash,
        )
        event_row = [getattr(event, column) for column in _EVENT_COLUMNS]
        event_row[1] = connection.ops.adapt_datetimefield_value(event.timestamp)
        rows = [
            event_row,
            [event.seq, salt, canonical_data],
            [value for level, index, node in completed for value in (level, index, node.hex())],
            [event.seq, event.hash, json.dumps([node.hex() for node in frontier])],
        ]
        if connection.vendor == "postgresql":
            cursor.execute(_append_statement(len(completed)), [value for row in rows for value in row])
        else:
            for statement, params in zip(_append_statements(len(completed)), rows, strict=True):
                if params:
                    cursor.execute(statement, params)
    event._state.adding, event._state.db = False, connection.alias
    event.data_record = AuditEventData(event=event, salt=salt, canonical_data=canonical_data)


_EVENT_COLUMNS = (*ENVELOPE_FIELDS, "hash", "schema_version")  # as the INSERTs below list them
# [not PostgreSQL, PostgreSQL]; on SQLite the transaction began IMMEDIATE and holds the write lock
_HEAD_FOR_UPDATE = [
    "SELECT seq, hash, frontier FROM audit_chain_head WHERE id = 1",
    "SELECT seq, hash, frontier FROM audit_chain_head WHERE id = 1 FOR UPDATE",
]


@functools.cache
def _append_statements(node_count: int) -> tuple[str, str, str, str]:
    """INSERT event, INSERT data, INSERT the completed Merkle nodes, UPDATE the head."""
    nodes = ", ".join(["(%s, %s, %s)"] * node_count)  # placeholders only: values are parameters
    return (
        "INSERT INTO audit_event (seq, timestamp, actor_type, actor_id, action, object_type, object_id,"
        " data_hash, prev_hash, hash, schema_version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        "INSERT INTO audit_event_data (seq, salt, canonical_data) VALUES (%s, %s, %s)",
        f'INSERT INTO audit_merkle_node (level, "index", hash) VALUES {nodes}' if node_count else "",  # noqa: S608
        "UPDATE audit_chain_head SET seq = %s, hash = %s, frontier = %s WHERE id = 1",
    )


@functools.cache
def _append_statement(node_count: int) -> str:
    """The four writes of an append as one PostgreSQL statement: one round trip under the lock."""
    insert_event, insert_data, insert_nodes, update_head = _append_statements(node_count)
    nodes = f", merkle_nodes AS ({insert_nodes})" if node_count else ""
    return f"WITH event AS ({insert_event}), event_data AS ({insert_data}){nodes} {update_head}"


def _locked_head(cursor) -> tuple[int, str, str]:
    """(seq, hash, frontier) of the chain head, locked."""
    statement = _HEAD_FOR_UPDATE[connection.vendor == "postgresql"]
    cursor.execute(statement)
    head = cursor.fetchone()
    if head is None:
        ChainHead.objects.get_or_create(pk=1)  # a fresh or flushed database
        cursor.execute(statement)
        head = cursor.fetchone()
    return head


# A whole batch in one PostgreSQL statement: each column travels as one array.
_APPEND_BATCH = (
    "WITH event AS (INSERT INTO audit_event (seq, timestamp, actor_type, actor_id, action, object_type, object_id,"
    " data_hash, prev_hash, hash, schema_version) SELECT * FROM unnest("
    "%s::bigint[], %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[], %s::text[],"
    " %s::text[], %s::text[], %s::text[], %s::smallint[])),"
    " event_data AS (INSERT INTO audit_event_data (seq, salt, canonical_data)"
    " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::text[])),"
    ' merkle_nodes AS (INSERT INTO audit_merkle_node (level, "index", hash)'
    " SELECT * FROM unnest(%s::smallint[], %s::bigint[], %s::text[]))"
    " UPDATE audit_chain_head SET seq = %s, hash = %s, frontier = %s WHERE id = 1"
)


def _append_batch(cursor, head: tuple[int, str, str], rows: list[tuple]) -> None:
    """Link rows (timestamp as stored, actor_type, actor_id, action, object_type, object_id,
    data_hash, salt, canonical_data, schema_version), in order, after `head` and write them."""
    head_seq, prev_hash, head_frontier = head
    frontier = [bytes.fromhex(node) for node in json.loads(head_frontier)]
    events, data, nodes = [], [], []
    for (
        timestamp,
        actor_type,
        actor_id,
        action,
        object_type,
        object_id,
        data_hash,
        salt,
        canonical_data,
        schema_version,
    ) in rows:
        head_seq += 1
        event_hash, completed = _link(
            frontier,
            schema_version=schema_version,
            seq=head_seq,
            timestamp=hashed_timestamp(timestamp),  # hashed exactly as stored
            actor_type=actor_type,
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            data_hash=data_hash,
            prev_hash=prev_hash,
        )
        events.append(
            (head_seq, timestamp, actor_type, actor_id, action, object_type, object_id, data_hash, prev_hash,
             event_hash, schema_version)
        )  # fmt: skip
        data.append((head_seq, salt, canonical_data))
        nodes += [(level, index, node.hex()) for level, index, node in completed]
        prev_hash = event_hash
    new_head = [head_seq, prev_hash, json.dumps([node.hex() for node in frontier])]
    if connection.vendor == "postgresql":
        columns = [*_as_columns(events, len(_EVENT_COLUMNS)), *_as_columns(data, 3), *_as_columns(nodes, 3)]
        cursor.execute(_APPEND_BATCH, [*columns, *new_head])
    else:
        insert_event, insert_data, insert_node, update_head = _append_statements(1)
        cursor.executemany(insert_event, events)
        cursor.executemany(insert_data, data)
        if nodes:
            cursor.executemany(insert_node, nodes)
        cursor.execute(update_head, new_head)


def _as_columns(rows: list[tuple], width: int) -> list[list]:
    """Rows as `width` column lists, the arrays unnest() takes."""
    return [[row[column] for row in rows] for column in range(width)]


def _actor_identity(actor) -> tuple[str, str]:
    if actor is None:
        return ActorType.SYSTEM.value, "system"
    actor_type = getattr(actor, "audit_actor_type", None)
    if actor_type is not None:
        return str(actor_type), str(actor.pk)
    if getattr(actor, "is_anonymous", False):
        return ActorType.USER.value, "anonymous"
    return ActorType.USER.value, str(actor.pk)


def _jsonable(data):
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise TypeError(f"audit data must be a mapping, not {type(data).__name__}")
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _check_envelope_field(name: str, value: str, *, max_length: int, required: bool = False) -> None:
    if not isinstance(value, str) or (required and not value):
        raise ValueError(f"audit {name} must be a {'non-empty ' if required else ''}string")
    if len(value) > max_length:
        raise ValueError(f"audit {name} is longer than {max_length} characters")
    value.encode("utf-8")  # a lone surrogate has no canonical form
