"""The chain itself: one linking step (hashes, Merkle frontier, the locked head) shared by single and
batch appends, in raw SQL where the ORM would cost a statement per row. Only `services` calls it."""

import functools
import json
import secrets
from collections.abc import Mapping

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from . import canonical, merkle
from .event_rows import hashed_timestamp
from .models import (
    ENVELOPE_FIELDS,
    EVENT_COLUMNS,
    SCHEMA_VERSION,
    ActorType,
    AuditEvent,
    AuditEventData,
    ChainHead,
)

# --- the chain: one linking step, shared by single appends and batch appends -------------------------


SALT_BYTES = 32


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
        envelope = {name: getattr(event, name) for name in ENVELOPE_FIELDS}
        envelope["timestamp"] = canonical.format_timestamp(event.timestamp)
        event.hash, completed = _link(frontier, schema_version=event.schema_version, **envelope)
        event_row = [getattr(event, column) for column in EVENT_COLUMNS]
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
    event.data_record = AuditEventData(event=event, salt=salt, canonical_data=canonical_data)


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
        columns = [*_as_columns(events, len(EVENT_COLUMNS)), *_as_columns(data, 3), *_as_columns(nodes, 3)]
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
