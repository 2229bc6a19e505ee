import hashlib
import itertools
import json
import re

import pytest
import rfc8785
from django.contrib.auth.models import User
from django.db import transaction

from apps.audit.models import GENESIS_HASH, AuditEvent, AuditEventData, ChainHead
from apps.audit.selectors import audit_head
from apps.audit.services import audit_record

pytestmark = pytest.mark.django_db


class FakeAgent:
    audit_actor_type = "agent"
    pk = 42


def test_first_event_starts_the_chain_at_seq_1_after_the_genesis_hash():
    # when
    event = audit_record(action="policy.changed", data={"version": 1})
    # then
    assert event.seq == 1
    assert event.prev_hash == GENESIS_HASH == "0" * 64
    assert (audit_head().seq, audit_head().hash) == (1, event.hash)


def test_each_event_links_to_the_previous_one_gaplessly():
    # when
    events = [audit_record(action="proposal.submitted", data={"n": n}) for n in range(5)]
    # then
    stored = list(AuditEvent.objects.order_by("seq").values_list("seq", "prev_hash", "hash"))
    assert [seq for seq, _, _ in stored] == [1, 2, 3, 4, 5]
    for (_, _, previous_hash), (_, prev_hash, _) in itertools.pairwise(stored):
        assert prev_hash == previous_hash
    assert audit_head().hash == events[-1].hash


def test_hash_is_sha256_of_the_rfc8785_envelope_and_data_hash_covers_salt_and_canonical_text():
    # when
    event = audit_record(
        action="decision.recorded",
        object_type="proposals.proposal",
        object_id="7",
        data={"z": 1.5, "a": "é", "list": [3, 1e21]},
    )
    # then
    stored = AuditEventData.objects.get(event=event)
    assert stored.canonical_data == rfc8785.dumps({"z": 1.5, "a": "é", "list": [3, 1e21]}).decode()
    assert event.data_hash == hashlib.sha256(bytes.fromhex(stored.salt) + stored.canonical_data.encode()).hexdigest()
    timestamp = AuditEvent.objects.get(seq=event.seq).timestamp
    envelope = {
        "schema_version": 1,
        "seq": event.seq,
        "timestamp": timestamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_type": "system",
        "actor_id": "system",
        "action": "decision.recorded",
        "object_type": "proposals.proposal",
        "object_id": "7",
        "data_hash": event.data_hash,
        "prev_hash": event.prev_hash,
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", envelope["timestamp"])
    assert event.hash == hashlib.sha256(rfc8785.dumps(envelope)).hexdigest()


def test_salts_differ_so_equal_data_gives_different_data_hashes():
    # when
    first, second = (audit_record(action="auth.login_failed", data={"username": "bob"}) for _ in range(2))
    # then
    assert first.data_hash != second.data_hash


def test_actor_is_system_agent_or_user_and_object_comes_from_the_instance():
    # given
    user = User.objects.create(username="carol")
    # when
    by_system = audit_record(action="sla.swept")
    by_agent = audit_record(action="proposal.submitted", actor=FakeAgent())
    by_user = audit_record(action="role.granted", actor=user, obj=user)
    # then
    assert (by_system.actor_type, by_system.actor_id) == ("system", "system")
    assert (by_agent.actor_type, by_agent.actor_id) == ("agent", "42")
    assert (by_user.actor_type, by_user.actor_id) == ("user", str(user.pk))
    assert (by_user.object_type, by_user.object_id) == ("auth.user", str(user.pk))


def test_data_with_dates_uuids_and_decimals_is_stored_as_json_strings():
    # given
    import datetime
    import decimal
    import uuid

    # when
    event = audit_record(
        action="x.y", data={"at": datetime.date(2026, 1, 2), "id": uuid.UUID(int=1), "amount": decimal.Decimal("1.50")}
    )
    # then
    assert json.loads(event.data_record.canonical_data) == {
        "amount": "1.50",
        "at": "2026-01-02",
        "id": "00000000-0000-0000-0000-000000000001",
    }


@pytest.mark.parametrize("bad", [{"x": float("nan")}, ["not", "a", "mapping"]])
def test_data_that_has_no_canonical_form_is_refused(bad):
    # when / then
    with pytest.raises((ValueError, TypeError)):
        audit_record(action="x.y", data=bad)
    assert not AuditEvent.objects.exists()


def test_event_rolls_back_with_the_callers_transaction():
    # given
    audit_record(action="kept")
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="rolled.back")
        raise RuntimeError
    # then
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["kept"]
    assert audit_head().seq == 1
    assert audit_record(action="next").seq == 2


def test_chain_head_is_recreated_after_a_flush():
    # given
    ChainHead.objects.all().delete()
    # when
    event = audit_record(action="after.flush")
    # then
    assert event.seq == 1
