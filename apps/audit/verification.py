"""Verification of the audit chain: one pass in constant memory, or segments on every core.

`audit_verify` is what `verify_audit`, the nightly task and GET audit/verify/ run. The walk is
here; its result, its record and its starting points are in `verification_start`, the checks of
a checkpoint in `verification_checkpoints` (neither imports this module)."""

import functools
import hashlib
import itertools
import json
from contextlib import closing, contextmanager, nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from . import canonical, forking, merkle, signing
from .event_rows import event_row_chunks, hashed_timestamp
from .events import EVENT_OBJECT_TYPE, AuditEvents
from .models import (
    GENESIS_HASH,
    SCHEMA_VERSION,
    AuditEvent,
    ChainHead,
    Checkpoint,
    VerificationRun,
)
from .selectors import (
    AuditTreeIncomplete,
    audit_frontier,
)
from .verification_checkpoints import checkpoint_problem, first_rewritten_seq
from .verification_start import (
    ChainVerification,
    WalkStart,
    start_after_verification,
    start_at_latest_checkpoint,
    verification_of_run,
)


def audit_verify(
    *, since_checkpoint: bool = False, since: VerificationRun | None = None, chunk_size: int = 5000
) -> ChainVerification:
    """Verify the chain in one pass and constant memory.

    Checks that seq is gapless from 1, every prev_hash links, every data_hash matches the stored
    salt and canonical data (missing data must be named by a later `audit.redacted` event),
    every hash matches its envelope, every checkpoint's root and signature match the chain, and
    the head matches its end. With `since_checkpoint` it starts from the latest checkpoint (after
    checking it against the stored tree); with `since` from an earlier verification's end.
    """
    with _read_snapshot() as owned:
        if since is not None:
            start = start_after_verification(since)
        elif since_checkpoint:
            start = start_at_latest_checkpoint()
        else:
            start = WalkStart()
        if isinstance(start, ChainVerification):
            return start
        return _walk_chain(start, chunk_size=chunk_size, snapshot_owned=owned)


def audit_verification_status() -> tuple[ChainVerification, VerificationRun | None]:
    """The last full verification plus an incremental check of what came since (GET audit/verify/)."""
    last_full = VerificationRun.objects.filter(kind=VerificationRun.Kind.FULL).order_by("-finished_at", "-id").first()
    if last_full is None:
        return audit_verify(), None
    if not last_full.ok:
        return verification_of_run(last_full), last_full
    since = audit_verify(since=last_full)
    since.events_checked += last_full.events_checked
    since.checkpoints_checked += last_full.checkpoints_checked
    since.redacted += last_full.redacted
    return since, last_full


# --- verification ------------------------------------------------------------------------


def _walk_chain(start: WalkStart, *, chunk_size: int, snapshot_owned: bool) -> ChainVerification:
    head = _head_values()
    segments = _segment_starts(start, head[0])
    if len(segments) > 1:
        verification = _walk_segments(start, segments, head, chunk_size=chunk_size, snapshot_owned=snapshot_owned)
        if verification is not None:
            return verification
    walked = _walk_events(start, head, upto=None, chunk_size=chunk_size)
    return walked.failure or _chain_end(start, head, walked)


@dataclass
class _Walked:
    """Where a walk over the events after `start.seq` ended, and what it carries to the next events."""

    start: WalkStart
    head: tuple[int, str, str | None]
    size: int
    prev_hash: str
    frontier: list[bytes]
    checkpoints_checked: int
    missing_data: set[int] = field(default_factory=set)  # data gone, no redaction event seen yet
    missing_total: int = 0
    explained_earlier: set[int] = field(default_factory=set)  # redactions of events at or before start.seq
    leftover_checkpoint: tuple | None = None  # the first checkpoint beyond the walked events
    failure: ChainVerification | None = None

    def fail(self, seq: int, reason: str) -> ChainVerification:
        if self.missing_data and min(self.missing_data) < seq:
            seq = min(self.missing_data)
            reason = _unexplained_erasure(seq)
        self.failure = ChainVerification(
            ok=False,
            events_checked=self.size - self.start.seq,
            head_seq=self.head[0],
            head_hash=self.head[1],
            first_bad_seq=seq,
            reason=reason,
            redacted=self.missing_total - len(self.missing_data),
            checkpoints_checked=self.checkpoints_checked,
        )
        return self.failure


def _walk_events(start: WalkStart, head: tuple, *, upto: int | None, chunk_size: int) -> _Walked:
    """Check the events after `start.seq` (up to `upto`, or to the end) and the checkpoints among them."""
    sha256, fromhex, envelope_bytes = hashlib.sha256, bytes.fromhex, canonical.envelope_bytes
    trusted_keys = signing.trusted_public_keys()
    walked = _Walked(
        start=start,
        head=head,
        size=start.seq,
        prev_hash=start.hash,
        frontier=[fromhex(node) for node in start.frontier],
        checkpoints_checked=start.checkpoints_checked,
    )
    expected_seq, prev_hash, size, frontier = start.seq + 1, start.hash, start.seq, walked.frontier
    pop, push = frontier.pop, frontier.append
    missing_data, explained_earlier = walked.missing_data, walked.explained_earlier
    verified_size = start.seq

    def fail(seq: int, reason: str) -> _Walked:
        walked.size, walked.prev_hash = size, prev_hash
        walked.fail(seq, reason)
        return walked

    checkpoints = Checkpoint.objects.filter(tree_size__gt=start.seq)
    if upto is not None:
        checkpoints = checkpoints.filter(tree_size__lte=upto)
    checkpoints = (
        checkpoints.order_by("tree_size")
        .values_list("tree_size", "root_hash", "timestamp", "signature", "public_key")
        .iterator(chunk_size=1000)
    )
    checkpoint = next(checkpoints, None)
    # Per event: 3 or 4 SHA-256 and a few comparisons, on plain rows with local names only.
    with closing(event_row_chunks(after=start.seq, upto=upto, chunk_size=chunk_size)) as chunks:
        for rows in chunks:
            for (
                seq,
                timestamp,
                actor_type,
                actor_id,
                action,
                object_type,
                object_id,
                data_hash,
                event_prev_hash,
                event_hash,
                schema_version,
                salt,
                canonical_data,
            ) in rows:
                if seq != expected_seq:
                    if seq > expected_seq:
                        return fail(expected_seq, _("event %(seq)s is missing") % {"seq": expected_seq})
                    return fail(seq, _("event %(seq)s appears twice or out of order") % {"seq": seq})
                if event_prev_hash != prev_hash:
                    return fail(
                        seq,
                        _("event %(seq)s: prev_hash does not match the hash of event %(prev)s")
                        % {"seq": seq, "prev": seq - 1},
                    )
                if canonical_data is None:
                    missing_data.add(seq)
                    walked.missing_total += 1
                elif sha256(fromhex(salt) + canonical_data.encode()).hexdigest() != data_hash:
                    return fail(seq, _("event %(seq)s: its data does not match its data_hash") % {"seq": seq})
                if schema_version != SCHEMA_VERSION:
                    return fail(seq, _("event %(seq)s: unknown schema version") % {"seq": seq})
                envelope = envelope_bytes(
                    schema_version, seq, hashed_timestamp(timestamp), actor_type, actor_id, action,
                    object_type, object_id, data_hash, event_prev_hash,
                )  # fmt: skip
                digest = sha256(envelope).digest()  # the Merkle leaf hashes these 32 bytes
                if digest.hex() != event_hash:
                    return fail(seq, _("event %(seq)s: its hash does not match its contents") % {"seq": seq})
                if action == AuditEvents.REDACTED and object_type == EVENT_OBJECT_TYPE and object_id.isdigit():
                    redacted_seq = int(object_id)
                    if redacted_seq <= start.seq:  # an event of an earlier segment
                        explained_earlier.add(redacted_seq)
                    missing_data.discard(redacted_seq)

                node, index = sha256(b"\x00" + digest).digest(), size
                while index & 1:
                    node = sha256(b"\x01" + pop() + node).digest()
                    index >>= 1
                push(node)
                size, prev_hash, expected_seq = seq, event_hash, seq + 1

                while checkpoint is not None and checkpoint[0] == size:
                    root_matches, problem = checkpoint_problem(checkpoint, merkle.frontier_root(frontier), trusted_keys)
                    if problem and not root_matches:
                        # some event since the last good checkpoint was rewritten and the links re-made
                        chunks.close()  # done with the rows: their cursor is closed before searching
                        rewritten = first_rewritten_seq(after=verified_size, tree_size=size)
                        return fail(rewritten, problem + " " + _("(from event %(seq)s on)") % {"seq": rewritten})
                    if problem:
                        return fail(size, problem)
                    walked.checkpoints_checked += 1
                    verified_size = size
                    checkpoint = next(checkpoints, None)
    walked.size, walked.prev_hash, walked.leftover_checkpoint = size, prev_hash, checkpoint
    return walked


def _chain_end(start: WalkStart, head: tuple, walked: _Walked) -> ChainVerification:
    """The checks once every event is walked: erasures explained, nothing truncated, the head matches."""
    head_seq, head_hash, head_frontier = head
    size, checkpoint = walked.size, walked.leftover_checkpoint
    if walked.missing_data:
        return walked.fail(min(walked.missing_data), _unexplained_erasure(min(walked.missing_data)))
    if checkpoint is not None:
        return walked.fail(
            size + 1,
            _("the chain ends at event %(size)s but a checkpoint signs %(tree_size)s events: it was truncated")
            % {"size": size, "tree_size": checkpoint[0]},
        )
    if head_seq > size:
        return walked.fail(
            size + 1,
            _("the chain ends at event %(size)s but its head is at %(head)s: it was truncated")
            % {"size": size, "head": head_seq},
        )
    if head_seq < size:
        return walked.fail(head_seq + 1, _("events after the chain head %(head)s") % {"head": head_seq})
    if head_hash != walked.prev_hash:
        return walked.fail(size, _("the chain head does not hold the hash of event %(seq)s") % {"seq": size})
    frontier_hex = [node.hex() for node in walked.frontier]
    if head_frontier is not None and json.loads(head_frontier) != frontier_hex:
        return walked.fail(size, _("the chain head's Merkle frontier does not match the events"))
    return ChainVerification(
        ok=True,
        events_checked=size - start.seq,
        head_seq=size,
        head_hash=walked.prev_hash,
        redacted=walked.missing_total,
        checkpoints_checked=walked.checkpoints_checked,
        frontier=frontier_hex,
    )


# --- verification in segments, on every core -------------------------------------------------------------
#
# One Python process hashes ~150k events per CPU second, so a long chain is cut into segments
# walked at once, each in a process of its own (forked, with its own connection to the same
# snapshot on PostgreSQL). A segment after the first starts from the stored hash of the event
# before it and the stored Merkle frontier there; the join checks both against what the previous
# segment computed, so the stored values are trusted only once they are proven. Any problem (a
# failed segment or join) reruns the walk in one pass, which names the first bad seq exactly as a
# single walk does: failures are rare, and that keeps one definition of what is reported.


def _segment_starts(start: WalkStart, head_seq: int) -> list[int]:
    """The seq each segment starts after: [start.seq] alone when the chain is too short to split."""
    events = head_seq - start.seq
    count = min(settings.AUDIT_VERIFY_PROCESSES, events // max(settings.AUDIT_VERIFY_MIN_SEGMENT, 1))
    if count < 2:
        return [start.seq]
    return [start.seq + events * number // count for number in range(count)]


def _walk_segments(
    start: WalkStart, segments: list[int], head: tuple, *, chunk_size: int, snapshot_owned: bool
) -> ChainVerification | None:
    """The verification of the chain walked in segments; None when a segment or a join fails.

    The first segment is walked here; the others in forked processes reading the same snapshot
    or, when it cannot be shared (the caller's own transaction, an in-memory database), here
    one after the other.
    """
    bounds = [*segments[1:], None]
    snapshot = forking.shareable_snapshot(owned=snapshot_owned)
    jobs = [
        functools.partial(_walk_stored_segment, after, upto, head, chunk_size=chunk_size, snapshot=snapshot)
        for after, upto in zip(segments[1:], bounds[1:], strict=True)
    ]
    with forking.running(jobs, in_processes=snapshot is not None) as later_results:
        walks = [_walk_events(start, head, upto=bounds[0], chunk_size=chunk_size), *later_results()]
    if any(walk is None or walk.failure is not None for walk in walks):
        return None
    for previous, following in itertools.pairwise(walks):
        if (previous.size, previous.prev_hash, [node.hex() for node in previous.frontier]) != (
            following.start.seq,
            following.start.hash,
            following.start.frontier,
        ):
            return None
    # The last walk, carrying the whole chain's counts, ends the chain as a single walk would.
    walked = walks[-1]
    walked.start = start
    walked.missing_data = set().union(*(walk.missing_data for walk in walks)) - set().union(
        *(walk.explained_earlier for walk in walks)
    )
    walked.missing_total = sum(walk.missing_total for walk in walks)
    walked.checkpoints_checked = sum(walk.checkpoints_checked for walk in walks)
    verification = _chain_end(start, head, walked)
    verification.segments = len(walks)
    verification.processes = len(walks) if snapshot is not None else 1
    return verification


def _walk_stored_segment(
    after: int, upto: int | None, head: tuple, *, chunk_size: int, snapshot: str | None
) -> "_Walked | None":
    """Walk the events after `after` from the stored hash and Merkle frontier there (checked at the
    join); None when there is no such start. With a `snapshot`, in a read transaction of its own
    on that snapshot (a forked process)."""
    with _read_snapshot(importing=snapshot) if snapshot is not None else nullcontext():
        event_hash = AuditEvent.objects.filter(seq=after).values_list("hash", flat=True).first()
        if event_hash is None:
            return None
        try:
            frontier = audit_frontier(tree_size=after)
        except AuditTreeIncomplete:
            return None
        return _walk_events(
            WalkStart(seq=after, hash=event_hash, frontier=frontier), head, upto=upto, chunk_size=chunk_size
        )


def _unexplained_erasure(seq: int) -> str:
    return _("event %(seq)s: its data was deleted without a recorded redaction") % {"seq": seq}


def _head_values() -> tuple[int, str, str | None]:
    head = ChainHead.objects.filter(pk=1).values_list("seq", "hash", "frontier").first()
    return head or (0, GENESIS_HASH, None)


@contextmanager
def _read_snapshot(*, importing: str | None = None):
    """One consistent view of head, events and checkpoints, without blocking writers.

    Yields whether the view is a read transaction of its own (not the caller's transaction).
    `importing`: a PostgreSQL snapshot id exported by another process, to read exactly its view.
    """
    if connection.in_atomic_block:
        yield False
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if importing:
                    cursor.execute("SET TRANSACTION SNAPSHOT %s", [importing])
            yield True
    elif connection.vendor == "sqlite":
        # transaction.atomic() would BEGIN IMMEDIATE and hold the write lock: a deferred
        # transaction reads a WAL snapshot instead.
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield True
        finally:
            with connection.cursor() as cursor:
                cursor.execute("ROLLBACK")
    else:
        yield False
