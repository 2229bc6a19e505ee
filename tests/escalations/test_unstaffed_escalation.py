"""An escalation that lands in a queue where nobody may decide (DESIGN.md, Staffing): the admins
hear of it at once, and the compliance dashboard lists it until someone is staffed there."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.escalations.services import sla_sweep
from apps.notifications.models import OutboxMessage
from apps.proposals.models import Proposal
from tests.factories import UserFactory, decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_with_email(db):
    return UserFactory(username="ops_admin", role="admin", is_superuser=True, is_staff=True, email="ops@example.org")


def escalations_of(proposal):
    events = AuditEvent.objects.filter(action="proposal.escalated", object_id=str(proposal.pk)).order_by("seq")
    return [json.loads(event.data_record.canonical_data) for event in events]


def test_the_sweep_escalating_into_an_unstaffed_tier_alerts_the_admins(
    submit, reviewer, finance_senior_reviewer, admin_with_email
):
    # given: finance-senior is staffed, compliance (the last tier) is not
    refund = submit(blast_radius=5)
    sla_sweep(now=refund.created_at + timedelta(minutes=31))
    assert not OutboxMessage.objects.filter(event_type="proposal.unstaffed").exists()

    # when
    refund.refresh_from_db()
    sla_sweep(now=refund.sla_due_at + timedelta(seconds=1))

    # then
    refund.refresh_from_db()
    assert refund.queue.slug == "compliance" and refund.escalation_level == 2
    alert = OutboxMessage.objects.get(event_type="proposal.unstaffed")
    assert alert.channel == "email" and alert.target == "ops@example.org" and alert.proposal_id == refund.pk
    # the superuser admin holds every permission but may not decide: that is the reason given
    assert "have no deciding role" in alert.body
    first, second = escalations_of(refund)
    assert "unstaffed" not in first and "no deciding role" in second["unstaffed"]


def test_a_reviewer_escalating_into_an_unstaffed_tier_alerts_the_admins(
    submit, reviewer, finance_senior_reviewer, admin_with_email, password
):
    refund = submit(blast_radius=5)
    Proposal.objects.filter(pk=refund.pk).update(escalation_level=1, queue=finance_senior_reviewer_queue(refund))

    decide(refund, finance_senior_reviewer, "escalate", password=password, rationale="Needs compliance.")

    assert OutboxMessage.objects.filter(event_type="proposal.unstaffed", proposal=refund).count() == 1


def test_the_compliance_dashboard_lists_work_nobody_may_decide(
    client, submit, reviewer, finance_senior_reviewer, compliance_officer, password
):
    refund = submit(blast_radius=5)
    Proposal.objects.filter(pk=refund.pk).update(queue=finance_senior_reviewer_queue(refund, slug="compliance"))
    staffed = submit(blast_radius=5)
    client.force_login(compliance_officer)

    page = client.get("/compliance/").content.decode()

    assert "Work nobody may decide" in page
    assert f"#{refund.pk}" in page and f"#{staffed.pk}</a>" not in page
    assert "no active user has the review permission of this queue" in page

    UserFactory(username="cleo", role="reviewer", queues=["compliance"])
    assert "Work nobody may decide" not in client.get("/compliance/").content.decode()


def finance_senior_reviewer_queue(proposal, slug="finance-senior"):
    from apps.accounts.models import Queue

    return Queue.objects.get_or_create(slug=slug, defaults={"name": slug})[0]


def test_a_sweep_into_an_unstaffed_tier_costs_the_same_queries_for_2_and_for_6_proposals(
    submit, finance_senior_reviewer, admin_with_email
):
    # finance-senior is staffed; compliance, the tier after it, is not: every escalation alerts the admins
    senior = finance_senior_reviewer_queue(None)
    first_sweep = timezone.now() + timedelta(days=1)

    def sweep_queries(count: int, now) -> int:
        refunds = [submit(blast_radius=5) for _ in range(count)]
        Proposal.objects.filter(pk__in=[r.pk for r in refunds]).update(escalation_level=1, queue=senior)
        with CaptureQueriesContext(connection) as queries:
            result = sla_sweep(now=now)
        assert result.escalated == count
        return len(queries)

    two = sweep_queries(2, first_sweep)
    six = sweep_queries(6, first_sweep + timedelta(minutes=1))  # the first two are not due again yet

    assert six == two  # the admins, the queue's staffing and channels: read once per batch
    assert OutboxMessage.objects.filter(event_type="proposal.unstaffed").count() == 8
