"""Events written today still verify after upgrades: a committed chain with known hashes."""

import hashlib

import pytest
import rfc8785

from apps.audit import merkle
from apps.audit.selectors import audit_inclusion_proof
from apps.audit.services import audit_record
from apps.audit.verification import audit_verify
from tests.audit import known_chain

pytestmark = pytest.mark.django_db


def test_the_committed_chain_verifies_with_the_verification_code_path():
    # given
    chain = known_chain.load()
    # when
    verification = audit_verify()
    # then
    assert verification.ok, verification.reason
    assert verification.events_checked == len(chain["events"]) == 11
    assert verification.head_hash == chain["head"]["hash"]
    assert verification.redacted == 1
    assert verification.checkpoints_checked == len(chain["checkpoints"]) == 3


def test_the_committed_hashes_are_sha256_of_rfc8785_envelopes():
    # given
    chain = known_chain.load()
    for event in chain["events"]:
        # the hash covers every column of the event but itself; its data only through data_hash
        envelope = {key: value for key, value in event.items() if key not in ("hash", "salt", "canonical_data")}
        # then
        assert hashlib.sha256(rfc8785.dumps(envelope)).hexdigest() == event["hash"]
        if event["canonical_data"] is not None:
            assert (
                event["data_hash"]
                == hashlib.sha256(bytes.fromhex(event["salt"]) + event["canonical_data"].encode()).hexdigest()
            )


def test_the_committed_checkpoints_prove_inclusion_of_every_event():
    # given
    chain = known_chain.load()
    last = chain["checkpoints"][-1]
    for event in chain["events"]:
        # when
        proof = audit_inclusion_proof(seq=event["seq"], tree_size=last["tree_size"])
        # then
        assert proof["root_hash"] == last["root_hash"]
        merkle.verify_inclusion(
            leaf_index=event["seq"] - 1,
            tree_size=last["tree_size"],
            leaf=merkle.leaf_hash(bytes.fromhex(event["hash"])),
            audit_path=[bytes.fromhex(node) for node in proof["audit_path"]],
            root=bytes.fromhex(last["root_hash"]),
        )


def test_new_events_extend_the_committed_chain():
    # given
    chain = known_chain.load()
    # when
    event = audit_record(action="after.upgrade", data={"ok": True})
    # then
    assert (event.seq, event.prev_hash) == (12, chain["head"]["hash"])
    assert audit_verify().ok


def test_a_changed_byte_of_committed_data_is_found(tamper):
    # given
    known_chain.load()
    tamper("UPDATE audit_event_data SET canonical_data = replace(canonical_data, '0.1', '0.10') WHERE seq = 5")
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 5)
