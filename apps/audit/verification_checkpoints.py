"""The checks of a signed checkpoint against the chain: its root hash and signature, and, when the
root no longer matches, where the chain was rewritten."""

from django.utils.translation import gettext as _

from . import canonical, merkle, signing
from .models import AuditEvent, MerkleNode


def checkpoint_problem(checkpoint: tuple, root: bytes, trusted_keys: set[str]) -> tuple[bool, str]:
    """(whether the root matches, what is wrong or "")."""
    tree_size, root_hash, timestamp, signature, public_key = checkpoint
    if root_hash != root.hex():
        return False, _("the root hash of the checkpoint at tree size %(size)s does not match the chain") % {
            "size": tree_size
        }
    message = canonical.checkpoint_message(
        tree_size=tree_size, root_hash=root_hash, timestamp=canonical.format_timestamp(timestamp)
    )
    if public_key not in trusted_keys:
        return True, _("the checkpoint at tree size %(size)s is signed by an unknown key") % {"size": tree_size}
    if not signing.signature_is_valid(message=message, signature_hex=signature, public_key=public_key):
        return True, _("the signature of the checkpoint at tree size %(size)s is invalid") % {"size": tree_size}
    return True, ""


def first_rewritten_seq(*, after: int, tree_size: int) -> int:
    """Where a chain that no longer matches a checkpoint was rewritten, to within one event.

    The level-1 Merkle nodes were stored when the events were appended; the first pair of
    events whose node differs now holds the first rewritten event.
    """
    first_leaf = after - after % 2
    events = (
        AuditEvent.objects.filter(seq__gt=first_leaf, seq__lte=tree_size)
        .order_by("seq")
        .values_list("seq", "hash")
        .iterator(chunk_size=2000)
    )
    stored_pairs = (
        MerkleNode.objects.filter(level=1, index__gte=first_leaf // 2, index__lt=tree_size // 2)
        .order_by("index")
        .values_list("index", "hash")
        .iterator(chunk_size=2000)
    )
    left = None
    for seq, event_hash in events:
        leaf = merkle.leaf_hash(bytes.fromhex(event_hash))
        if seq % 2:  # leaf index seq - 1 is even: the left half of a pair
            left = (seq, leaf)
            continue
        stored = next(stored_pairs, None)
        if stored != ((seq - 1) // 2, merkle.node_hash(left[1], leaf).hex()):
            return left[0]
        left = None
    return left[0] if left else after + 1
