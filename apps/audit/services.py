"""Writes of the audit trail. `audit_record` is the only way an event enters the chain."""

import json
import logging
from collections.abc import Iterable, Mapping

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hitlplatform.errors import InvalidInput, NotFound

from . import canonical, merkle, signing
from .chain import (
    _append_batch,
    _chain_append,
    _locked_head,
    _new_event,
)
from .events import EVENT_OBJECT_TYPE, AuditEvents
from .models import (
    AuditEvent,
    AuditEventData,
    ChainHead,
    Checkpoint,
    VerificationRun,
)
from .verification import audit_verify
from .verification_start import verification_run_fields

logger = logging.getLogger(__name__)


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
        raise InvalidInput(fields={"reason": [_("A reason is required to redact audit data.")]})
    with transaction.atomic():  # a savepoint: a refusal leaves the caller's transaction usable
        with connection.cursor() as cursor:  # serializes redactions with every append (no UPDATE right needed on data)
            _locked_head(cursor)
        data_record = AuditEventData.objects.select_related("event").filter(event_id=seq).first()
        if data_record is None:
            if AuditEvent.objects.filter(seq=seq).exists():
                raise InvalidInput(fields={"seq": [_("The data of event %(seq)s is already redacted.") % {"seq": seq}]})
            raise NotFound(_("No audit event %(seq)s.") % {"seq": seq})
        if data_record.event.action == AuditEvents.REDACTED:
            raise InvalidInput(fields={"seq": [_("A redaction record cannot itself be redacted.")]})
        redaction = audit_record(
            action=AuditEvents.REDACTED,
            actor=actor,
            object_type=EVENT_OBJECT_TYPE,
            object_id=str(seq),
            data={"redacted_seq": seq, "reason": reason},
        )
        data_record.delete()
    return redaction


def audit_verification_record(*, chunk_size: int = 5000) -> VerificationRun:
    """Verify the whole chain and keep the outcome (the nightly "audit.verify_full" task)."""
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
        **verification_run_fields(verification),
    )
