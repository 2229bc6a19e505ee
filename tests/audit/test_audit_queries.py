"""Query counts of the audit app's reads and writes: what a change to the SQL would cost shows here."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.models import AuditEventData, ChainHead
from apps.audit.selectors import audit_head
from apps.audit.services import audit_checkpoint_create, audit_record, audit_record_many, audit_verification_record
from apps.audit.verification import audit_verification_status, audit_verify
from tests.audit.test_audit_proof_apis import as_principal
from tests.audit.test_audit_record_many import escalations

pytestmark = pytest.mark.django_db


def test_a_proof_reads_o_log_n_rows(record_events, compliance_officer, django_assert_max_num_queries):
    # given
    record_events(257)
    audit_checkpoint_create()
    client = as_principal(compliance_officer)
    # when / then: permission, head, latest checkpoint, events (leaves), nodes
    with django_assert_max_num_queries(7):
        assert client.get("/api/v1/audit/events/200/proof/").status_code == 200


@pytest.mark.usefixtures("either_walk")
def test_status_answers_from_the_last_full_run_plus_what_came_since(record_events, django_assert_max_num_queries):
    # given
    record_events(40)
    run = audit_verification_record()
    record_events(3)
    # when
    verification, last_full = audit_verification_status()
    # then
    assert last_full == run
    assert verification.ok
    assert verification.events_checked == 43 and verification.head_seq == 43


def test_a_batch_costs_the_same_few_statements_whatever_its_size():
    # given
    audit_record(action="warm.up")
    audit_record_many(events=escalations(2))

    # when
    with CaptureQueriesContext(connection) as small:
        audit_record_many(events=escalations(2, start=2))
    with CaptureQueriesContext(connection) as large:
        audit_record_many(events=escalations(200, start=4))

    # then the head is locked and written once per batch, not once per event
    assert len(large.captured_queries) == len(small.captured_queries) <= 5
    assert audit_verify().ok and audit_head().seq == 205


def test_a_checkpoint_costs_the_same_few_queries_whatever_the_chain_length(
    record_events, django_assert_max_num_queries
):
    # given
    record_events(300)
    # when / then: head, latest checkpoint, insert (in a savepoint)
    with django_assert_max_num_queries(5):
        checkpoint = audit_checkpoint_create()
    assert checkpoint.tree_size == 300


def test_an_append_takes_few_queries(django_assert_max_num_queries):
    # given
    audit_record(action="warm.up")
    # when / then: lock head, insert event, insert data, insert nodes, update head
    with django_assert_max_num_queries(5):
        audit_record(action="proposal.submitted", data={"n": 1})


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the single-statement write is PostgreSQL's")
def test_on_postgresql_the_head_is_locked_for_two_statements_only():
    # given
    audit_record(action="warm.up")
    # when
    with CaptureQueriesContext(connection) as queries:
        event = audit_record(action="proposal.submitted", data={"n": 1})
    # then: the locked read of the head, then one statement writing event, data, nodes and head
    statements = [query["sql"] for query in queries.captured_queries]
    assert len(statements) == 2
    assert statements[0].endswith("FOR UPDATE")
    assert statements[1].startswith("WITH event AS (INSERT INTO audit_event ")
    assert AuditEventData.objects.get(event_id=event.seq).canonical_data == '{"n":1}'
    assert ChainHead.objects.get().seq == event.seq == 2
