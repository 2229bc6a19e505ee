"""The /insights/ pages: charts, tables and the inbox for overseers; the blind QA page for seniors."""

import pytest
from django.test import Client

from apps.insights.models import Recommendation
from apps.insights.services import figures_store, qa_assign, recommendations_compute
from apps.policies.models import PolicyVersion
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def logged_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def open_recommendation(policy, make_proposal, settings, now):
    settings.INSIGHTS_MIN_SAMPLE, settings.INSIGHTS_RELAX_LOWER_BOUND = 30, 0.9
    for _ in range(40):
        make_proposal("contract-changes")
    make_proposal(status="rejected", confidence=0.3)
    (recommendation,) = recommendations_compute(now=now)
    return recommendation


def test_the_page_shows_charts_tables_and_the_inbox(compliance_officer, open_recommendation):
    response = logged_in(compliance_officer).get("/insights/", {"window": 7})

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") >= 4  # three bar charts and a calibration chart
    assert 'aria-current="page">7 days' in html
    assert "contract-changes" in html
    assert "100.0%" in html  # approval rate of the contract changes
    assert f"/insights/recommendations/{open_recommendation.pk}/dismiss/" in html
    assert f"/insights/recommendations/{open_recommendation.pk}/accept/" not in html  # only admins accept


def test_a_bad_window_falls_back_with_a_message(compliance_officer, policy):
    response = logged_in(compliance_officer).get("/insights/", {"window": 999})

    assert response.status_code == 200
    assert response.context["window"].days == 30


def test_the_page_is_for_overseers_only(reviewer, senior_reviewer, policy):
    assert logged_in(reviewer).get("/insights/").status_code == 403
    assert logged_in(senior_reviewer).get("/insights/").status_code == 403
    assert Client().get("/insights/").status_code == 302


def test_two_admins_through_the_inbox(admin, open_recommendation, staffed):
    second_admin = UserFactory(username="second_admin", role="admin")
    accept = f"/insights/recommendations/{open_recommendation.pk}/accept/"
    activate = f"/insights/recommendations/{open_recommendation.pk}/activate/"

    assert logged_in(admin).post(accept, {"note": "ok"}).status_code == 302
    logged_in(admin).post(activate)
    assert Recommendation.objects.get().state == "accepted"  # the drafter cannot activate
    page = logged_in(second_admin).get("/insights/").content.decode()
    assert activate in page
    logged_in(second_admin).post(activate)

    assert Recommendation.objects.get().state == "activated"
    assert PolicyVersion.objects.get(status="active").rules.get(name="contract-changes").mode == "post_review"


def test_the_qa_page_is_blind_and_signs(
    senior_reviewer, reviewer, compliance_officer, make_proposal, make_decision, password
):
    decision = make_decision(make_proposal(status="rejected"), reviewer, "reject", rationale="smells like fraud")
    assignment = qa_assign(decision_id=decision.pk, actor=compliance_officer)
    client = logged_in(senior_reviewer)

    listing = client.get("/insights/qa/")
    page = client.get(f"/insights/qa/{assignment.pk}/")
    wrong = client.post(f"/insights/qa/{assignment.pk}/", {"verdict": "reject", "rationale": "agree", "password": "x"})
    signed = client.post(
        f"/insights/qa/{assignment.pk}/", {"verdict": "reject", "rationale": "agree", "password": password}
    )

    assert f"/insights/qa/{assignment.pk}/" in listing.content.decode()
    html = page.content.decode()
    assert "smells like fraud" not in html and "Rejected" not in html
    assert "500.00" in html  # the payload as the first reviewer saw it
    assert wrong.status_code == 400
    assert signed.status_code == 302
    assignment.refresh_from_db()
    assert (assignment.state, assignment.agrees) == ("done", True)
    assert logged_in(reviewer).get("/insights/qa/").status_code == 403


def test_the_page_shows_the_nightly_figures_unless_asked_for_live_ones(compliance_officer, make_proposal, now):
    make_proposal()
    figures_store(now=now)
    make_proposal()  # after the nightly run
    client = logged_in(compliance_officer)

    nightly = client.get("/insights/", {"window": 30})
    live = client.get("/insights/", {"window": 30, "live": 1})

    assert nightly.context["computed_at"] == now
    assert [group["volume"] for group in nightly.context["groups"]] == [1]
    assert live.context["computed_at"] is None
    assert [group["volume"] for group in live.context["groups"]] == [2]
