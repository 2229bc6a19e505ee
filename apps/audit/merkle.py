"""RFC 9162 Merkle tree over the chain: leaf = SHA-256(0x00 || event hash), node = SHA-256(0x01 || l || r).

Pure functions. A tree of n leaves is described by its *frontier* (compact range): the roots of
the perfect subtrees given by the binary digits of n, largest first. Proofs are computed from
perfect-subtree hashes `(level, index)` (2**level leaves starting at index * 2**level), which
the caller reads from storage, so a proof costs O(log n) reads and hashes.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence

_sha256 = hashlib.sha256
HASH_SIZE = 32
EMPTY_ROOT = _sha256(b"").digest()

Range = tuple[int, int]  # leaves [start, end)
Node = tuple[int, int]  # (level, index) of a perfect subtree


class ProofError(ValueError):
    """A proof that does not verify, or a request for a proof that cannot exist."""


def leaf_hash(entry: bytes) -> bytes:
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def frontier_append(frontier: list[bytes], size: int, leaf: bytes) -> list[tuple[int, int, bytes]]:
    """Append the leaf with index `size` to `frontier` (in place).

    Returns the perfect subtrees of level >= 1 completed by this leaf, as (level, index, hash).
    """
    completed = []
    current, level, index = leaf, 0, size
    while index & 1:
        current = node_hash(frontier.pop(), current)
        level += 1
        index >>= 1
        completed.append((level, index, current))
    frontier.append(current)
    return completed


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """MTH of the tree whose frontier this is (RFC 9162 2.1.1)."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


def frontier_nodes(size: int) -> list[Node]:
    """The perfect subtrees that make up the frontier of a tree of `size` leaves, largest first."""
    return perfect_subtrees(0, size)


def perfect_subtrees(start: int, end: int) -> list[Node]:
    """Split [start, end) into aligned perfect subtrees, largest first.

    For the ranges that occur in RFC 9162 proofs (start aligned to a power of two at least
    end - start) their right fold is MTH(D[start:end]).
    """
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start & ((1 << level) - 1):
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def inclusion_ranges(leaf_index: int, tree_size: int) -> list[Range]:
    """The subtrees whose hashes form PATH(m, D[n]) (RFC 9162 2.1.3.1), deepest first."""
    if not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    ranges = []
    low, high = 0, tree_size
    while high - low > 1:
        split = _largest_power_of_two_below(high - low)
        if leaf_index < low + split:
            ranges.append((low + split, high))
            high = low + split
        else:
            ranges.append((low, low + split))
            low += split
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose hashes form PROOF(m, D[n]) (RFC 9162 2.1.4.1), deepest first."""
    if not 0 < first <= second:
        raise ProofError(f"no consistency proof between tree sizes {first} and {second}")
    ranges = []
    low, high, whole_old_tree = 0, second, True
    while True:
        if first == high:
            if not whole_old_tree:
                ranges.append((low, high))
            break
        split = _largest_power_of_two_below(high - low)
        if first - low <= split:
            ranges.append((low + split, high))
            high = low + split
        else:
            ranges.append((low, low + split))
            low += split
            whole_old_tree = False
    ranges.reverse()
    return ranges


def range_hashes(ranges: Iterable[Range], read_nodes: Callable[[set[Node]], dict[Node, bytes]]) -> list[bytes]:
    """Hashes of the given ranges, reading every perfect subtree they need in one call."""
    ranges = list(ranges)
    needed = {node for start, end in ranges for node in perfect_subtrees(start, end)}
    known = read_nodes(needed)
    return [frontier_root([known[node] for node in perfect_subtrees(start, end)]) for start, end in ranges]


def verify_inclusion(*, leaf_index: int, tree_size: int, leaf: bytes, audit_path: Sequence[bytes], root: bytes) -> None:
    """RFC 9162 2.1.3.2; raises ProofError unless `leaf` is at `leaf_index` of the tree `root`."""
    if not 0 <= leaf_index < tree_size:
        raise ProofError(f"leaf index {leaf_index} is outside a tree of size {tree_size}")
    _check_sizes([leaf, root, *audit_path])
    fn, sn, current = leaf_index, tree_size - 1, leaf
    for sibling in audit_path:
        if sn == 0:
            raise ProofError("the audit path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            current = node_hash(sibling, current)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            current = node_hash(current, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the audit path is shorter than the tree is deep")
    if current != root:
        raise ProofError("the audit path does not lead to the root hash")


def verify_consistency(
    *, first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 2.1.4.2; raises ProofError unless tree `second` extends tree `first`."""
    if first > second:
        raise ProofError(f"tree size {first} is larger than {second}")
    if first == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if first == second:
        if proof:
            raise ProofError("equal tree sizes need an empty proof")
        if first_root != second_root:
            raise ProofError("equal tree sizes with different root hashes")
        return
    _check_sizes([first_root, second_root, *proof])
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first_hash = second_hash = path[0]
    for component in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            first_hash = node_hash(component, first_hash)
            second_hash = node_hash(component, second_hash)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            second_hash = node_hash(second_hash, component)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if first_hash != first_root or second_hash != second_root:
        raise ProofError("the consistency proof does not lead to both root hashes")


def _largest_power_of_two_below(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _check_sizes(hashes: Iterable[bytes]) -> None:
    if any(len(value) != HASH_SIZE for value in hashes):
        raise ProofError("a hash is not 32 bytes long")
