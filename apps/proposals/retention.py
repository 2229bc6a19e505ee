"""Retention of proposal content: purge payloads once the minimum retention has passed.

Events are never deleted (no code path does); only the content of final proposals is
emptied, and the purge itself is an audit event.
"""

from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from hitlplatform.errors import InvalidInput

from .events import ProposalEvents
from .models import FINAL_STATUSES, Proposal

PURGED = {"purged": True}


@transaction.atomic
def proposal_payloads_purge(*, before: date, reason: str, actor=None) -> int:
    """Empties payloads, evidence, reasoning and execution details of final proposals created
    before ``before``; refuses anything younger than AUDIT_MIN_RETENTION_DAYS."""
    earliest_allowed = timezone.localdate() - timedelta(days=settings.AUDIT_MIN_RETENTION_DAYS)
    if before > earliest_allowed:
        raise InvalidInput(
            _("Payloads must be kept %(days)s days: choose a date on or before %(date)s.")
            % {"days": settings.AUDIT_MIN_RETENTION_DAYS, "date": earliest_allowed.isoformat()},
            fields={"before": [_("Too recent.")]},
        )
    cutoff = timezone.make_aware(datetime.combine(before, time.min))
    purgeable = Proposal.objects.select_for_update().filter(
        created_at__lt=cutoff, status__in=FINAL_STATUSES, payload_purged_at__isnull=True
    )
    ids = list(purgeable.values_list("id", flat=True))
    purged = Proposal.objects.filter(id__in=ids).update(
        payload=PURGED,
        revised_payload=None,
        final_payload=None,
        evidence=[],
        reasoning="",
        execution_detail=None,
        payload_purged_at=timezone.now(),
    )
    audit_record(
        action=ProposalEvents.PAYLOADS_PURGED,
        actor=actor,
        object_type="proposals.proposal",
        object_id="",
        data={
            "before": before.isoformat(),
            "reason": reason,
            "count": purged,
            "first_id": min(ids) if ids else None,
            "last_id": max(ids) if ids else None,
        },
    )
    return purged
