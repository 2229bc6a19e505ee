"""Checkpoints and RFC 9162 proofs over the API."""

import pytest
from rest_framework.test import APIClient

from apps.audit import merkle
from apps.audit.models import AuditEvent
from apps.audit.services import audit_checkpoint_create

pytestmark = pytest.mark.django_db


def as_principal(principal):
    client = APIClient()
    client.force_authenticate(user=principal)
    return client


def hexes(values):
    return [bytes.fromhex(value) for value in values]


def test_inclusion_proof_ties_an_event_to_the_latest_checkpoint(record_events, compliance_officer):
    # given
    record_events(20)
    checkpoint = audit_checkpoint_create()
    event = AuditEvent.objects.get(seq=7)
    # when
    response = as_principal(compliance_officer).get("/api/v1/audit/events/7/proof/")
    # then
    assert response.status_code == 200
    proof = response.json()
    assert set(proof) == {"leaf_index", "tree_size", "root_hash", "audit_path"}
    assert (proof["leaf_index"], proof["tree_size"], proof["root_hash"]) == (
        6,
        checkpoint.tree_size,
        checkpoint.root_hash,
    )
    merkle.verify_inclusion(
        leaf_index=6,
        tree_size=proof["tree_size"],
        leaf=merkle.leaf_hash(bytes.fromhex(event.hash)),
        audit_path=hexes(proof["audit_path"]),
        root=bytes.fromhex(checkpoint.root_hash),
    )


def test_inclusion_proof_for_an_older_tree_size_verifies_against_that_checkpoint(record_events, compliance_officer):
    # given
    record_events(9)
    old = audit_checkpoint_create()
    record_events(14)
    audit_checkpoint_create()
    # when
    proof = as_principal(compliance_officer).get(f"/api/v1/audit/events/3/proof/?tree_size={old.tree_size}").json()
    # then
    assert proof["root_hash"] == old.root_hash
    merkle.verify_inclusion(
        leaf_index=2,
        tree_size=old.tree_size,
        leaf=merkle.leaf_hash(bytes.fromhex(AuditEvent.objects.get(seq=3).hash)),
        audit_path=hexes(proof["audit_path"]),
        root=bytes.fromhex(old.root_hash),
    )


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/v1/audit/events/99/proof/", 404),
        ("/api/v1/audit/events/5/proof/?tree_size=4", 400),
        ("/api/v1/audit/events/5/proof/?tree_size=99", 400),
        ("/api/v1/audit/events/5/proof/?tree_size=x", 400),
        ("/api/v1/audit/checkpoints/consistency/?first=0&second=3", 400),
        ("/api/v1/audit/checkpoints/consistency/?first=5&second=3", 400),
        ("/api/v1/audit/checkpoints/consistency/?first=2&second=99", 400),
        ("/api/v1/audit/checkpoints/consistency/?first=2", 400),
    ],
)
def test_impossible_proofs_are_refused(record_events, compliance_officer, path, status):
    # given
    record_events(10)
    # when / then
    assert as_principal(compliance_officer).get(path).status_code == status


def test_consistency_proof_links_two_checkpoints(record_events, compliance_officer):
    # given
    record_events(6)
    first = audit_checkpoint_create()
    record_events(13)
    second = audit_checkpoint_create()
    # when
    response = as_principal(compliance_officer).get(
        f"/api/v1/audit/checkpoints/consistency/?first={first.tree_size}&second={second.tree_size}"
    )
    # then
    assert response.status_code == 200
    proof = response.json()
    assert (proof["first_root_hash"], proof["second_root_hash"]) == (first.root_hash, second.root_hash)
    merkle.verify_consistency(
        first=first.tree_size,
        second=second.tree_size,
        first_root=bytes.fromhex(first.root_hash),
        second_root=bytes.fromhex(second.root_hash),
        proof=hexes(proof["consistency_path"]),
    )


def test_compliance_officer_lists_all_checkpoints(record_events, compliance_officer):
    # given
    record_events(2)
    audit_checkpoint_create()
    record_events(2)
    audit_checkpoint_create()
    # when
    response = as_principal(compliance_officer).get("/api/v1/audit/checkpoints/")
    # then
    assert response.status_code == 200
    sizes = [checkpoint["tree_size"] for checkpoint in response.json()]
    assert len(sizes) == 2 and sizes == sorted(sizes)
    assert set(response.json()[0]) == {"tree_size", "root_hash", "timestamp", "signature", "public_key"}
