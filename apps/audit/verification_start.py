"""What a verification of the audit chain returns, how a VerificationRun records it, and where a
walk over the chain starts.

A walk (`apps.audit.verification`) starts from the genesis, from the end of an earlier
verification or from the latest checkpoint; a stored starting point is re-checked first (its
event re-hashed; the checkpoint's root, signature and inclusion proof), so the walk trusts
nothing it has not proven.
"""

import json
from dataclasses import asdict, dataclass, field

from django.utils.translation import gettext as _

from . import canonical, merkle, signing
from .models import ENVELOPE_FIELDS, GENESIS_HASH, AuditEvent, Checkpoint, VerificationRun
from .selectors import AuditTreeIncomplete, audit_frontier, audit_head, audit_inclusion_proof, audit_root_hash
from .verification_checkpoints import checkpoint_problem


@dataclass
class ChainVerification:
    ok: bool
    events_checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    reason: str = ""
    redacted: int = 0
    checkpoints_checked: int = 0
    frontier: list[str] = field(default_factory=list, repr=False)
    segments: int = field(default=1, repr=False)  # the chain was walked in this many segments
    processes: int = field(default=1, repr=False)  # by this many processes at once

    def as_dict(self) -> dict:
        summary = asdict(self)
        del summary["frontier"], summary["segments"], summary["processes"]
        return summary


# What a VerificationRun records of a ChainVerification, under the same names (and the frontier, as JSON).
RUN_FIELDS = (
    "ok",
    "events_checked",
    "checkpoints_checked",
    "redacted",
    "head_seq",
    "head_hash",
    "first_bad_seq",
    "reason",
)


def verification_run_fields(verification: ChainVerification) -> dict:
    """The columns of the VerificationRun that records `verification`."""
    return {name: getattr(verification, name) for name in RUN_FIELDS} | {"frontier": json.dumps(verification.frontier)}


def verification_of_run(run: VerificationRun) -> ChainVerification:
    return ChainVerification(**{name: getattr(run, name) for name in RUN_FIELDS}, frontier=json.loads(run.frontier))


@dataclass
class WalkStart:
    """Where a walk starts: after event `seq`, whose hash is `hash`, with the Merkle frontier of the
    first `seq` leaves and the checkpoints already checked up to there."""

    seq: int = 0
    hash: str = GENESIS_HASH
    frontier: list[str] = field(default_factory=list)
    checkpoints_checked: int = 0


def start_after_verification(run: VerificationRun) -> "WalkStart | ChainVerification":
    if run.head_seq:
        problem = _event_problem(run.head_seq, run.head_hash)
        if problem:
            return _failed_start(run.head_seq, problem)
    return WalkStart(seq=run.head_seq, hash=run.head_hash, frontier=json.loads(run.frontier))


def start_at_latest_checkpoint() -> "WalkStart | ChainVerification":
    latest = (
        Checkpoint.objects.order_by("-tree_size")
        .values_list("tree_size", "root_hash", "timestamp", "signature", "public_key")
        .first()
    )
    if latest is None:
        return WalkStart()
    tree_size, root_hash = latest[0], latest[1]
    try:
        root = bytes.fromhex(audit_root_hash(tree_size=tree_size))
        _root_matches, problem = checkpoint_problem(latest, root, signing.trusted_public_keys())
    except AuditTreeIncomplete as error:
        problem = str(error.message)
    if problem:
        return _failed_start(tree_size, problem)
    event_hash = AuditEvent.objects.filter(seq=tree_size).values_list("hash", flat=True).first() or ""
    problem = _event_problem(tree_size, event_hash)
    if not problem:
        try:
            proof = audit_inclusion_proof(seq=tree_size, tree_size=tree_size)
            merkle.verify_inclusion(
                leaf_index=tree_size - 1,
                tree_size=tree_size,
                leaf=merkle.leaf_hash(bytes.fromhex(event_hash)),
                audit_path=[bytes.fromhex(node) for node in proof["audit_path"]],
                root=bytes.fromhex(root_hash),
            )
        except (merkle.ProofError, AuditTreeIncomplete):
            problem = _("event %(seq)s is not in the checkpoint's tree") % {"seq": tree_size}
    if problem:
        return _failed_start(tree_size, problem)
    return WalkStart(
        seq=tree_size, hash=event_hash, frontier=audit_frontier(tree_size=tree_size), checkpoints_checked=1
    )


def _event_problem(seq: int, expected_hash: str) -> str:
    """Re-hash one event (the starting point of an incremental verification)."""
    keys = ("schema_version", *ENVELOPE_FIELDS)
    row = AuditEvent.objects.filter(seq=seq).values_list(*keys, "hash").first()
    if row is None:
        return _("event %(seq)s is missing") % {"seq": seq}
    *envelope, stored_hash = row
    values = dict(zip(keys, envelope, strict=True))
    values["timestamp"] = canonical.format_timestamp(values["timestamp"])
    if canonical.event_hash(**values) != stored_hash or stored_hash != expected_hash:
        return _("event %(seq)s: its hash does not match its contents") % {"seq": seq}
    return ""


def _failed_start(seq: int, reason: str) -> ChainVerification:
    head = audit_head()
    return ChainVerification(
        ok=False, events_checked=0, head_seq=head.seq, head_hash=head.hash, first_bad_seq=seq, reason=reason
    )
