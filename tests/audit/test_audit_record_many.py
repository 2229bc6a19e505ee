"""audit_record_many: a batch of events, each what audit_record appends, under one lock of the head."""

import hashlib
import itertools

import pytest
from django.contrib.auth.models import User

from apps.audit import merkle
from apps.audit.models import AuditEvent, AuditEventData
from apps.audit.selectors import audit_head, audit_inclusion_proof
from apps.audit.services import audit_checkpoint_create, audit_record, audit_record_many
from apps.audit.verification import audit_verify

pytestmark = pytest.mark.django_db


def escalations(count: int, start: int = 0) -> list[dict]:
    return [
        {
            "action": "proposal.escalated",
            "object_type": "proposals.proposal",
            "object_id": str(number),
            "data": {"from_queue": "finance", "to_queue": "finance-senior", "level": 1},
        }
        for number in range(start, start + count)
    ]


def test_a_batch_continues_the_chain_in_order_and_verifies_with_its_checkpoint():
    # given events appended one by one before and after
    audit_record(action="policy.changed", data={"version": 1})

    # when a batch of 9 is appended in between
    appended = audit_record_many(events=escalations(9))
    audit_record(action="policy.changed", data={"version": 2})

    # then the chain is gapless, linked, and in the batch's order
    stored = list(AuditEvent.objects.order_by("seq").values_list("seq", "action", "object_id", "prev_hash", "hash"))
    assert appended == 9
    assert [seq for seq, *_rest in stored] == list(range(1, 12))
    assert [object_id for _seq, action, object_id, *_rest in stored if action == "proposal.escalated"] == [
        str(number) for number in range(9)
    ]
    for (*_before, previous_hash), (*_after, prev_hash, _hash) in itertools.pairwise(stored):
        assert prev_hash == previous_hash
    assert audit_head().hash == stored[-1][-1]
    # and the chain, its Merkle tree and a checkpoint over it verify
    checkpoint = audit_checkpoint_create()
    verification = audit_verify()
    assert verification.ok and verification.events_checked == 11 and verification.checkpoints_checked == 1
    proof = audit_inclusion_proof(seq=5, tree_size=checkpoint.tree_size)
    merkle.verify_inclusion(
        leaf_index=4,
        tree_size=checkpoint.tree_size,
        leaf=merkle.leaf_hash(bytes.fromhex(stored[4][-1])),
        audit_path=[bytes.fromhex(node) for node in proof["audit_path"]],
        root=bytes.fromhex(checkpoint.root_hash),
    )


def test_each_event_of_a_batch_is_what_audit_record_would_append():
    # given
    user = User.objects.create(username="carol")

    # when
    audit_record_many(
        events=[
            {"action": "role.granted", "actor": user, "obj": user, "data": {"role": "reviewer"}},
            {"action": "sla.swept"},
        ]
    )

    # then actor, object, salted data hash as audit_record records them
    granted, swept = AuditEvent.objects.order_by("seq")
    assert (granted.actor_type, granted.actor_id, granted.object_type, granted.object_id) == (
        "user",
        str(user.pk),
        "auth.user",
        str(user.pk),
    )
    assert (swept.actor_type, swept.actor_id, swept.object_type, swept.object_id) == ("system", "system", "", "")
    data = AuditEventData.objects.get(event=granted)
    assert data.canonical_data == '{"role":"reviewer"}'
    assert granted.data_hash == hashlib.sha256(bytes.fromhex(data.salt) + data.canonical_data.encode()).hexdigest()
    assert granted.data_hash != swept.data_hash


def test_one_bad_event_refuses_the_whole_batch_before_anything_is_written():
    # given
    audit_record(action="kept")
    batch = [*escalations(3), {"action": "x" * 101}]

    # when / then
    with pytest.raises(ValueError):
        audit_record_many(events=batch)
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["kept"]
    assert audit_head().seq == 1


def test_an_empty_batch_appends_nothing():
    assert audit_record_many(events=[]) == 0
    assert not AuditEvent.objects.exists()
