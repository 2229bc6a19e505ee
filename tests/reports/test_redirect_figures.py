"""Redirects in reports, the compliance dashboard and insights: a non-approval outcome with its own
figure, and revision chains followed (how many revisions, how many a human approved)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.insights.selectors import figures_for, window_for
from apps.proposals.services import proposal_decide
from apps.reports.selectors import (
    DECISION_COLUMNS,
    decision_json_lines,
    decision_rows,
    report_confidence_bins,
    report_groups,
    report_scope_build,
    report_summary,
)
from tests.conftest import redirected_and_revised

pytestmark = pytest.mark.django_db


@pytest.fixture
def redirected_then_approved(submit, agent, reviewer, second_reviewer, password):
    """A crm change sent back with instructions, revised, and the revision approved; one rejected."""
    first = submit(action_type="crm.update", payload={"email": "old@example.com"})
    revision = redirected_and_revised(
        first, reviewer, agent, instructions="Take the address from the ticket.", payload={"email": "new@example.com"}
    )
    proposal_decide(
        proposal_id=revision.pk, reviewer=second_reviewer, verdict="approve", rationale="Right.", password=password
    )
    rejected = submit(action_type="crm.update", payload={"email": "x@example.com"})
    proposal_decide(proposal_id=rejected.pk, reviewer=reviewer, verdict="reject", rationale="No.", password=password)
    return first, revision


def _scope():
    today = timezone.now().date()
    return report_scope_build(period_start=today - timedelta(days=1), period_end=today)


def test_the_report_counts_redirects_apart_and_follows_the_chain(redirected_then_approved):
    summary = report_summary(_scope())

    assert (summary["approved"], summary["rejected"], summary["changes_requested"]) == (1, 1, 1)
    assert summary["decided"] == 3 and summary["human_decided"] == 3
    assert summary["redirect_rate"] == pytest.approx(1 / 3)
    assert summary["approval_rate"] == pytest.approx(1 / 3)
    assert (summary["revisions"], summary["revisions_approved"]) == (1, 1)
    (group,), _count = report_groups(_scope())
    assert group["changes_requested"] == 1 and group["approval_rate"] == pytest.approx(1 / 3)
    assert sum(row["total"] for row in report_confidence_bins(_scope())) == 3


def test_the_dashboard_and_the_pdf_template_show_the_redirect_figure(
    client, compliance_officer, redirected_then_approved
):
    client.force_login(compliance_officer)
    page = client.get("/compliance/").content.decode()
    assert "Changes requested (redirects)" in page and "1 revisions, 1 approved" in page


def test_insights_count_redirects_as_a_verdict_that_is_not_an_approval(redirected_then_approved):
    (group,) = figures_for(window=window_for(days=7, now=timezone.now() + timedelta(seconds=1)))

    assert (group["approved"], group["rejected"], group["changes_requested"]) == (1, 1, 1)
    assert group["closed"] == 3 and group["redirect_rate"] == pytest.approx(1 / 3)
    assert (group["revisions"], group["revisions_approved"]) == (1, 1)


def test_the_decision_export_carries_instructions_and_the_revision_chain(redirected_then_approved):
    first, revision = redirected_then_approved
    rows = [dict(zip(DECISION_COLUMNS, row, strict=True)) for row in decision_rows(_scope())]
    redirect = next(row for row in rows if row["verdict"] == "request_changes")
    assert redirect["instructions"] == "Take the address from the ticket." and redirect["proposal_revision"] == 0
    approval = next(row for row in rows if row["proposal_id"] == revision.pk)
    assert approval["proposal_revision_of"] == first.pk and approval["proposal_revision"] == 1
    lines = [json.loads(line) for line in decision_json_lines(_scope())]
    assert {line["proposal_revision_of"] for line in lines} == {None, first.pk}
