"""figures_for / reviewer_figures_for: every figure against a hand-computed answer."""

from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from apps.audit.services import audit_record
from apps.insights.selectors import figures_for, reviewer_figures_for, window_for
from hitlplatform.errors import InvalidInput
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def refunds_month(make_proposal, make_decision, view_then_decide, reviewer, second_reviewer):
    """Four-eyes refunds of the last days: 2 approved, 1 modified, 1 rejected, 1 expired, 1 pending
    past its SLA, 1 cancelled; and one approval 40 days old (only in the 90-day window)."""
    two = {"approvals_required": 2}
    approved_fast = make_proposal(confidence=0.95, decided_after=timedelta(seconds=60), **two)
    view_then_decide(approved_fast, reviewer, seconds=2)  # quick: a rubber-stamp signal
    make_decision(approved_fast, second_reviewer)
    approved = make_proposal(confidence=0.85, decided_after=timedelta(seconds=120), **two)
    view_then_decide(approved, reviewer, seconds=60)  # viewed, then a minute of reading
    make_decision(approved, second_reviewer)
    modified = make_proposal(
        confidence=0.75,
        decided_after=timedelta(seconds=180),
        revised_payload={"order": "A-1", "amount": "250.00"},
        **two,
    )
    make_decision(modified, reviewer)
    make_decision(modified, second_reviewer, "modify", payload={"order": "A-1", "amount": "250.00"})
    rejected = make_proposal(status="rejected", confidence=0.35, decided_after=timedelta(minutes=40), **two)
    make_decision(rejected, reviewer, "escalate")  # no verdict: left out of every decision figure
    make_decision(rejected, reviewer)
    make_decision(rejected, second_reviewer, "reject")
    make_proposal(status="expired", confidence=0.55, decided_after=timedelta(minutes=30), **two)
    make_proposal(status="pending", created_ago=timedelta(days=2), **two)
    make_proposal(status="cancelled", decided_after=timedelta(minutes=1), **two)
    make_proposal(created_ago=timedelta(days=40), **two)


@pytest.fixture
def support_month(make_proposal, make_post_review):
    for state in ("confirmed", "flagged", "queued", "not_sampled"):
        make_post_review(make_proposal("support-replies"), state)


def _group(figures, rule):
    (group,) = [row for row in figures if row["rule"] == rule]
    return group


def test_outcome_rates_of_a_month(refunds_month, now):
    refunds = _group(figures_for(window=window_for(days=30, now=now)), "refunds")

    assert refunds["volume"] == 7
    assert refunds["human_reviewed"] == 7
    assert refunds["human_review_rate"] == 1.0
    # approved counts the modified approval too (apps.proposals.figures, as in the report)
    assert (refunds["closed"], refunds["approved"], refunds["modified"]) == (5, 3, 1)
    assert (refunds["rejected"], refunds["expired"]) == (1, 1)
    assert refunds["approval_rate"] == pytest.approx(0.6)
    assert refunds["modification_rate"] == pytest.approx(0.2)
    assert refunds["rejection_rate"] == pytest.approx(0.2)
    assert refunds["expiry_rate"] == pytest.approx(0.2)


def test_the_window_decides_what_counts(refunds_month, now):
    assert _group(figures_for(window=window_for(days=90, now=now)), "refunds")["volume"] == 8
    assert _group(figures_for(window=window_for(days=7, now=now)), "refunds")["volume"] == 7
    assert figures_for(window=window_for(days=1, now=now - timedelta(days=3))) == []


def test_time_to_decision_percentiles_are_nearest_rank(refunds_month, now):
    refunds = _group(figures_for(window=window_for(days=30, now=now)), "refunds")

    # verdicts after 60, 120, 180 and 2400 seconds: rank ceil(0.5 * 4) = 2 and ceil(0.95 * 4) = 4
    assert refunds["time_to_decision_p50"] == pytest.approx(120, abs=0.01)
    assert refunds["time_to_decision_p95"] == pytest.approx(2400, abs=0.01)


def test_sla_breaches_count_late_expired_and_overdue(refunds_month, now):
    refunds = _group(figures_for(window=window_for(days=30, now=now)), "refunds")

    # rejected after 40 min of a 30 min SLA, expired, pending past due; cancelled is left out
    assert (refunds["sla_breached"], refunds["sla_total"]) == (3, 6)
    assert refunds["sla_breach_rate"] == pytest.approx(0.5)


def test_calibration_and_brier_score(refunds_month, now):
    refunds = _group(figures_for(window=window_for(days=30, now=now)), "refunds")

    by_decile = {band["decile"]: band for band in refunds["calibration"]}
    assert (by_decile[9]["verdicts"], by_decile[9]["approved"], by_decile[9]["approval_rate"]) == (1, 1, 1.0)
    assert (by_decile[8]["verdicts"], by_decile[8]["approval_rate"]) == (1, 1.0)
    assert (by_decile[7]["verdicts"], by_decile[7]["approval_rate"]) == (1, 0.0)  # modified is not approved as is
    assert (by_decile[3]["verdicts"], by_decile[3]["approval_rate"]) == (1, 0.0)
    assert by_decile[5]["verdicts"] == 0  # expiry is no verdict
    assert by_decile[0]["approval_rate"] is None
    assert refunds["brier_score"] == pytest.approx((0.05**2 + 0.15**2 + 0.75**2 + 0.35**2) / 4)


def test_four_eyes_agreement(refunds_month, now):
    refunds = _group(figures_for(window=window_for(days=30, now=now)), "refunds")

    # approve+approve twice agree; approve+modify and approve+reject do not
    assert (refunds["four_eyes_items"], refunds["four_eyes_agreed"]) == (4, 2)
    assert refunds["four_eyes_agreement_rate"] == pytest.approx(0.5)


def test_quick_decisions_after_viewing(refunds_month, now):
    refunds = _group(figures_for(window=window_for(days=30, now=now)), "refunds")

    assert refunds["decisions"] == 8  # the escalation is not a verdict
    assert refunds["quick_decisions"] == 1  # the one read for a minute is not quick
    assert refunds["quick_decision_rate"] == pytest.approx(1 / 8)


def test_post_action_flag_rate(support_month, now):
    support = _group(figures_for(window=window_for(days=30, now=now)), "support-replies")

    assert (support["volume"], support["human_reviewed"]) == (4, 3)  # queued, confirmed, flagged
    assert (support["post_reviewed"], support["flagged"], support["flag_rate"]) == (2, 1, 0.5)
    assert support["approval_rate"] is None  # nothing waited for a human
    assert support["time_to_decision_p50"] is None


def test_figures_filter_by_agent_and_action_type(refunds_month, support_month, now, agent):
    window = window_for(days=30, now=now)

    assert {row["rule"] for row in figures_for(window=window, agent=agent)} == {"refunds", "support-replies"}
    assert {row["rule"] for row in figures_for(window=window, action_type="support.reply")} == {"support-replies"}


def test_reviewer_figures_flag_a_rubber_stamp_over_a_large_sample(
    settings, make_proposal, make_decision, view_then_decide, reviewer, second_reviewer, now
):
    settings.INSIGHTS_RUBBER_STAMP_MIN_SAMPLE = 10
    for number in range(10):
        proposal = make_proposal()
        if number == 0:
            view_then_decide(proposal, reviewer, seconds=1)
        else:
            make_decision(proposal, reviewer)
        make_decision(proposal, second_reviewer, "reject" if number == 0 else "approve")
    small_sample = UserFactory(username="newcomer", role="reviewer")
    make_decision(make_proposal(), small_sample)

    reviewers = {row["reviewer"]: row for row in reviewer_figures_for(window=window_for(days=30, now=now))}

    assert (reviewers["reviewer"]["approval_rate"], reviewers["reviewer"]["rubber_stamp"]) == (1.0, True)
    assert reviewers["reviewer"]["quick_decisions"] == 1
    assert (reviewers["second_reviewer"]["approval_rate"], reviewers["second_reviewer"]["rubber_stamp"]) == (0.9, False)
    assert (reviewers["newcomer"]["approval_rate"], reviewers["newcomer"]["rubber_stamp"]) == (1.0, False)


@pytest.mark.parametrize("days", [0, -7, 366, "x", None])
def test_a_window_out_of_range_is_invalid_input(days):
    with pytest.raises(InvalidInput):
        window_for(days=days)


def test_a_second_look_just_before_signing_is_not_a_rubber_stamp(make_proposal, make_decision, reviewer, now):
    proposal = make_proposal()
    with mock.patch("apps.audit.chain.timezone.now", return_value=timezone.now() - timedelta(minutes=10)):
        audit_record(action="proposal.viewed", actor=reviewer, obj=proposal)  # read ten minutes ago
    second_look = audit_record(action="proposal.viewed", actor=reviewer, obj=proposal)
    make_decision(proposal, reviewer, signed_at=second_look.timestamp + timedelta(seconds=1))
    other = make_proposal()
    first_look = audit_record(action="proposal.viewed", actor=reviewer, obj=other)
    make_decision(other, reviewer, signed_at=first_look.timestamp + timedelta(seconds=1))

    (refunds,) = figures_for(window=window_for(days=30, now=now))

    assert (refunds["decisions"], refunds["quick_decisions"]) == (2, 1)
