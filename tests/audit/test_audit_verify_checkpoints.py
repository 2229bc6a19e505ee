"""verify_audit checks every checkpoint (so truncation fails), and verifies incrementally."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from apps.audit.models import Checkpoint, VerificationRun
from apps.audit.services import audit_checkpoint_create, audit_record, audit_verification_record
from apps.audit.tasks import verify_full
from apps.audit.verification import audit_verification_status, audit_verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("either_walk")]


def test_every_checkpoint_is_checked(record_events):
    # given
    for _ in range(3):
        record_events(5)
        audit_checkpoint_create()
    # when
    verification = audit_verify()
    # then
    assert verification.ok and verification.checkpoints_checked == 3


def test_truncation_with_the_head_rewound_is_caught_by_a_checkpoint(record_events, tamper):
    # given
    events = record_events(10)
    audit_checkpoint_create()
    tamper(
        "DELETE FROM audit_merkle_node",
        "DELETE FROM audit_event_data WHERE seq > 6",
        "DELETE FROM audit_event WHERE seq > 6",
        "UPDATE audit_chain_head SET seq = 6, hash = %s",
        params=[events[5].hash],
    )
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 7)
    assert "checkpoint" in verification.reason and "truncated" in verification.reason


def test_a_forged_checkpoint_signature_is_named(record_events, tamper):
    # given
    record_events(4)
    checkpoint = audit_checkpoint_create()
    tamper("UPDATE audit_checkpoint SET signature = %s", params=["00" * 64])
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, checkpoint.tree_size)
    assert "signature" in verification.reason


def test_a_checkpoint_by_an_unknown_key_is_refused(record_events, settings):
    # given
    record_events(4)
    audit_checkpoint_create()
    settings.AUDIT_SIGNING_KEY = "11" * 32
    # when
    verification = audit_verify()
    # then
    assert not verification.ok and "unknown key" in verification.reason
    settings.AUDIT_RETIRED_PUBLIC_KEYS = [Checkpoint.objects.get().public_key]
    assert audit_verify().ok


def test_a_rewritten_suffix_with_relinked_hashes_is_caught_by_the_checkpoint(record_events, tamper):
    # given: events 6..8 re-hashed consistently, as an attacker with write access would
    record_events(8)
    audit_checkpoint_create()
    checkpoint_size = Checkpoint.objects.get().tree_size
    from apps.audit import canonical
    from apps.audit.models import AuditEvent

    prev_hash = AuditEvent.objects.get(seq=checkpoint_size - 3).hash
    statements = []
    for event in AuditEvent.objects.filter(seq__gte=checkpoint_size - 2).order_by("seq"):
        new_hash = canonical.event_hash(
            schema_version=1,
            seq=event.seq,
            timestamp=canonical.format_timestamp(event.timestamp),
            actor_type=event.actor_type,
            actor_id="mallory",
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            data_hash=event.data_hash,
            prev_hash=prev_hash,
        )
        statements.append(
            f"UPDATE audit_event SET actor_id = 'mallory', prev_hash = '{prev_hash}', hash = '{new_hash}'"
            f" WHERE seq = {event.seq}"
        )
        prev_hash = new_hash
    statements.append(f"UPDATE audit_chain_head SET hash = '{prev_hash}'")
    tamper(*statements)
    # when
    verification = audit_verify()
    # then
    assert not verification.ok
    assert verification.first_bad_seq in (checkpoint_size - 3, checkpoint_size - 2)  # to within one event
    assert "root hash" in verification.reason


def test_since_checkpoint_verifies_only_what_came_after_the_latest_checkpoint(record_events, capsys):
    # given
    record_events(30)
    checkpoint = audit_checkpoint_create()
    record_events(5)
    # when
    verification = audit_verify(since_checkpoint=True)
    call_command("verify_audit", "--since-checkpoint")
    # then
    assert verification.ok, verification.reason
    assert verification.events_checked == 5
    assert verification.head_seq == checkpoint.tree_size + 5
    assert "5 events checked" in capsys.readouterr().out


def test_since_checkpoint_finds_tampering_after_the_checkpoint(record_events, tamper):
    # given
    record_events(12)
    checkpoint = audit_checkpoint_create()
    record_events(3)
    tamper(f"UPDATE audit_event SET action = 'x' WHERE seq = {checkpoint.tree_size + 2}")
    # when / then
    with pytest.raises(CommandError, match=f"seq {checkpoint.tree_size + 2}"):
        call_command("verify_audit", "--since-checkpoint")


def test_since_checkpoint_refuses_a_checkpoint_the_stored_tree_does_not_match(record_events, tamper):
    # given
    record_events(12)
    checkpoint = audit_checkpoint_create()
    tamper("UPDATE audit_merkle_node SET hash = %s WHERE level = 3", params=["cd" * 32])
    # when
    verification = audit_verify(since_checkpoint=True)
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, checkpoint.tree_size)


def test_nightly_task_keeps_a_full_verification():
    # given
    audit_record(action="x.y")
    # when
    verify_full.apply()
    # then
    run = VerificationRun.objects.get()
    assert (run.kind, run.ok, run.events_checked, run.head_seq) == ("full", True, 1, 1)
    assert verify_full.name == "audit.verify_full"


def test_status_catches_tampering_since_the_last_full_run(record_events, tamper):
    # given
    record_events(10)
    audit_verification_record()
    record_events(3)
    tamper("UPDATE audit_event SET object_id = 'x' WHERE seq = 12")
    # when
    verification, _ = audit_verification_status()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 12)


def test_status_repeats_a_failed_full_run(record_events, tamper):
    # given
    record_events(5)
    tamper("UPDATE audit_event SET object_id = 'x' WHERE seq = 2")
    audit_verification_record()
    # when
    verification, _ = audit_verification_status()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 2)
