"""AUDIT_CHAINING = "deferred": events are staged in the caller's transaction and chained after its commit.

Most of this needs real commits (transaction=True) on PostgreSQL: on SQLite deferred chaining is
immediate chaining (BEGIN IMMEDIATE serializes whole transactions there anyway).
"""

import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from apps.audit import canonical, services, signing, tasks
from apps.audit.models import AuditEvent, AuditEventData, AuditPendingEvent, Checkpoint, VerificationRun
from apps.audit.selectors import audit_root_hash, audit_verify
from apps.audit.services import (
    audit_chain_pending,
    audit_checkpoint_create,
    audit_record,
    audit_redact,
    audit_verification_record,
)

VERIFIER = Path(services.__file__).with_name("offline") / "verify_bundle.py"
on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="deferred chaining is PostgreSQL's (on SQLite it chains immediately): set DATABASE_URL=postgres://...",
)


@pytest.fixture
def deferred(settings):
    settings.AUDIT_CHAINING = "deferred"


class ProcessDied(Exception):
    pass


def _die():
    raise ProcessDied


def commit_and_die_before_the_sequencer(count: int, **fields) -> list[AuditPendingEvent]:
    """Record `count` events in one transaction that commits, then "crash" before its sequencer runs.

    A non-robust on_commit callback registered first raises: Django runs callbacks in order, so
    the transaction is committed and the sequencer's callback never runs, as when the process
    dies between its COMMIT and its on_commit hooks.
    """
    with pytest.raises(ProcessDied), transaction.atomic():
        transaction.on_commit(_die)
        staged = [
            audit_record(action=fields.get("action", "test.staged"), data={"n": number}) for number in range(count)
        ]
    assert AuditPendingEvent.objects.count() == count
    return staged


def assert_chain_is_whole(events: int):
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, events + 1))
    verification = audit_verify()
    assert verification.ok, verification.reason
    assert verification.events_checked == events
    assert not AuditPendingEvent.objects.exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_event_is_staged_in_the_transaction_and_chained_after_its_commit(deferred):
    # when
    with transaction.atomic():
        pending = audit_record(
            action="decision.recorded", object_type="proposals.proposal", object_id="7", data={"v": 1}
        )
        staged_inside = list(AuditPendingEvent.objects.values_list("id", flat=True))
        chained_inside = AuditEvent.objects.count()
    # then
    assert isinstance(pending, AuditPendingEvent)
    assert (staged_inside, chained_inside) == ([pending.id], 0)
    event = AuditEvent.objects.select_related("data_record").get()
    assert (event.seq, event.action, event.object_type, event.object_id) == (
        1,
        "decision.recorded",
        "proposals.proposal",
        "7",
    )
    assert (event.data_hash, event.data_record.salt, event.data_record.canonical_data) == (
        pending.data_hash,
        pending.salt,
        '{"v":1}',
    )
    assert event.timestamp == pending.timestamp  # the time the event was recorded
    assert_chain_is_whole(1)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_events_of_many_transactions_are_chained_in_order_with_their_merkle_tree(deferred):
    # when: 37 transactions (autocommit: each record commits at once, its sequencer runs at once)
    staged = [audit_record(action="proposal.submitted", data={"n": number}) for number in range(37)]
    checkpoint = audit_checkpoint_create()
    # then
    assert_chain_is_whole(37)
    assert list(AuditEvent.objects.order_by("seq").values_list("data_hash", flat=True)) == [
        pending.data_hash for pending in staged
    ]
    assert checkpoint.tree_size == 37 and checkpoint.root_hash == audit_root_hash(tree_size=37)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_chains_nothing(deferred):
    # when
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="proposal.submitted", data={"n": 1})
        raise RuntimeError("the business change failed")
    # then
    assert not AuditEvent.objects.exists() and not AuditPendingEvent.objects.exists()
    audit_record(action="after.rollback")
    assert list(AuditEvent.objects.values_list("seq", "action")) == [(1, "after.rollback")]


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_an_invalid_event_still_raises_in_the_callers_transaction(deferred):
    # when / then
    with pytest.raises(TypeError), transaction.atomic():
        audit_record(action="proposal.submitted", data=["not", "a", "mapping"])
    with pytest.raises(ValueError, match="object_id"), transaction.atomic():
        audit_record(action="proposal.submitted", object_id="x" * 65)
    assert not AuditPendingEvent.objects.exists() and not AuditEvent.objects.exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_transaction_registers_the_sequencer_once(deferred):
    # when
    with transaction.atomic():
        for number in range(3):
            audit_record(action="proposal.submitted", data={"n": number})
        with transaction.atomic():
            audit_record(action="nested.savepoint")
        sequencers = [callback for _sids, callback, _robust in connection.run_on_commit]
    # then
    assert sequencers == [services._chain_pending_after_commit]
    assert_chain_is_whole(4)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_savepoint_rolled_back_does_not_lose_the_sequencer_of_what_follows(deferred):
    # when
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            audit_record(action="rolled.back")
            raise RuntimeError
        audit_record(action="kept")
    # then
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["kept"]
    assert_chain_is_whole(1)


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "rescuer",
    [
        "audit_chain_pending",
        "beat task",
        "next writer",
        "checkpoint",
        "verify_audit",
        "verify_audit --since-checkpoint",
    ],
)
def test_events_left_behind_by_a_crash_are_chained_before_anyone_relies_on_the_head(deferred, rescuer, capsys):
    # given
    staged = commit_and_die_before_the_sequencer(3)
    assert not AuditEvent.objects.exists()
    # when
    if rescuer == "audit_chain_pending":
        assert audit_chain_pending() == 3
    elif rescuer == "beat task":
        tasks.chain_pending()
    elif rescuer == "next writer":
        audit_record(action="next.writer")
    elif rescuer == "checkpoint":
        assert audit_checkpoint_create().tree_size == 3
    elif rescuer == "verify_audit":
        call_command("verify_audit", "--json")
        assert VerificationRun.objects.get().events_checked == 3
    else:
        call_command("verify_audit", "--since-checkpoint", "--json")
        assert '"events_checked": 3' in capsys.readouterr().out
    # then
    assert list(AuditEvent.objects.order_by("seq").values_list("data_hash", flat=True))[:3] == [
        pending.data_hash for pending in staged
    ]
    assert_chain_is_whole(4 if rescuer == "next writer" else 3)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_the_proof_and_verify_apis_and_the_export_see_events_left_behind(deferred, compliance_officer, tmp_path):
    # given
    commit_and_die_before_the_sequencer(2)
    client = APIClient()
    client.force_authenticate(user=compliance_officer)
    # when / then
    assert client.get("/api/v1/audit/events/2/proof/?tree_size=2").status_code == 200
    commit_and_die_before_the_sequencer(2)
    assert client.get("/api/v1/audit/checkpoints/consistency/?first=2&second=4").status_code == 200
    commit_and_die_before_the_sequencer(1)
    assert client.get("/api/v1/audit/verify/").json()["head_seq"] == 5
    commit_and_die_before_the_sequencer(1)
    assert [event["seq"] for event in client.get("/api/v1/audit/events/").json()["results"]][-1] == 6
    commit_and_die_before_the_sequencer(1)
    today = datetime.now(UTC).date().isoformat()
    call_command("export_audit", "--start", today, "--end", today, "--out", str(tmp_path / "bundle.zip"))
    assert Checkpoint.objects.order_by("-tree_size").first().tree_size == 7
    assert_chain_is_whole(7)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_batches_continue_the_chain_and_its_merkle_tree(deferred, monkeypatch):
    # given: 11 events left behind, chained 3 at a time
    commit_and_die_before_the_sequencer(11)
    monkeypatch.setattr(services, "CHAIN_BATCH_SIZE", 3)
    # when
    chained = audit_chain_pending()
    # then
    assert chained == 11
    assert_chain_is_whole(11)
    checkpoint = audit_checkpoint_create()
    assert checkpoint.root_hash == audit_root_hash(tree_size=11)
    assert audit_verify(since_checkpoint=True).ok


def as_another_process(work):
    """Run `work` on a connection of its own (a thread), as a concurrent writer would; returns its result.

    lock_timeout: a writer whose sequencer waited for the head would fail (and log) rather than hang.
    """
    outcome = {}

    def run():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '2s'")
            outcome["result"] = work()
        except Exception as error:  # handed to the test's thread
            outcome["error"] = error
        finally:
            connection.close()

    writer = threading.Thread(target=run)
    writer.start()
    writer.join(timeout=60)
    assert not writer.is_alive()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def record_and_see_it_staged():
    pending = audit_record(action="while.held")
    return AuditPendingEvent.objects.filter(pk=pending.pk).exists()


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("holder", "chain"),
    [
        ("a sequencer", ["left.behind", "while.held"]),
        ("a redaction", ["left.behind", "audit.redacted", "while.held"]),
    ],
)
def test_a_writer_that_finds_the_sequencers_lock_taken_leaves_and_the_holder_chains_its_event_after_commit(
    deferred, caplog, holder, chain
):
    # given: this connection holds the sequencer's lock in a transaction of its own
    if holder == "a sequencer":
        commit_and_die_before_the_sequencer(1, action="left.behind")
    else:
        audit_record(action="left.behind")  # autocommit: chained at once, nothing left staged
    with transaction.atomic():
        if holder == "a sequencer":
            audit_chain_pending()
        else:
            audit_redact(seq=1, reason="ER-1")
        # when: another process commits an event meanwhile
        staged_after_it_returned = as_another_process(record_and_see_it_staged)
        assert AuditEvent.objects.count() == len(chain) - 1  # the writer's event waits for the holder
    # then: the writer did not wait, and the holder looked at the staging table after its commit
    assert staged_after_it_returned is True
    assert not [record for record in caplog.records if record.levelname == "ERROR"]
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == chain
    assert_chain_is_whole(len(chain))


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_sequencer_looks_again_after_its_commit_for_events_committed_while_it_held_the_head(
    deferred, monkeypatch, caplog
):
    # given: a staged event, and another writer that commits while the sequencer chains it
    commit_and_die_before_the_sequencer(1, action="left.behind")
    append_batch, writers = services._append_batch, []

    def append_while_another_writer_commits(cursor, head, rows):
        append_batch(cursor, head, rows)
        if not writers:
            writers.append(as_another_process(record_and_see_it_staged))

    monkeypatch.setattr(services, "_append_batch", append_while_another_writer_commits)
    # when
    chained = audit_chain_pending()
    # then
    assert writers == [True]  # the writer's sequencer found the head taken and left its event staged
    assert chained == 2
    assert not [record for record in caplog.records if record.levelname == "ERROR"]
    assert list(AuditEvent.objects.order_by("seq").values_list("action", flat=True)) == ["left.behind", "while.held"]
    assert_chain_is_whole(2)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_timestamps_are_record_times_so_the_chain_may_hold_them_out_of_order_and_still_verifies(deferred, tmp_path):
    # given: an event recorded first but committed after a later one
    with transaction.atomic():
        first = audit_record(action="recorded.first")
        as_another_process(lambda: audit_record(action="recorded.second"))
    # when
    chain = list(AuditEvent.objects.order_by("seq").values_list("action", "timestamp"))
    bundle = tmp_path / "bundle.zip"
    today = datetime.now(UTC).date().isoformat()
    call_command("export_audit", "--start", today, "--end", today, "--out", str(bundle))
    offline = subprocess.run(
        [sys.executable, "-I", str(VERIFIER), str(bundle), "--public-key", signing.public_key_hex()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # then
    assert [action for action, _ in chain] == ["recorded.second", "recorded.first"]
    assert chain[1][1] == first.timestamp < chain[0][1]
    assert_chain_is_whole(2)
    assert offline.returncode == 0, offline.stdout + offline.stderr


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_redaction_chains_at_once_and_returns_its_event(deferred):
    # given
    for number in range(3):
        audit_record(action="proposal.submitted", data={"n": number})
    # when
    redaction = audit_redact(seq=2, reason="Erasure request ER-17")
    # then
    assert isinstance(redaction, AuditEvent) and redaction.seq == 4
    assert not AuditEventData.objects.filter(event_id=2).exists()
    verification = audit_verify()
    assert verification.ok and verification.redacted == 1
    assert audit_verification_record().ok


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_switching_back_to_immediate_chains_what_was_left_staged_first(deferred, settings):
    # given
    commit_and_die_before_the_sequencer(2)
    settings.AUDIT_CHAINING = "immediate"
    # when
    audit_chain_pending()
    event = audit_record(action="immediate.again")
    # then
    assert event.seq == 3
    assert_chain_is_whole(3)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's behaviour")
@pytest.mark.django_db
def test_on_sqlite_deferred_chains_immediately(deferred):
    # when
    event = audit_record(action="proposal.submitted", data={"n": 1})
    # then
    assert isinstance(event, AuditEvent) and event.seq == 1
    assert not AuditPendingEvent.objects.exists()


@pytest.mark.django_db
def test_the_staging_table_refuses_update():
    # given
    pending = AuditPendingEvent.objects.create(
        timestamp=datetime.now(UTC),
        actor_type="system",
        actor_id="system",
        action="staged",
        data_hash="0" * 64,
        salt="1" * 64,
        canonical_data="{}",
    )
    # when / then
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AuditPendingEvent.objects.filter(pk=pending.pk).update(action="forged")
    assert AuditPendingEvent.objects.get(pk=pending.pk).action == "staged"


@pytest.mark.django_db
def test_the_sequencer_chains_staged_rows_on_either_database():
    # given: rows in the staging table (on SQLite only a switch of database could leave some)
    for number in range(5):
        salt, canonical_data = f"{number:064x}", f'{{"n":{number}}}'
        AuditPendingEvent.objects.create(
            timestamp=datetime.now(UTC),
            actor_type="system",
            actor_id="system",
            action="staged",
            object_id=str(number),
            data_hash=canonical.data_hash(salt, canonical_data),
            salt=salt,
            canonical_data=canonical_data,
        )
    # when
    chained = audit_chain_pending()
    # then
    assert chained == 5
    assert list(AuditEvent.objects.order_by("seq").values_list("object_id", flat=True)) == ["0", "1", "2", "3", "4"]
    assert_chain_is_whole(5)
    assert audit_checkpoint_create().root_hash == audit_root_hash(tree_size=5)


@pytest.mark.django_db
def test_nothing_staged_costs_one_query(django_assert_num_queries):
    # when / then
    with django_assert_num_queries(1):
        assert audit_chain_pending() == 0
