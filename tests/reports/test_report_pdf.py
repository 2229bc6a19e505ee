"""The signed PDF: figures the test computes itself appear in its text, the PAdES signature
validates and breaks on a changed byte, and the embedded files are the database's rows."""

import io
import math
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import formats, translation

from apps.audit.models import AuditEvent
from apps.proposals.models import Decision, PostActionReview, Proposal
from apps.reports.models import Report
from tests.reports.conftest import jsonl, pdf_attachments, pdf_text, signature_status
from tests.requirements import require_program

ARTIFACTS = Path(settings.BASE_DIR) / "artifacts" / "report-pages"


def _read(report: Report) -> bytes:
    with report.file.open("rb") as pdf:
        return pdf.read()


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_summary_figures_match_the_database(generated_report, oversight):
    # given
    report = generated_report()
    proposals = list(Proposal.objects.all())
    human = [
        p
        for p in proposals
        if p.mode == "pre_approval" and p.status in ("approved", "rejected") and p.approved_by != "policy"
    ]
    decided = human + [p for p in proposals if p.status == "expired"]
    reviews = list(PostActionReview.objects.all())
    reviewed = [r for r in reviews if r.state in ("confirmed", "flagged")]
    seconds = sorted((p.decided_at - p.created_at).total_seconds() for p in human)
    median = seconds[math.ceil(0.5 * len(seconds)) - 1]
    p95 = seconds[math.ceil(0.95 * len(seconds)) - 1]
    # when
    text = _flat(pdf_text(_read(report)))
    # then
    assert report.status == Report.Status.READY
    assert f"Proposals {len(proposals)} submitted in the period" in text
    assert f"{len(human) + len(reviewed)} of {len(proposals)} proposals decided or reviewed by a human" in text
    approved = sum(1 for p in human if p.status == "approved")
    assert f"{approved} approved by a reviewer of {len(decided)} decided pre-approvals" in text
    assert f"Approval rate {round(100 * approved / len(decided), 1)}%" in text
    assert f"Median time to decision {int(median // 60)} min" in text
    assert f"95th percentile time to decision {int(p95 // 3600)} h {int(p95 % 3600 // 60)} min" in text
    flagged = sum(1 for r in reviews if r.state == "flagged")
    assert f"{flagged} flagged of {len(reviewed)} reviewed samples" in text
    assert f"Decisions signed {Decision.objects.count()}" in text
    assert "Agent suspensions 1" in text
    escalated = [p for p in proposals if p.escalation_level]
    steps = sum(p.escalation_level for p in escalated)
    assert f"Escalated proposals {len(escalated)} {steps} escalation step{'s' if steps != 1 else ''} in all" in text


def test_sign_offs_name_each_reviewer_with_licence_and_meanings(generated_report, reviewer):
    # given
    report = generated_report()
    signed = Decision.objects.filter(reviewer=reviewer)
    # when
    text = _flat(pdf_text(_read(report)))
    # then
    row = f"{signed.first().signer_name} {reviewer.reviewer_profile.licence_number} {signed.count()} 0"
    assert row in text
    for meaning in set(signed.values_list("signature_meaning", flat=True)):
        assert f"“{meaning}” ×" in text


def test_the_pades_signature_validates(generated_report):
    # given
    content = _read(generated_report())
    # when
    status = signature_status(content)
    # then
    assert status.intact and status.valid and status.trusted
    assert status.coverage.name == "ENTIRE_FILE"


def test_a_changed_byte_breaks_the_signature(generated_report):
    # given: one byte inside a compressed content stream changes; the file still parses
    content = bytearray(_read(generated_report()))
    position = content.index(b"stream\n", len(content) // 10) + 40
    content[position] ^= 0x01
    # when
    status = signature_status(bytes(content))
    # then
    assert not status.intact
    assert not status.bottom_line


def test_it_is_a_pdf_a_3_whose_attachments_are_associated_files(generated_report):
    # given
    from pypdf import PdfReader

    content = _read(generated_report())
    # when
    reader = PdfReader(io.BytesIO(content))
    catalog = reader.trailer["/Root"]
    # then
    associated = [spec.get_object() for spec in catalog["/AF"]]
    assert sorted(spec["/F"] for spec in associated) == ["audit-events.jsonl", "controls.jsonl", "decisions.jsonl"]
    assert {spec["/AFRelationship"] for spec in associated} == {"/Data"}
    for spec in associated:  # PDF/A-3 6.8: a MIME type, sizes and dates on every embedded file
        stream = spec["/EF"]["/F"].get_object()
        assert stream["/Subtype"].replace("#2F", "/") == "/application/x-ndjson"  # "/" escaped in a name
        assert {"/Size", "/ModDate"} <= set(stream["/Params"])
        assert spec["/UF"] == spec["/F"]
    intent = catalog["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1"
    assert "/DestOutputProfile" in intent
    metadata = catalog["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="3"|>3<)', metadata)
    assert re.search(r'pdfaid:conformance(="B"|>B<)', metadata)


def test_the_attachments_hold_every_decision_and_audit_event_of_the_period(generated_report):
    # given
    report = generated_report()
    # when
    files = pdf_attachments(_read(report))
    # then
    decisions = jsonl(files["decisions.jsonl"])
    assert [row["id"] for row in decisions] == list(
        Decision.objects.order_by("signed_at", "id").values_list("id", flat=True)
    )
    first = Decision.objects.select_related("proposal__agent").get(pk=decisions[0]["id"])
    assert decisions[0]["verdict"] == first.verdict
    assert decisions[0]["signer_name"] == first.signer_name
    assert decisions[0]["agent"] == first.proposal.agent.name
    events = jsonl(files["audit-events.jsonl"])
    stored = {
        event.seq: event
        for event in AuditEvent.objects.select_related("data_record").filter(seq__lte=events[-1]["seq"])
    }
    assert [event["seq"] for event in events] == sorted(stored)
    for event in events:
        assert event["hash"] == stored[event["seq"]].hash
        assert event["data_hash"] == stored[event["seq"]].data_hash


def test_the_embedded_data_recomputes_the_audit_hashes(generated_report):
    # given
    import hashlib

    from apps.audit import canonical

    events = jsonl(pdf_attachments(_read(generated_report()))["audit-events.jsonl"])
    # when / then: a regulator's check, from the attachment alone
    previous = events[0]["prev_hash"]
    for event in events:
        data = canonical.canonical_json(event["data"])
        assert hashlib.sha256(bytes.fromhex(event["salt"]) + data.encode()).hexdigest() == event["data_hash"]
        assert event["prev_hash"] == previous
        previous = event["hash"]


def test_the_report_says_it_is_signed_and_lists_its_attachments_with_their_hash(generated_report):
    # given
    report = generated_report()
    content = _read(report)
    # when
    files = pdf_attachments(content)
    text = _flat(pdf_text(content))
    # then
    import hashlib

    for name, data in files.items():
        assert hashlib.sha256(data).hexdigest()[:20] in text.replace(" ", ""), name
    assert hashlib.sha256(content).hexdigest() == report.sha256
    assert AuditEvent.objects.filter(action="report.generated", object_id=str(report.pk)).exists()


def test_the_appendix_is_capped_and_says_where_the_rest_is(generated_report, settings):
    # given
    settings.REPORT_APPENDIX_MAX_ROWS = 2
    # when
    text = _flat(pdf_text(_read(generated_report())))
    # then
    total = Decision.objects.count()
    assert f"2 of {total} decisions, oldest first; all of them are in the attachment decisions.jsonl" in text


@pytest.mark.parametrize(("language", "heading"), [("de", "de"), ("fr", "fr")])
def test_the_report_localizes_dates_and_numbers(generated_report, oversight, language, heading):
    # given
    report = generated_report(language=language)
    # when
    text = _flat(pdf_text(_read(report)))
    # then
    with translation.override(language):
        day = formats.date_format(oversight.today, "DATE_FORMAT")
        rate = formats.number_format(round(100 * 3 / 6, 1), 1)
    assert day in text
    assert rate in text  # "50,0": the decimal comma of both languages
    assert report.language == language


def test_pages_render_to_png_for_a_look(generated_report):
    """CI keeps the pages of each language in artifacts/report-pages/ (git-ignored) to look at."""
    require_program("pdftoppm", "apt-get install poppler-utils")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for language in ("en", "de", "fr"):
        # given
        report = generated_report(language=language)
        source = ARTIFACTS / f"report-{language}.pdf"
        source.write_bytes(_read(report))
        # when
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(source), str(ARTIFACTS / f"report-{language}")], check=True)
        # then
        assert sorted(ARTIFACTS.glob(f"report-{language}-*.png"))


def test_the_rejected_high_risk_section_says_what_high_risk_means(generated_report, settings):
    settings.REPORT_HIGH_RISK_BLAST_RADIUS = 2500

    text = _flat(pdf_text(_read(generated_report())))

    assert "High risk means high compliance exposure, irreversible, or affecting 2,500 or more." in text
