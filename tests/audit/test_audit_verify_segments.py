"""A long chain is verified in segments, one process each, and tells exactly what one pass tells."""

import pytest
from django.db import connection

from apps.audit.models import MerkleNode
from apps.audit.services import audit_checkpoint_create, audit_redact
from apps.audit.verification import audit_verify


@pytest.fixture
def three_segments(settings):
    settings.AUDIT_VERIFY_PROCESSES, settings.AUDIT_VERIFY_MIN_SEGMENT = 3, 5


def chain_with_checkpoints_and_a_late_redaction(record_events) -> None:
    """25 events, checkpoints inside every segment, and event 2's data erased by event 26."""
    for count in (7, 5, 8, 5):
        record_events(count)
        audit_checkpoint_create()
    audit_redact(seq=2, reason="Erasure request ER-1")


def one_pass(settings):
    settings.AUDIT_VERIFY_PROCESSES = 1
    verification = audit_verify()
    assert verification.segments == 1
    return verification


@pytest.mark.django_db
def test_segments_tell_what_one_pass_tells_including_a_redaction_explained_in_a_later_segment(
    record_events, three_segments, settings
):
    # given: the erasure of event 2 (first segment) is recorded by event 26 (last segment)
    chain_with_checkpoints_and_a_late_redaction(record_events)
    # when
    in_segments = audit_verify()
    # then
    assert in_segments.segments == 3  # the walk in segments held: no fallback to one pass
    assert in_segments.processes == 1  # the test's transaction is not visible to other processes
    assert in_segments.ok, in_segments.reason
    assert (in_segments.redacted, in_segments.checkpoints_checked, in_segments.events_checked) == (1, 4, 26)
    expected = one_pass(settings)
    assert in_segments.as_dict() == expected.as_dict()
    assert in_segments.frontier == expected.frontier


@pytest.mark.django_db
def test_a_short_chain_is_walked_in_one_pass(record_events, three_segments):
    # given: fewer than two segments' worth of events
    record_events(9)
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.segments) == (True, 1)


@pytest.mark.django_db
def test_a_stored_frontier_the_previous_segment_does_not_reach_is_not_trusted(
    record_events, three_segments, tamper, settings
):
    # given: the stored Merkle nodes a later segment would start from no longer match the events
    record_events(30)
    audit_checkpoint_create()
    tamper("UPDATE audit_merkle_node SET hash = %s", params=["ff" * 32])
    assert MerkleNode.objects.exists()
    # when
    verification = audit_verify()
    # then: the join refused the segments and one pass decided, as it would have alone
    assert verification.segments == 1
    assert verification.as_dict() == one_pass(settings).as_dict()


@pytest.mark.django_db
@pytest.mark.parametrize("seq", [3, 14, 27])
def test_tampering_in_any_segment_is_named_by_seq(record_events, three_segments, tamper, seq):
    # given
    record_events(30)
    audit_checkpoint_create()
    tamper("UPDATE audit_event_data SET canonical_data = %s WHERE seq = %s", params=['{"amount":"1.00"}', seq])
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.first_bad_seq) == (False, seq)
    assert "data_hash" in verification.reason


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor == "sqlite" and connection.is_in_memory_db(),
    reason="an in-memory test database is private to its process (the test settings use a file)",
)
def test_segments_run_in_forked_processes_reading_the_same_snapshot(record_events, three_segments, tamper, settings):
    # given: committed events (PostgreSQL exports the snapshot; a SQLite file needs none)
    for count in (7, 5, 8, 10):
        record_events(count)
        audit_checkpoint_create()
    # when
    verification = audit_verify()
    # then
    assert (verification.ok, verification.segments, verification.processes) == (True, 3, 3)
    assert verification.events_checked == 30
    assert verification.as_dict() == one_pass(settings).as_dict()
    # and when an event of the last segment is changed
    settings.AUDIT_VERIFY_PROCESSES = 3
    tamper("UPDATE audit_event SET actor_id = 'mallory' WHERE seq = 22")
    verification = audit_verify()
    assert (verification.ok, verification.first_bad_seq) == (False, 22)
