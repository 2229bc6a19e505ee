"""The database itself refuses UPDATE, DELETE and TRUNCATE on the audit tables (migration 0002)."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError, IntegrityError, connection, transaction

from apps.audit.models import AuditEvent, AuditEventData, Checkpoint, MerkleNode
from apps.audit.services import audit_checkpoint_create, audit_record

pytestmark = pytest.mark.django_db
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL only (TRUNCATE, ENABLE ALWAYS)"
)


def refused(sql: str):
    with pytest.raises(DatabaseError) as failure, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    return failure.value


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET action = 'forged' WHERE seq = 2",
        "UPDATE audit_event SET seq = seq + 100",
        "DELETE FROM audit_event WHERE seq = 3",
        "DELETE FROM audit_event",
        "UPDATE audit_event_data SET canonical_data = '{}' WHERE seq = 1",
        "DELETE FROM audit_event_data WHERE seq = 1",
        "UPDATE audit_checkpoint SET root_hash = 'x'",
        "DELETE FROM audit_checkpoint",
        "UPDATE audit_merkle_node SET hash = 'x'",
        "DELETE FROM audit_merkle_node",
    ],
)
def test_update_and_delete_are_refused(record_events, sql):
    # given
    record_events(4)
    audit_checkpoint_create()
    # when
    error = refused(sql)
    # then
    assert isinstance(error, IntegrityError)
    assert "append-only" in str(error) or "redaction" in str(error)
    assert AuditEvent.objects.count() == 4 and AuditEventData.objects.count() == 4
    assert AuditEvent.objects.get(seq=2).action == "proposal.submitted"


def test_the_orm_cannot_change_or_delete_an_event_either(record_events):
    # given
    event = record_events(1)[0]
    # when / then
    event.action = "forged"
    with pytest.raises(IntegrityError), transaction.atomic():
        event.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(seq=event.seq).delete()


@on_postgresql
@pytest.mark.parametrize("table", ["audit_event", "audit_event_data", "audit_checkpoint", "audit_merkle_node"])
def test_truncate_is_refused_even_on_an_empty_table(table):
    # when
    error = refused(f"TRUNCATE {table} CASCADE")
    # then
    assert "append-only" in str(error)


@on_postgresql
def test_triggers_fire_always_even_for_replication_sessions(record_events):
    # given
    record_events(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname, tgenabled FROM pg_trigger WHERE tgname LIKE 'audit_%%' AND NOT tgisinternal")
        triggers = dict(cursor.fetchall())
    # when
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        with pytest.raises(IntegrityError), transaction.atomic():
            cursor.execute("DELETE FROM audit_event")
    # then
    assert triggers and set(triggers.values()) == {"A"}
    assert {"audit_event_append_only", "audit_event_no_truncate"} <= triggers.keys()


@pytest.mark.django_db(transaction=True)
def test_flush_lifts_and_restores_the_triggers():
    # given
    audit_record(action="before.flush")
    audit_checkpoint_create()
    # when
    call_command("flush", interactive=False, verbosity=0)
    # then
    assert not AuditEvent.objects.exists() and not Checkpoint.objects.exists() and not MerkleNode.objects.exists()
    assert audit_record(action="after.flush").seq == 1
    assert isinstance(refused("DELETE FROM audit_event"), IntegrityError)
