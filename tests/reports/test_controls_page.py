"""/compliance/controls/: the matrix in the compliance layout, for compliance officers."""

import pytest
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.reports.controls import CONTROLS


@pytest.fixture
def officer_browser(compliance_officer):
    browser = Client()
    browser.force_login(compliance_officer)
    return browser


def test_the_page_shows_every_control_with_status_evidence_links_and_tests(oversight, officer_browser):
    # given
    head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    day = oversight.today.isoformat()
    # when
    response = officer_browser.get("/compliance/controls/", {"period_start": day, "period_end": day})
    # then
    assert response.status_code == 200
    html = response.content.decode()
    for control in CONTROLS:
        assert f'id="control-{control.id}"' in html
        assert control.tests[0] in html
    results = response.context["results"]
    assert sum(response.context["summary"].values()) == len(CONTROLS) == len(results)
    signatures = next(result for result in results if result.control.id == "CFR11-50")
    assert signatures.evidence.status == "met" and ("Signatures", "5") in signatures.figure_rows
    assert f"/compliance/audit/?action=decision.recorded&amp;since={day}&amp;until={day}" in html
    assert 'aria-current="page">Controls<' in html
    assert AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() == head


def test_without_a_period_the_page_shows_the_last_30_days(db, officer_browser):
    response = officer_browser.get("/compliance/controls/")
    assert response.status_code == 200
    scope = response.context["scope"]
    assert scope.period_end == timezone.now().date() and scope.days == 30


def test_a_reversed_period_is_refused_on_the_form(db, officer_browser):
    response = officer_browser.get("/compliance/controls/", {"period_start": "2026-02-02", "period_end": "2026-02-01"})
    assert response.status_code == 200
    assert response.context["results"] is None
    assert "The end of the period is before its start." in response.content.decode()


def test_the_page_speaks_german_and_french(oversight, officer_browser):
    german = officer_browser.get("/compliance/controls/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    french = officer_browser.get("/compliance/controls/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Kontrollen" in german and "erfüllt" in german
    assert "Contrôles" in french and "satisfait" in french


def test_the_page_is_for_compliance_officers_only(db, reviewer):
    browser = Client()
    browser.force_login(reviewer)
    assert browser.get("/compliance/controls/").status_code == 403
    assert Client().get("/compliance/controls/").status_code == 302
