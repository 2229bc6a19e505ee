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


def test_the_fixed_first_column_of_the_controls_table_holds_every_control_unbroken():
    # given the report's style and the controls table's first cells, whose lines never wrap
    from django.template.loader import render_to_string
    from django.utils.html import format_html_join
    from weasyprint import HTML

    rows = format_html_join(
        "",
        '<tr><td class="name"><b>{}</b><br>{}<br>{}</td><td></td><td></td><td></td></tr>',
        ((control.id, control.regulation, control.clause) for control in CONTROLS),
    )
    header = "".join("<th>-</th>" for _column in range(4))
    html = (
        render_to_string("reports/report.css.html")
        + f'<table class="grid controls"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>'
    )
    # when
    pages = HTML(string=html).render().pages
    # then no line of a first cell runs past the cell's edge into the requirement
    cells = [cell for page in pages for cell in _boxes(page._page_box, "TableCellBox") if cell.grid_x == 0]
    assert len([cell for cell in cells if cell.element_tag == "td"]) == len(CONTROLS)
    for cell in cells:
        right = cell.content_box_x() + cell.width
        for text in _boxes(cell, "TextBox"):
            assert text.position_x + text.width <= right + 0.01, text.text


def _boxes(box, kind: str):
    if type(box).__name__ == kind:
        yield box
    for child in getattr(box, "children", ()):
        yield from _boxes(child, kind)
