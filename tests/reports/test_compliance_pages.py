"""The compliance officer's pages under /compliance/."""

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.reports.models import Report


@pytest.fixture
def officer_browser(compliance_officer):
    browser = Client()
    browser.force_login(compliance_officer)
    return browser


PAGES = ["/compliance/", "/compliance/reports/", "/compliance/verify/", "/compliance/exports/", "/compliance/audit/"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_are_for_compliance_officers(db, reviewer, path):
    # given
    browser = Client()
    browser.force_login(reviewer)
    # when
    response = browser.get(path)
    # then
    assert response.status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(db, path):
    assert Client().get(path).status_code == 302


def test_the_dashboard_shows_the_last_30_days(oversight, officer_browser):
    # when
    response = officer_browser.get("/compliance/")
    # then
    assert response.status_code == 200
    assert response.context["summary"]["total"] == 13
    assert "13" in response.content.decode()


def test_the_dashboard_speaks_german(oversight, officer_browser):
    # when
    response = officer_browser.get("/compliance/", HTTP_ACCEPT_LANGUAGE="de")
    # then
    assert response.status_code == 200
    assert response.context["LANGUAGE_CODE"] == "de"


def test_the_report_form_queues_a_report(oversight, officer_browser, django_capture_on_commit_callbacks):
    # given
    day = oversight.today.isoformat()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_browser.post(
            "/compliance/reports/", {"period_start": day, "period_end": day, "agent": "", "language": "fr"}
        )
    # then
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.language == "fr"
    listing = officer_browser.get("/compliance/reports/").content.decode()
    assert f"/compliance/reports/{report.pk}/download/" in listing


def test_the_report_form_shows_a_reversed_period_and_creates_nothing(db, officer_browser):
    # when
    response = officer_browser.post(
        "/compliance/reports/", {"period_start": "2026-02-02", "period_end": "2026-02-01", "language": "en"}
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors["period_end"]
    assert Report.objects.count() == 0


def test_downloading_from_the_page_is_audited(generated_report, officer_browser):
    # given
    report = generated_report()
    # when
    response = officer_browser.get(f"/compliance/reports/{report.pk}/download/")
    # then
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="report.downloaded", object_id=str(report.pk)).count() == 1


def test_verify_now_shows_the_result(oversight, officer_browser):
    # when
    response = officer_browser.post("/compliance/verify/")
    # then
    assert response.status_code == 200
    assert response.context["integrity"]["verification"].ok
    assert response.context["integrity"]["checkpoint"]["signature_valid"]


def test_exports_page_links_the_three_exports(oversight, officer_browser):
    # given
    day = oversight.today.isoformat()
    # when
    response = officer_browser.get("/compliance/exports/", {"period_start": day, "period_end": day})
    # then
    urls = [url for _label, url in response.context["links"]]
    assert [url.split("?")[0] for url in urls] == [
        "/api/v1/exports/decisions.csv",
        "/api/v1/exports/decisions.jsonl",
        "/api/v1/exports/audit.jsonl",
    ]
    assert officer_browser.get(urls[0]).status_code == 200


def test_audit_events_filter_by_action(oversight, officer_browser):
    # when
    response = officer_browser.get("/compliance/audit/", {"action": "decision."})
    # then
    events = response.context["events"]
    assert events
    assert {event.action.split(".")[0] for event in events} == {"decision"}
    assert len(events) == AuditEvent.objects.filter(action__startswith="decision.").count()
