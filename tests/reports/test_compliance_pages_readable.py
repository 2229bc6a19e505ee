"""The compliance pages read like a record, not a dump: names and links, states that agree,
and a hint when a report waits for a worker that is not there."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.proposals.services import proposal_decide
from apps.reports.models import Report
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def officer(compliance_officer):
    client = Client()
    client.force_login(compliance_officer)
    return client


def test_audit_events_name_actors_and_link_proposals(officer, reviewer, submit):
    refund = submit(compliance_exposure="high", summary="Refund A-9")
    proposal_decide(proposal_id=refund.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=PASSWORD)

    response = officer.get("/compliance/audit/", {"action": "decision."})

    page = response.content.decode()
    (event,) = response.context["events"]
    assert event.actor_label == reviewer.get_full_name()
    assert f'href="/review/{refund.pk}/"' in page and "Refund A-9" in page
    assert "<dt>verdict</dt><dd>approve</dd>" in page
    assert "user 4" not in page and "proposals.proposal" not in page


def test_audit_events_filter_by_username(officer, reviewer, second_reviewer, submit):
    refund = submit(compliance_exposure="high")
    for person in (reviewer, second_reviewer):
        proposal_decide(proposal_id=refund.pk, reviewer=person, verdict="approve", rationale="ok", password=PASSWORD)

    events = officer.get("/compliance/audit/", {"actor": "second_reviewer"}).context["events"]

    assert events and {event.actor_id for event in events} == {str(second_reviewer.pk)}


def test_verify_without_a_checkpoint_is_not_shown_as_intact(officer, policy):
    page = officer.post("/compliance/verify/").content.decode()

    assert "no checkpoint has been signed yet" in page
    assert "is-warn" in page and "is-ok" not in page
    assert "Last full verification</th><td>–" not in page
    assert "just now" in page


def test_a_report_queued_for_a_minute_hints_at_a_missing_worker(officer, compliance_officer):
    today = timezone.now().date()
    report = Report.objects.create(period_start=today, period_end=today, requested_by=compliance_officer)
    fresh = officer.get("/compliance/reports/").content.decode()
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(minutes=3))

    stale = officer.get("/compliance/reports/").content.decode()

    assert "no background worker seems to be running" not in fresh
    assert "no background worker seems to be running" in stale
