"""GET /api/v1/compliance/controls/: the matrix of a period, for compliance officers; bad periods are
400 and nothing is ever written."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.reports.controls import CONTROLS, controls_evaluate
from apps.reports.selectors import report_scope_build

URL = "/api/v1/compliance/controls/"


def _today() -> str:
    return timezone.now().date().isoformat()


def _audit_head():
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()


def test_a_compliance_officer_gets_every_control_with_its_evidence(oversight, client_for, compliance_officer):
    # given
    head = _audit_head()
    # when
    response = client_for(compliance_officer).get(URL, {"period_start": _today(), "period_end": _today()})
    # then
    assert response.status_code == 200
    body = response.json()
    assert body["period_start"] == body["period_end"] == _today()
    assert [control["id"] for control in body["controls"]] == [control.id for control in CONTROLS]
    by_id = {control["id"]: control for control in body["controls"]}
    decisions = by_id["CFR11-50"]
    assert decisions["regulation"] == "21 CFR Part 11" and decisions["clause"] == "11.50"
    assert decisions["status"] == "met" and decisions["figures"]["signatures"] == 5
    assert decisions["tests"] and decisions["links"][0]["url"].startswith("/compliance/audit/?")
    assert by_id["AIA-14-4de"]["figures"]["agent_suspensions"] == 1
    assert sum(body["summary"].values()) == len(CONTROLS)
    assert body["summary"]["met"] == sum(1 for control in body["controls"] if control["status"] == "met")
    assert _audit_head() == head  # reading the matrix writes nothing


def test_the_api_shows_what_the_evidence_functions_compute(oversight, client_for, compliance_officer):
    today = timezone.now().date()
    expected = controls_evaluate(report_scope_build(period_start=today, period_end=today))
    body = client_for(compliance_officer).get(URL, {"period_start": _today(), "period_end": _today()}).json()
    assert [(c["status"], c["figures"]) for c in body["controls"]] == [
        (str(result.evidence.status), result.evidence.figures) for result in expected
    ]


def test_the_text_follows_the_language_of_the_request(db, client_for, compliance_officer):
    response = client_for(compliance_officer).get(
        URL, {"period_start": _today(), "period_end": _today()}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert response.status_code == 200
    first = response.json()["controls"][0]
    assert first["requirement"] == "Das System erkennt ungültige oder veränderte Aufzeichnungen."
    assert first["status"] in ("met", "attention", "not_met")  # statuses stay machine values


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period_start": "2026-02-02", "period_end": "2026-02-01"}, "period_end"),
        ({"period_start": "2024-01-01", "period_end": "2026-01-01"}, "period_end"),
        ({"period_start": "yesterday", "period_end": "2026-02-01"}, "period_start"),
        ({"period_start": "2026-02-01", "period_end": "2026-02-30"}, "period_end"),
        ({"period_end": "2026-02-01"}, "period_start"),
    ],
)
def test_a_bad_period_is_400_and_writes_nothing(oversight, client_for, compliance_officer, world_state, params, field):
    # given
    before = world_state()
    # when
    response = client_for(compliance_officer).get(URL, params)
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400 and field in error["fields"]
    assert world_state() == before


def test_the_maximum_span_is_accepted(db, client_for, compliance_officer, settings):
    end = timezone.now().date()
    start = end - timedelta(days=settings.REPORT_MAX_PERIOD_DAYS - 1)
    response = client_for(compliance_officer).get(URL, {"period_start": start, "period_end": end})
    assert response.status_code == 200


def test_only_compliance_officers_and_admins_see_the_matrix(db, client_for, reviewer, admin, agent_client):
    params = {"period_start": _today(), "period_end": _today()}
    assert client_for(reviewer).get(URL, params).status_code == 403
    assert agent_client.get(URL, params).status_code == 403
    assert APIClient().get(URL, params).status_code == 401
    assert client_for(admin).get(URL, params).status_code == 200
