import pytest

from apps.audit.models import AuditEvent
from apps.audit.verification import audit_verify

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("either_walk")]


def test_empty_chain_verifies():
    # when
    verification = audit_verify()
    # then
    assert verification.ok
    assert (verification.events_checked, verification.head_seq, verification.first_bad_seq) == (0, 0, None)


def test_intact_chain_verifies_in_small_chunks(record_events):
    # given
    events = record_events(25)
    # when
    verification = audit_verify(chunk_size=4)
    # then
    assert verification.ok, verification.reason
    assert verification.events_checked == 25
    assert (verification.head_seq, verification.head_hash) == (25, events[-1].hash)
    assert verification.redacted == 0


def test_changed_data_is_named_by_seq(record_events, tamper):
    # given
    record_events(10)
    tamper("UPDATE audit_event_data SET canonical_data = %s WHERE seq = 4", params=['{"amount":"5.00"}'])
    # when
    verification = audit_verify()
    # then
    assert not verification.ok
    assert verification.first_bad_seq == 4
    assert "data_hash" in verification.reason


def test_changed_envelope_field_is_named_by_seq(record_events, tamper):
    # given
    record_events(10)
    tamper("UPDATE audit_event SET action = 'proposal.approved' WHERE seq = 6")
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 6)
    assert "hash" in verification.reason


def test_rewritten_event_with_recomputed_hash_breaks_the_next_link(record_events, tamper):
    # given
    record_events(10)
    tamper("UPDATE audit_event SET hash = %s WHERE seq = 3", params=["ab" * 32])
    # when
    verification = audit_verify()
    # then
    assert not verification.ok
    assert verification.first_bad_seq == 3


def test_deleted_event_is_named_by_seq(record_events, tamper):
    # given
    record_events(10)
    tamper("DELETE FROM audit_event_data WHERE seq = 5", "DELETE FROM audit_event WHERE seq = 5")
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 5)
    assert "missing" in verification.reason


def test_reordered_events_are_named_by_seq(record_events, tamper):
    # given
    record_events(10)
    tamper(
        "UPDATE audit_event_data SET seq = -7 WHERE seq = 7",
        "UPDATE audit_event SET seq = -7 WHERE seq = 7",
        "UPDATE audit_event_data SET seq = 7 WHERE seq = 8",
        "UPDATE audit_event SET seq = 7 WHERE seq = 8",
        "UPDATE audit_event_data SET seq = 8 WHERE seq = -7",
        "UPDATE audit_event SET seq = 8 WHERE seq = -7",
    )
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 7)


def test_truncated_chain_is_named_by_the_first_missing_seq(record_events, tamper):
    # given
    record_events(10)
    tamper("DELETE FROM audit_event_data WHERE seq > 7", "DELETE FROM audit_event WHERE seq > 7")
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 8)
    assert "truncated" in verification.reason


def test_data_deleted_without_redaction_is_named_by_seq(record_events, tamper):
    # given
    record_events(10)
    tamper("DELETE FROM audit_event_data WHERE seq = 2")
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 2)
    assert "redaction" in verification.reason


def test_event_appended_behind_the_heads_back_is_found(record_events):
    # given
    events = record_events(3)
    forged = AuditEvent.objects.get(seq=3)
    forged.seq, forged.prev_hash = 4, events[-1].hash
    AuditEvent.objects.bulk_create([forged])
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, 4)
