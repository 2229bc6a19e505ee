"""The report's "Controls" section and its controls.jsonl match the API for the same period, in
every language of the report."""

import re

import pytest

from apps.reports.controls import CONTROLS, ControlStatus
from apps.reports.models import Report
from apps.reports.services import report_generate, report_request
from tests.reports.conftest import jsonl, pdf_attachments, pdf_text

HEADINGS = {"en": "7. Controls", "de": "7. Kontrollen", "fr": "7. Contrôles"}


@pytest.mark.parametrize("language", ["en", "de", "fr"])
def test_the_report_controls_match_the_api_for_the_same_period(oversight, compliance_officer, client_for, language):
    # given a report requested for the day, and the API asked about the same day before it renders
    day = oversight.today.isoformat()
    report = report_request(
        requested_by=compliance_officer,
        dispatch=False,
        period_start=oversight.today,
        period_end=oversight.today,
        language=language,
    )
    api = client_for(compliance_officer).get(
        "/api/v1/compliance/controls/", {"period_start": day, "period_end": day}, HTTP_ACCEPT_LANGUAGE=language
    )
    # when
    report = report_generate(report_id=report.pk)
    with report.file.open("rb") as pdf:
        content = pdf.read()
    rows = jsonl(pdf_attachments(content)["controls.jsonl"])
    text = re.sub(r"\s+", " ", pdf_text(content))
    # then: same controls, statuses, figures, reasons and links, in the report's language
    assert report.status == Report.Status.READY
    assert api.status_code == 200
    assert rows == api.json()["controls"]
    assert {row["status"] for row in rows} <= set(ControlStatus.values)
    assert HEADINGS[language] in text
    for control in CONTROLS:
        assert control.id in text
    from django.utils import translation

    with translation.override(language):
        labels = {status: str(ControlStatus(status).label) for status in ControlStatus.values}
    for row in rows:
        assert labels[row["status"]] in text


def test_a_report_walks_the_audit_chain_once(oversight, compliance_officer, monkeypatch):
    # The verification walk re-hashes every event since the last full run: the integrity section and
    # the controls share one walk, and so one view of the chain.
    from apps.audit import verification

    walks = []
    walk = verification.audit_verification_status
    monkeypatch.setattr(verification, "audit_verification_status", lambda: walks.append(1) or walk())
    report = report_request(
        requested_by=compliance_officer, dispatch=False, period_start=oversight.today, period_end=oversight.today
    )

    report = report_generate(report_id=report.pk)

    assert report.status == Report.Status.READY
    assert len(walks) == 1
