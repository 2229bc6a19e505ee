"""The figures of a report, computed by the database, against the same figures computed here."""

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from apps.agents.services import agent_create
from apps.proposals.models import Proposal
from apps.reports.selectors import (
    ReportScope,
    decision_time_percentiles,
    report_confidence_bins,
    report_daily_outcomes,
    report_groups,
    report_scope_build,
    report_summary,
)
from hitlplatform.errors import InvalidInput

DAY = date(2026, 3, 2)


def _proposal(agent, *, created_at, decided_after=None, status="approved", action_type="crm.update", **fields):
    return Proposal.objects.create(
        agent=agent,
        action_type=action_type,
        payload={},
        payload_version="0" * 64,
        confidence=fields.pop("confidence", 0.5),
        mode=fields.pop("mode", "pre_approval"),
        status=status,
        approved_by=fields.pop("approved_by", "human" if status == "approved" else ""),
        created_at=created_at,
        decided_at=created_at + decided_after if decided_after is not None else None,
        routing={},
        **fields,
    )


@pytest.fixture
def two_agents(db):
    return agent_create(name="alpha")[0], agent_create(name="beta")[0]


def test_percentiles_are_nearest_rank_of_human_decision_times(two_agents):
    # given
    alpha, _beta = two_agents
    rng = random.Random(3)
    waits = [rng.randrange(1, 20_000) for _ in range(101)]
    start = datetime(2026, 3, 2, 8, tzinfo=UTC)
    for index, wait in enumerate(waits):
        _proposal(
            alpha,
            created_at=start + timedelta(minutes=index),
            decided_after=timedelta(seconds=wait),
            status="rejected" if index % 3 else "approved",
        )
    _proposal(alpha, created_at=start, decided_after=timedelta(days=3), status="expired")  # not a human decision
    ordered = sorted(waits)
    # when
    found = decision_time_percentiles(ReportScope(DAY, DAY), percents=(0.5, 0.95, 1.0))
    # then
    assert round(found[0.5]) == ordered[math.ceil(0.5 * 101) - 1]
    assert round(found[0.95]) == ordered[math.ceil(0.95 * 101) - 1]
    assert round(found[1.0]) == ordered[-1]


def test_percentiles_of_nothing_are_none(db):
    assert decision_time_percentiles(ReportScope(DAY, DAY), percents=(0.5,)) == {0.5: None}


def test_the_scope_narrows_to_an_agent_and_an_action_type_prefix(two_agents):
    # given
    alpha, beta = two_agents
    moment = datetime(2026, 3, 2, 12, tzinfo=UTC)
    _proposal(alpha, created_at=moment, action_type="payments.refund")
    _proposal(alpha, created_at=moment, action_type="payments.payout")
    _proposal(alpha, created_at=moment, action_type="crm.update")
    _proposal(beta, created_at=moment, action_type="payments.refund")
    _proposal(alpha, created_at=moment - timedelta(days=1), action_type="payments.refund")  # outside the period
    # when
    scope = report_scope_build(period_start=DAY, period_end=DAY, agent="alpha", action_type="payments.*")
    # then
    assert report_summary(scope)["total"] == 2
    rows, count = report_groups(scope)
    assert count == 2
    assert [(row["agent__name"], row["action_type"]) for row in rows] == [
        ("alpha", "payments.payout"),
        ("alpha", "payments.refund"),
    ]


def test_days_are_utc_days_of_submission(two_agents):
    # given
    alpha, _beta = two_agents
    _proposal(alpha, created_at=datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC))
    _proposal(alpha, created_at=datetime(2026, 3, 3, 0, 0, 0, tzinfo=UTC), status="rejected")
    # when
    days = report_daily_outcomes(ReportScope(DAY, DAY + timedelta(days=1)))
    # then
    assert [(row["day"], row["approved"], row["rejected"]) for row in days] == [
        (date(2026, 3, 2), 1, 0),
        (date(2026, 3, 3), 0, 1),
    ]


def test_confidence_bins_count_human_decisions_per_tenth(two_agents):
    # given
    alpha, _beta = two_agents
    moment = datetime(2026, 3, 2, 12, tzinfo=UTC)
    for confidence, status in [(0.05, "rejected"), (0.42, "approved"), (0.47, "rejected"), (1.0, "approved")]:
        _proposal(alpha, created_at=moment, confidence=confidence, status=status, decided_after=timedelta(minutes=1))
    # when
    bins = report_confidence_bins(ReportScope(DAY, DAY))
    # then
    assert [(b["total"], b["approved"]) for b in bins if b["total"]] == [(1, 0), (2, 1), (1, 1)]
    assert bins[4]["approval_rate"] == 0.5
    assert bins[9]["total"] == 1  # a confidence of 1.0 falls in the last bin


def test_an_unknown_agent_and_a_bad_glob_are_both_named(db):
    # when
    with pytest.raises(InvalidInput) as error:
        report_scope_build(period_start=DAY, period_end=DAY, agent="ghost", action_type="pay*ments")
    # then
    assert set(error.value.fields) == {"agent", "action_type"}
