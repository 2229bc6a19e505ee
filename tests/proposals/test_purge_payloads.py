from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.proposals.models import Proposal

pytestmark = pytest.mark.django_db


def test_purge_refuses_anything_younger_than_the_minimum_retention(submit, settings):
    settings.AUDIT_MIN_RETENTION_DAYS = 183
    submit(confidence=0.99)
    events = AuditEvent.objects.count()
    too_recent = (timezone.localdate() - timedelta(days=100)).isoformat()
    with pytest.raises(CommandError, match="183 days"):
        call_command("purge_payloads", "--before", too_recent, "--reason", "GDPR")
    assert AuditEvent.objects.count() == events


def test_purge_empties_old_final_payloads_keeps_pending_ones_and_is_audited(submit, settings):
    settings.AUDIT_MIN_RETENTION_DAYS = 183
    old_final = submit(confidence=0.99)
    old_pending = submit(blast_radius=5)
    recent = submit(confidence=0.99)
    a_year_ago = timezone.now() - timedelta(days=365)
    Proposal.objects.filter(pk__in=[old_final.pk, old_pending.pk]).update(created_at=a_year_ago)
    events_before = AuditEvent.objects.count()

    call_command(
        "purge_payloads", "--before", (timezone.localdate() - timedelta(days=200)).isoformat(), "--reason", "retention"
    )

    old_final.refresh_from_db(), old_pending.refresh_from_db(), recent.refresh_from_db()
    assert old_final.payload == {"purged": True} and old_final.final_payload is None and old_final.payload_purged_at
    assert old_pending.payload == {"order": "A-1", "amount": "500.00"}
    assert recent.payload_purged_at is None
    assert AuditEvent.objects.filter(action="proposal.payloads_purged").count() == 1
    assert AuditEvent.objects.count() == events_before + 1  # no event was deleted
    call_command("verify_audit")
