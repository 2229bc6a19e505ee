"""POST reports/, GET reports/{id}/ and reports/{id}/download/ (DESIGN.md): compliance officers only."""

from datetime import date, timedelta

import pytest

from apps.audit.models import AuditEvent
from apps.reports.models import Report

URL = "/api/v1/reports/"


def _body(**overrides):
    today = date.today()
    return {"period_start": str(today), "period_end": str(today), **overrides}


def test_a_compliance_officer_requests_a_report_and_gets_it_ready(
    oversight, client_for, compliance_officer, django_capture_on_commit_callbacks
):
    # given
    client = client_for(compliance_officer)
    # when: the worker runs inline (CELERY_TASK_ALWAYS_EAGER) once the request commits
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, _body(agent=oversight.agent.name, language="de"), format="json")
    # then
    assert response.status_code == 202
    assert response["Location"].endswith(f"/api/v1/reports/{response.data['id']}/")
    assert response.data["status"] == "queued"
    detail = client.get(f"{URL}{response.data['id']}/")
    assert detail.data["status"] == "ready"
    assert detail.data["progress"] == 100
    assert len(detail.data["sha256"]) == 64
    assert detail.data["agent"] == oversight.agent.name
    assert detail.data["language"] == "de"


def test_the_download_is_the_recorded_file_and_is_audited(generated_report, client_for, compliance_officer):
    # given
    report = generated_report()
    # when
    response = client_for(compliance_officer).get(f"{URL}{report.pk}/download/")
    # then
    import hashlib

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == report.sha256
    event = AuditEvent.objects.get(action="report.downloaded", object_id=str(report.pk))
    assert event.actor_id == str(compliance_officer.pk)


def test_a_report_not_ready_cannot_be_downloaded(db, client_for, compliance_officer):
    # given
    report = Report.objects.create(period_start=date.today(), period_end=date.today())
    # when
    response = client_for(compliance_officer).get(f"{URL}{report.pk}/download/")
    # then
    assert response.status_code == 409
    assert not AuditEvent.objects.filter(action="report.downloaded").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"period_start": "2026-03-10", "period_end": "2026-03-09"}, "period_end"),
        ({"period_start": "2025-01-01", "period_end": "2026-01-02"}, "period_end"),
        ({"agent": "no-such-agent"}, "agent"),
        ({"language": "xx"}, "language"),
        ({"period_start": "not a date"}, "period_start"),
        ({"action_type": "pay*ments"}, "action_type"),
    ],
)
def test_bad_input_is_400_and_creates_no_report(agent, client_for, compliance_officer, world_state, overrides, field):
    # given
    before = world_state()
    # when
    response = client_for(compliance_officer).post(URL, _body(**overrides), format="json")
    # then
    assert response.status_code == 400
    assert field in response.data["error"]["fields"]
    assert Report.objects.count() == 0
    assert world_state() == before


def test_the_allowed_span_is_a_setting(db, client_for, compliance_officer, settings):
    # given
    settings.REPORT_MAX_PERIOD_DAYS = 7
    start = date.today() - timedelta(days=7)
    # when
    response = client_for(compliance_officer).post(URL, _body(period_start=str(start)), format="json")
    # then
    assert response.status_code == 400
    assert Report.objects.count() == 0


@pytest.mark.parametrize("who", ["reviewer", "outsider", "agent_owner"])
def test_only_compliance_officers_may_request_reports(request, client_for, who):
    # given
    user = request.getfixturevalue(who)
    # when
    response = client_for(user).post(URL, _body(), format="json")
    # then
    assert response.status_code == 403
    assert Report.objects.count() == 0


def test_an_agent_may_not_read_reports(agent_client, generated_report):
    # given
    report = generated_report()
    # when
    responses = [agent_client.get(f"{URL}{report.pk}/"), agent_client.get(f"{URL}{report.pk}/download/")]
    # then
    assert [response.status_code for response in responses] == [403, 403]


def test_an_unknown_report_is_404(db, client_for, compliance_officer):
    assert client_for(compliance_officer).get(f"{URL}999/").status_code == 404


def test_the_list_shows_the_latest_reports_first(generated_report, client_for, compliance_officer):
    # given
    first, second = generated_report(), generated_report(language="fr")
    # when
    response = client_for(compliance_officer).get(URL)
    # then
    assert response.status_code == 200
    assert [report["id"] for report in response.data] == [second.pk, first.pk]
    assert response.data[0]["download_url"].endswith(f"/api/v1/reports/{second.pk}/download/")
