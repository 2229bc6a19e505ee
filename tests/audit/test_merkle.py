"""RFC 9162 tree: transparency-dev/merkle vectors and random trees against a naive reference."""

import base64
import hashlib
import json
import random
from pathlib import Path

import pytest
from django.conf import settings

from apps.audit import merkle

VECTORS = Path(settings.BASE_DIR).parent / "shared" / "testdata" / "merkle"
needs_vectors = pytest.mark.skipif(
    not VECTORS.is_dir(), reason=f"transparency-dev/merkle vectors not found at {VECTORS} (shared/testdata is absent)"
)
# The leaves transparency-dev/merkle builds its trees of sizes 1..8 from (hex).
VECTOR_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]


def vector_cases(kind: str):
    if not VECTORS.is_dir():
        return []
    return sorted(VECTORS.joinpath(kind).rglob("*.json"))


def b64(value):
    return base64.b64decode(value or "")


# --- a naive reference, straight from RFC 9162 2.1 ----------------------------------------


def reference_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + reference_root(leaves[:k]) + reference_root(leaves[k:])).digest()


def reference_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) <= 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if m < k:
        return [*reference_path(m, leaves[:k]), reference_root(leaves[k:])]
    return [*reference_path(m - k, leaves[k:]), reference_root(leaves[:k])]


def reference_subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [reference_root(leaves)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return [*reference_subproof(m, leaves[:k], whole), reference_root(leaves[k:])]
    return [*reference_subproof(m - k, leaves[k:], False), reference_root(leaves[:k])]


def tree_of(leaves: list[bytes]):
    """Build frontier and stored nodes by appending, as audit_record does."""
    frontier, nodes = [], {}
    for index, entry in enumerate(leaves):
        leaf = merkle.leaf_hash(entry)
        nodes[(0, index)] = leaf
        for level, node_index, node in merkle.frontier_append(frontier, index, leaf):
            nodes[(level, node_index)] = node
    return frontier, nodes


def reader(nodes):
    return lambda wanted: {node: nodes[node] for node in wanted}


# --- vectors ---------------------------------------------------------------------------------


@needs_vectors
@pytest.mark.parametrize("case", vector_cases("inclusion"), ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_inclusion_vector(case):
    # given
    vector = json.loads(case.read_text())
    # when
    try:
        merkle.verify_inclusion(
            leaf_index=vector["leafIdx"],
            tree_size=vector["treeSize"],
            leaf=b64(vector["leafHash"]),
            audit_path=[b64(node) for node in vector["proof"] or []],
            root=b64(vector["root"]),
        )
        failed = False
    except merkle.ProofError:
        failed = True
    # then
    assert failed == vector["wantErr"], vector["desc"]


@needs_vectors
@pytest.mark.parametrize("case", vector_cases("consistency"), ids=lambda path: f"{path.parent.name}/{path.stem}")
def test_consistency_vector(case):
    # given
    vector = json.loads(case.read_text())
    # when
    try:
        merkle.verify_consistency(
            first=vector["size1"],
            second=vector["size2"],
            first_root=b64(vector["root1"]),
            second_root=b64(vector["root2"]),
            proof=[b64(node) for node in vector["proof"] or []],
        )
        failed = False
    except merkle.ProofError:
        failed = True
    # then
    assert failed == vector["wantErr"], vector["desc"]


@needs_vectors
@pytest.mark.parametrize("kind", ["inclusion", "consistency"])
def test_generated_proofs_equal_the_happy_path_vectors(kind):
    # given: the vectors' own tree
    leaves = [bytes.fromhex(leaf) for leaf in VECTOR_LEAVES]
    _, nodes = tree_of(leaves)
    for case in VECTORS.joinpath(kind).glob("*/happy-path.json"):
        vector = json.loads(case.read_text())
        # when
        if kind == "inclusion":
            ranges = merkle.inclusion_ranges(vector["leafIdx"], vector["treeSize"])
            size = vector["treeSize"]
        else:
            if vector["size1"] == 0:
                continue
            ranges = merkle.consistency_ranges(vector["size1"], vector["size2"])
            size = vector["size2"]
        *proof, root = merkle.range_hashes([*ranges, (0, size)], reader(nodes))
        # then
        assert [base64.b64encode(node).decode() for node in proof] == (vector["proof"] or []), case
        assert base64.b64encode(root).decode() == vector.get("root", vector.get("root2"))


# --- random trees against the reference --------------------------------------------------------


def test_roots_and_frontiers_match_the_reference_for_every_size_up_to_70():
    # given
    leaves = [random.Random(size).randbytes(32) for size in range(70)]
    frontier = []
    for size in range(1, 71):
        # when
        merkle.frontier_append(frontier, size - 1, merkle.leaf_hash(leaves[size - 1]))
        # then
        assert merkle.frontier_root(frontier) == reference_root(leaves[:size])
        assert len(frontier) == len(merkle.frontier_nodes(size)) == bin(size).count("1")
    assert merkle.frontier_root([]) == reference_root([]) == merkle.EMPTY_ROOT


@pytest.mark.parametrize("seed", range(25))
def test_random_inclusion_proofs_match_the_reference_and_verify(seed):
    # given
    rng = random.Random(seed)
    leaves = [rng.randbytes(32) for _ in range(rng.randint(1, 300))]
    _, nodes = tree_of(leaves)
    size = rng.randint(1, len(leaves))
    index = rng.randrange(size)
    # when
    *path, root = merkle.range_hashes([*merkle.inclusion_ranges(index, size), (0, size)], reader(nodes))
    # then
    assert path == reference_path(index, leaves[:size])
    assert root == reference_root(leaves[:size])
    merkle.verify_inclusion(
        leaf_index=index, tree_size=size, leaf=merkle.leaf_hash(leaves[index]), audit_path=path, root=root
    )
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(
            leaf_index=index, tree_size=size, leaf=merkle.leaf_hash(b"forged"), audit_path=path, root=root
        )


@pytest.mark.parametrize("seed", range(25))
def test_random_consistency_proofs_match_the_reference_and_verify(seed):
    # given
    rng = random.Random(1000 + seed)
    leaves = [rng.randbytes(32) for _ in range(rng.randint(1, 300))]
    _, nodes = tree_of(leaves)
    second = rng.randint(1, len(leaves))
    first = rng.randint(1, second)
    # when
    *proof, first_root, second_root = merkle.range_hashes(
        [*merkle.consistency_ranges(first, second), (0, first), (0, second)], reader(nodes)
    )
    # then
    assert proof == reference_subproof(first, leaves[:second], True)
    merkle.verify_consistency(first=first, second=second, first_root=first_root, second_root=second_root, proof=proof)
    if first < second:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(
                first=first,
                second=second,
                first_root=reference_root(leaves[1 : first + 1]),
                second_root=second_root,
                proof=proof,
            )


def test_a_proof_reads_o_log_n_nodes():
    # given
    size = 1_000_003
    # when
    wanted = {
        node
        for start, end in [*merkle.inclusion_ranges(size // 3, size), (0, size)]
        for node in merkle.perfect_subtrees(start, end)
    }
    # then
    assert len(wanted) <= 2 * size.bit_length()
