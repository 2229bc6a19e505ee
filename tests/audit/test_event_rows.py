"""Verification reads the chain as plain rows (apps.audit.event_rows): every stored form checks out."""

from datetime import UTC, datetime

import pytest

from apps.audit import event_rows
from apps.audit.services import audit_record, audit_redact
from apps.audit.verification import audit_verify

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 22, 2, 12, 24, tzinfo=UTC),  # stored without a fraction
        datetime(2026, 11, 22, 2, 12, 24, 120000, tzinfo=UTC),  # PostgreSQL prints ".12"
        datetime(2026, 11, 22, 2, 12, 24, 5, tzinfo=UTC),
    ],
)
def test_events_whose_timestamps_have_trailing_zero_microseconds_verify(monkeypatch, moment):
    # given
    monkeypatch.setattr("apps.audit.chain.timezone.now", lambda: moment)
    audit_record(action="proposal.submitted", data={"n": 1})
    # when
    verification = audit_verify()
    # then
    assert verification.ok, verification.reason
    assert verification.events_checked == 1


def test_envelope_strings_that_need_escaping_verify_and_a_change_to_one_is_found(tamper):
    # given: quotes, backslashes, control characters, astral-plane characters, in envelope and data
    hostile = 'a"b\\c\td\ne\x01f\u2028😀'
    audit_record(action=f"x.{hostile}"[:100], object_type=hostile, object_id=hostile, data={hostile: hostile})
    audit_record(action="after", data={"n": 2})
    assert audit_verify().ok, audit_verify().reason
    # when
    tamper("UPDATE audit_event SET object_id = %s WHERE seq = 1", params=[hostile + " "])
    # then
    verification = audit_verify()
    assert not verification.ok
    assert verification.first_bad_seq == 1
    assert "hash does not match" in verification.reason


def test_rows_come_in_seq_order_after_the_given_seq_with_erased_data_as_none():
    # given
    for number in range(7):
        audit_record(action="proposal.submitted", object_id=str(number), data={"n": number})
    audit_redact(seq=3, reason="erasure request ER-1")
    # when
    rows = [row for chunk in event_rows.event_row_chunks(after=1, chunk_size=3) for row in chunk]
    # then
    assert [row[0] for row in rows] == [2, 3, 4, 5, 6, 7, 8]
    assert rows[1][11:] == (None, None)
    assert rows[0][12] == '{"n":1}'
    assert all(event_rows.hashed_timestamp(row[1]).endswith("Z") for row in rows)


def test_a_stored_timestamp_becomes_the_hashed_text():
    # when / then
    assert event_rows.hashed_timestamp("2026-11-22 02:12:24.123456") == "2026-11-22T02:12:24.123456Z"
    assert event_rows.hashed_timestamp("2026-11-22 02:12:24.12") == "2026-11-22T02:12:24.120000Z"
    assert event_rows.hashed_timestamp("2026-11-22 02:12:24") == "2026-11-22T02:12:24.000000Z"
    assert (
        event_rows.hashed_timestamp(datetime(2026, 11, 22, 2, 12, 24, 5, tzinfo=UTC)) == "2026-11-22T02:12:24.000005Z"
    )
