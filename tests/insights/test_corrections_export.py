"""The corrections export: JSON Lines of modified, rejected and flagged items, redacted on request."""

import json

import pytest

from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def corrections(make_proposal, make_decision, make_post_review, reviewer, second_reviewer):
    modified = make_proposal(
        payload={"iban": "DE89", "amount": "500.00", "customer": {"email": "a@example.org"}},
        revised_payload={"iban": "DE89", "amount": "250.00", "customer": {"email": "a@example.org"}},
    )
    make_decision(modified, reviewer, "modify", rationale="half is enough")
    rejected = make_proposal(status="rejected", payload={"iban": "FR76", "amount": "9000.00"})
    make_decision(rejected, second_reviewer, "reject", rationale="fraud pattern")
    flagged = make_proposal("support-replies", payload={"text": "Hi Bob", "email": "bob@example.org"})
    make_post_review(flagged, "flagged", reviewer=reviewer, correction={"text": "Dear Bob"}, rationale="tone")
    make_post_review(make_proposal("support-replies"), "confirmed", reviewer=reviewer)
    make_proposal()  # approved as proposed: no correction
    return modified, rejected, flagged


def _lines(response):
    assert response["Content-Type"] == "application/x-ndjson"
    assert response.streaming
    return [json.loads(line) for line in b"".join(response.streaming_content).decode().splitlines()]


def test_export_lists_every_correction_once(client_for, compliance_officer, corrections):
    modified, rejected, flagged = corrections

    lines = _lines(client_for(compliance_officer).get("/api/v1/insights/corrections/"))

    assert [(line["proposal_id"], line["kind"]) for line in lines] == [
        (modified.pk, "modified"),
        (rejected.pk, "rejected"),
        (flagged.pk, "flagged"),
    ]
    by_kind = {line["kind"]: line for line in lines}
    assert by_kind["modified"]["original_payload"]["amount"] == "500.00"
    assert by_kind["modified"]["corrected_payload"]["amount"] == "250.00"
    assert (by_kind["modified"]["verdict"], by_kind["modified"]["rationale"]) == ("modify", "half is enough")
    assert (by_kind["rejected"]["verdict"], by_kind["rejected"]["rationale"]) == ("reject", "fraud pattern")
    assert by_kind["rejected"]["corrected_payload"] is None
    assert by_kind["flagged"]["corrected_payload"] == {"text": "Dear Bob"}
    assert (by_kind["flagged"]["verdict"], by_kind["flagged"]["rationale"]) == ("flag", "tone")
    assert by_kind["flagged"]["context"]["rule"] == "support-replies"
    assert by_kind["modified"]["context"]["confidence"] == 0.8


def test_chosen_keys_are_redacted_at_any_depth(client_for, compliance_officer, corrections):
    lines = _lines(client_for(compliance_officer).get("/api/v1/insights/corrections/", {"redact": "iban, email"}))

    text = json.dumps(lines)
    assert "DE89" not in text and "FR76" not in text and "example.org" not in text
    modified = lines[0]
    assert modified["original_payload"] == {
        "iban": "[redacted]",
        "amount": "500.00",
        "customer": {"email": "[redacted]"},
    }
    assert modified["corrected_payload"]["amount"] == "250.00"
    event = AuditEvent.objects.get(action="insights.corrections_exported")
    assert event.actor_id == str(compliance_officer.pk)


def test_export_filters_and_bad_input(client_for, compliance_officer, corrections, now):
    client = client_for(compliance_officer)

    assert _lines(client.get("/api/v1/insights/corrections/", {"since": now.isoformat()})) == []
    assert client.get("/api/v1/insights/corrections/", {"agent": "nobody"}).status_code == 400
    backwards = client.get("/api/v1/insights/corrections/", {"since": now.isoformat(), "until": "2020-01-01T00:00:00Z"})
    assert backwards.status_code == 400
