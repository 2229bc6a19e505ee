"""One definition per figure: the signed report, the Insights API and the review app's agent
record compute each shared figure through `apps.proposals.figures` and agree on one dataset."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from apps.proposals import figures
from apps.reports.controls.facts import PeriodFacts
from apps.reports.selectors import ReportScope, report_exceptions, report_summary
from apps.review.selectors import agent_record

SHARED_RATES = ("approval_rate", "modification_rate", "rejection_rate", "redirect_rate", "expiry_rate")


@pytest.fixture
def refunds_of_one_agent(make_proposal):
    """One agent, one action type, every closed outcome, plus a pending and a cancelled one."""
    made = [
        make_proposal(decided_after=timedelta(seconds=60)),
        make_proposal(decided_after=timedelta(seconds=300)),
        make_proposal(decided_after=timedelta(seconds=90), revised_payload={"order": "A-1", "amount": "1.00"}),
        make_proposal(status="rejected", decided_after=timedelta(seconds=600)),
        make_proposal(status="rejected", decided_after=timedelta(seconds=30)),
        make_proposal(status="changes_requested", decided_after=timedelta(seconds=45)),
        make_proposal(status="expired", decided_after=timedelta(hours=2)),
        make_proposal(status="approved", approved_by="policy", decided_after=timedelta(hours=3)),
        make_proposal(status="pending", decided_after=None),
        make_proposal(status="cancelled"),
    ]
    return made


def test_report_insights_api_and_agent_record_show_the_same_figures(
    refunds_of_one_agent, client_for, compliance_officer
):
    today = timezone.now().date()
    report = report_summary(ReportScope(today - timedelta(days=3), today))
    response = client_for(compliance_officer).get("/api/v1/insights/figures/", {"window": "30"})
    (insights,) = response.json()["groups"]
    record = agent_record(proposal=refunds_of_one_agent[0])

    # 3 approved (1 modified), 2 rejected, 1 sent back, 2 expired (1 approved on expiry) of 8 closed
    expected = {
        "approval_rate": 3 / 8,
        "modification_rate": 1 / 8,
        "rejection_rate": 2 / 8,
        "redirect_rate": 1 / 8,
        "expiry_rate": 2 / 8,
    }
    for name in SHARED_RATES:
        assert report[name] == pytest.approx(expected[name]), name
        assert insights[name] == pytest.approx(expected[name]), name
        assert record[name] == pytest.approx(expected[name]), name
    # nearest rank over 30, 45, 60, 90, 300, 600 seconds: the 3rd of 6 is 60, the 6th 600
    assert report["median_seconds"] == pytest.approx(60, abs=0.01)
    assert report["p95_seconds"] == pytest.approx(600, abs=0.01)
    assert insights["time_to_decision_p50"] == pytest.approx(report["median_seconds"], abs=0.01)
    assert insights["time_to_decision_p95"] == pytest.approx(report["p95_seconds"], abs=0.01)


@pytest.mark.parametrize("name", SHARED_RATES)
def test_the_report_prints_each_rates_docstring_as_its_definition(name):
    docstring = " ".join(getattr(figures, name).__doc__.split())
    assert str(figures.FIGURE_DEFINITIONS[name]) == docstring


def test_the_time_to_decision_definition_is_its_docstring():
    docstring = " ".join(figures.time_to_decision_percentile.__doc__.split())
    assert str(figures.FIGURE_DEFINITIONS["time_to_decision"]) == docstring


def test_nothing_to_divide_is_unknown_not_zero():
    assert figures.closed_outcome_rates(approved=0, modified=0, rejected=0, expired=0) == dict.fromkeys(SHARED_RATES)


def test_the_report_and_its_controls_call_the_same_proposals_high_risk(make_proposal, settings):
    """A wide blast radius alone makes a proposal high-risk in the report's exceptions and in the
    control "high-risk proposals without a human" alike (the control once left it out)."""
    settings.REPORT_HIGH_RISK_BLAST_RADIUS = 50
    reversible_low = {"compliance_exposure": "low", "irreversible": False}
    make_proposal(status="rejected", blast_radius=50, **reversible_low)
    make_proposal(status="rejected", blast_radius=49, **reversible_low)
    make_proposal(status="rejected", blast_radius=1, compliance_exposure="high", irreversible=False)
    make_proposal(rule=None, mode="autonomous", blast_radius=50, **reversible_low)
    make_proposal(rule=None, mode="autonomous", blast_radius=49, **reversible_low)
    make_proposal(rule=None, mode="autonomous", blast_radius=1, compliance_exposure="low", irreversible=True)
    today = timezone.now().date()
    scope = ReportScope(today - timedelta(days=3), today)

    assert report_summary(scope)["rejected_high_risk"] == 2
    assert report_exceptions(scope)["rejected_high_risk"]["count"] == 2
    assert PeriodFacts(scope).proposals["autonomous_high_risk"] == 2
    settings.REPORT_HIGH_RISK_BLAST_RADIUS = 1000
    with translation.override("de"):
        assert figures.high_risk_definition() == (
            "Hohes Risiko heißt: hohes Compliance-Risiko, unumkehrbar oder 1.000 oder mehr Betroffene."
        )
