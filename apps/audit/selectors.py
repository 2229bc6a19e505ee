"""Reads of the audit trail: the head, events, checkpoints and Merkle proofs (verification: verification.py)."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hitlplatform.errors import DomainError, InvalidInput, NotFound

from . import merkle
from .models import (
    GENESIS_HASH,
    AuditEvent,
    ChainHead,
    Checkpoint,
    MerkleNode,
)


class AuditTreeIncomplete(DomainError):
    """A Merkle node or event a proof needs is not stored: the tree tables were tampered with."""

    status_code = 500
    code = "audit_tree_incomplete"


def audit_head() -> ChainHead:
    """The chain head as committed (seq 0 and the genesis hash for an empty chain)."""
    return ChainHead.objects.filter(pk=1).first() or ChainHead(pk=1, seq=0, hash=GENESIS_HASH, frontier="[]")


def audit_events(*, after: int = 0) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(seq__gt=after).select_related("data_record").order_by("seq")


def audit_event(*, seq: int) -> AuditEvent:
    event = audit_events(after=seq - 1).filter(seq=seq).first()
    if event is None:
        raise NotFound(_("No audit event %(seq)s.") % {"seq": seq})
    return event


def audit_checkpoint_latest() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-tree_size").first()


def audit_checkpoints() -> QuerySet[Checkpoint]:
    return Checkpoint.objects.order_by("tree_size")


def audit_inclusion_proof(*, seq: int, tree_size: int | None = None) -> dict:
    """RFC 9162 inclusion proof of event `seq` in the tree of `tree_size` leaves.

    Without a tree size, the tree of the latest checkpoint that holds the event, else the head.
    """
    head_seq = audit_head().seq
    if not 1 <= seq <= head_seq:
        raise NotFound(_("No audit event %(seq)s.") % {"seq": seq})
    if tree_size is None:
        latest = audit_checkpoint_latest()
        tree_size = latest.tree_size if latest and latest.tree_size >= seq else head_seq
    if not seq <= tree_size <= head_seq:
        raise InvalidInput(
            fields={
                "tree_size": [
                    _("The tree size must lie between %(low)s and %(high)s.") % {"low": seq, "high": head_seq}
                ]
            }
        )
    *path, root = merkle.range_hashes([*merkle.inclusion_ranges(seq - 1, tree_size), (0, tree_size)], _read_nodes)
    return {
        "leaf_index": seq - 1,
        "tree_size": tree_size,
        "root_hash": root.hex(),
        "audit_path": [node.hex() for node in path],
    }


def audit_consistency_proof(*, first: int, second: int) -> dict:
    """RFC 9162 2.1.4 consistency proof that the tree of `second` leaves extends that of `first`."""
    head_seq = audit_head().seq
    if not 0 < first <= second <= head_seq:
        raise InvalidInput(
            fields={"second": [_("Tree sizes must satisfy 0 < first <= second <= %(head)s.") % {"head": head_seq}]}
        )
    *path, first_root, second_root = merkle.range_hashes(
        [*merkle.consistency_ranges(first, second), (0, first), (0, second)], _read_nodes
    )
    return {
        "first": first,
        "second": second,
        "first_root_hash": first_root.hex(),
        "second_root_hash": second_root.hex(),
        "consistency_path": [node.hex() for node in path],
    }


def audit_frontier(*, tree_size: int) -> list[str]:
    """The compact range of the first `tree_size` events: perfect-subtree roots, largest first."""
    nodes = merkle.frontier_nodes(tree_size)
    stored = _read_nodes(set(nodes))
    return [stored[node].hex() for node in nodes]


def audit_root_hash(*, tree_size: int) -> str:
    """MTH of the first `tree_size` events, from O(log n) stored nodes."""
    (root,) = merkle.range_hashes([(0, tree_size)], _read_nodes)
    return root.hex()


# --- Merkle nodes --------------------------------------------------------------------------


def _read_nodes(nodes: set[merkle.Node]) -> dict[merkle.Node, bytes]:
    """Hashes of perfect subtrees: leaves from their events, larger ones from MerkleNode rows."""
    found: dict[merkle.Node, bytes] = {}
    leaves = [index + 1 for level, index in nodes if level == 0]
    inner = [node for node in nodes if node[0] > 0]
    if leaves:
        for seq, event_hash in AuditEvent.objects.filter(seq__in=leaves).values_list("seq", "hash"):
            found[(0, seq - 1)] = merkle.leaf_hash(bytes.fromhex(event_hash))
    if inner:
        for level, index, node_hash in MerkleNode.objects.filter(pk__in=inner).values_list("level", "index", "hash"):
            found[(level, index)] = bytes.fromhex(node_hash)
    missing = nodes - found.keys()
    if missing:
        raise AuditTreeIncomplete(_("the stored Merkle tree lacks nodes %(nodes)s") % {"nodes": sorted(missing)[:5]})
    return found
