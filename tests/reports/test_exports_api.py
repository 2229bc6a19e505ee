"""Streaming exports of a period: decisions as CSV and JSONL, audit events as JSONL."""

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse

from apps.audit.models import AuditEvent
from apps.proposals.models import Decision


def _params(oversight, **overrides):
    return {"period_start": oversight.today.isoformat(), "period_end": oversight.today.isoformat(), **overrides}


def _content(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def test_decisions_csv_has_a_row_per_decision(oversight, client_for, compliance_officer):
    # when
    response = client_for(compliance_officer).get("/api/v1/exports/decisions.csv", _params(oversight))
    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(_content(response))))
    decisions = list(Decision.objects.order_by("signed_at", "id"))
    assert [int(row["id"]) for row in rows] == [decision.pk for decision in decisions]
    assert [row["verdict"] for row in rows] == [decision.verdict for decision in decisions]
    modified = next(row for row in rows if row["verdict"] == "modify")
    assert json.loads(modified["modified_payload"]) == {"order": "A-1", "amount": "250.00"}


def test_decisions_jsonl_narrowed_to_an_action_type(oversight, client_for, compliance_officer, submit):
    # when
    response = client_for(compliance_officer).get(
        "/api/v1/exports/decisions.jsonl", _params(oversight, action_type="payments.*")
    )
    # then: every decision of the day was on crm.update
    assert response.status_code == 200
    assert _content(response) == ""


def test_decisions_jsonl_of_an_agent(oversight, client_for, compliance_officer):
    # when
    response = client_for(compliance_officer).get(
        "/api/v1/exports/decisions.jsonl", _params(oversight, agent=oversight.agent.name)
    )
    # then
    lines = [json.loads(line) for line in _content(response).splitlines()]
    assert len(lines) == Decision.objects.count()
    assert {line["agent"] for line in lines} == {oversight.agent.name}


def test_audit_jsonl_has_every_event_of_the_period_before_the_export(oversight, client_for, compliance_officer):
    # given
    count = AuditEvent.objects.count()
    # when
    response = client_for(compliance_officer).get("/api/v1/exports/audit.jsonl", _params(oversight))
    # then: the export's own audit event is recorded first and comes along
    events = [json.loads(line) for line in _content(response).splitlines()]
    assert len(events) == count + 1
    assert events[-1]["action"] == "report.exported"
    assert [event["hash"] for event in events] == list(
        AuditEvent.objects.order_by("seq").values_list("hash", flat=True)
    )


@pytest.mark.parametrize("path", ["decisions.csv", "decisions.jsonl", "audit.jsonl"])
def test_exports_refuse_a_reversed_period(db, client_for, compliance_officer, path):
    # when
    response = client_for(compliance_officer).get(
        f"/api/v1/exports/{path}", {"period_start": "2026-02-02", "period_end": "2026-02-01"}
    )
    # then
    assert response.status_code == 400
    assert "period_end" in response.json()["error"]["fields"]
    assert not AuditEvent.objects.filter(action="report.exported").exists()


def test_exports_are_for_compliance_officers_only(db, client_for, reviewer):
    # when
    response = client_for(reviewer).get(
        "/api/v1/exports/decisions.csv", {"period_start": "2026-02-01", "period_end": "2026-02-02"}
    )
    # then
    assert response.status_code == 403
