"""Erasure (GDPR Art. 17): the data and salt go, the chain keeps verifying, the erasure is audited."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent, AuditEventData
from apps.audit.services import audit_redact
from apps.audit.verification import audit_verify
from hitlplatform.errors import InvalidInput, NotFound

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("either_walk")]


def test_redaction_erases_data_and_salt_and_is_recorded(record_events):
    # given
    record_events(5)
    # when
    redaction = audit_redact(seq=3, reason="Erasure request ER-17")
    # then
    assert not AuditEventData.objects.filter(event_id=3).exists()
    assert (redaction.seq, redaction.action, redaction.object_type, redaction.object_id) == (
        6,
        "audit.redacted",
        "audit.auditevent",
        "3",
    )
    assert redaction.data_record.canonical_data == '{"reason":"Erasure request ER-17","redacted_seq":3}'
    assert AuditEvent.objects.get(seq=3).data_hash  # the chain keeps the commitment


def test_a_redacted_chain_still_verifies_and_reports_the_redaction(record_events):
    # given
    record_events(5)
    audit_redact(seq=2, reason="ER-1")
    audit_redact(seq=4, reason="ER-2")
    # when
    verification = audit_verify()
    # then
    assert verification.ok, verification.reason
    assert (verification.redacted, verification.events_checked) == (2, 7)


@pytest.mark.parametrize(("seq", "reason", "error"), [(99, "ER-1", NotFound), (1, "  ", InvalidInput)])
def test_impossible_redactions_are_refused(record_events, seq, reason, error):
    # given
    record_events(2)
    # when / then
    with pytest.raises(error):
        audit_redact(seq=seq, reason=reason)


def test_a_redaction_is_not_repeated_nor_itself_redacted(record_events):
    # given
    record_events(2)
    redaction = audit_redact(seq=1, reason="ER-1")
    # when / then
    with pytest.raises(InvalidInput):
        audit_redact(seq=1, reason="ER-1 again")
    with pytest.raises(InvalidInput):
        audit_redact(seq=redaction.seq, reason="hide the trail")


def test_command_redacts_and_reports(record_events, capsys):
    # given
    record_events(3)
    # when
    call_command("redact_audit_data", "--seq", "2", "--reason", "ER-9")
    # then
    assert "recorded as event 4" in capsys.readouterr().out
    with pytest.raises(CommandError, match="already redacted"):
        call_command("redact_audit_data", "--seq", "2", "--reason", "ER-9")


def test_only_an_admin_may_redact_over_the_api(record_events, admin, compliance_officer, agent):
    # given
    record_events(1)
    seq = AuditEvent.objects.get(action="proposal.submitted").seq

    def post(principal):
        client = APIClient()
        client.force_authenticate(user=principal)
        return client.post(f"/api/v1/audit/events/{seq}/redact/", {"reason": "ER-3"}, format="json")

    # when
    refused = [post(compliance_officer).status_code, post(agent).status_code]
    accepted = post(admin)
    # then
    assert refused == [403, 403]
    assert accepted.status_code == 201
    body = accepted.json()
    assert (body["action"], body["object_id"], body["actor_type"], body["actor_id"]) == (
        "audit.redacted",
        str(seq),
        "user",
        str(admin.pk),
    )
    assert audit_verify().ok
