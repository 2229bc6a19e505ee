"""The insights API: who may call it, bad input is 400, and the same figures as the selectors."""

import json

import pytest
from rest_framework.test import APIClient

from apps.insights.models import Recommendation
from apps.insights.services import qa_assign, recommendations_compute
from apps.policies.models import PolicyVersion
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_recommendation(policy, make_proposal, settings, now):
    settings.INSIGHTS_MIN_SAMPLE, settings.INSIGHTS_RELAX_LOWER_BOUND = 30, 0.9
    for _ in range(40):
        make_proposal("contract-changes")
    (recommendation,) = recommendations_compute(now=now)
    return recommendation


def test_figures_for_a_compliance_officer(client_for, compliance_officer, make_proposal, agent):
    make_proposal()
    make_proposal(status="rejected")

    response = client_for(compliance_officer).get("/api/v1/insights/figures/", {"window": 7, "agent": agent.name})

    assert response.status_code == 200
    body = response.json()
    assert body["window_days"] == 7
    (group,) = body["groups"]
    assert (group["agent"], group["rule"], group["volume"], group["approval_rate"]) == (agent.name, "refunds", 2, 0.5)


def test_figures_accept_an_agent_id(client_for, admin, make_proposal, agent):
    make_proposal()

    response = client_for(admin).get("/api/v1/insights/figures/", {"agent": str(agent.pk)})

    assert response.status_code == 200
    assert response.json()["groups"][0]["agent_id"] == agent.pk


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"agent": "no-such-agent"}, "agent"),
        ({"agent": "999999"}, "agent"),
        ({"window": 0}, "window"),
        ({"window": 366}, "window"),
        ({"window": "week"}, "window"),
    ],
)
def test_bad_figure_filters_are_400(client_for, compliance_officer, agent, params, field):
    response = client_for(compliance_officer).get("/api/v1/insights/figures/", params)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/insights/figures/",
        "/api/v1/insights/recommendations/",
        "/api/v1/insights/qa/",
        "/api/v1/insights/qa/agreement/",
        "/api/v1/insights/corrections/",
    ],
)
def test_reviewers_and_agents_are_refused(client_for, reviewer, agent_client, path):
    assert client_for(reviewer).get(path).status_code == 403
    assert agent_client.get(path).status_code == 403
    assert APIClient().get(path).status_code == 401


def test_list_accept_and_activate_through_the_api(client_for, admin, open_recommendation, compliance_officer, staffed):
    second_admin = UserFactory(username="second_admin", role="admin")
    listed = client_for(compliance_officer).get("/api/v1/insights/recommendations/", {"state": "open"}).json()
    assert [item["id"] for item in listed["results"]] == [open_recommendation.pk]
    url = f"/api/v1/insights/recommendations/{open_recommendation.pk}/"

    assert client_for(compliance_officer).post(url + "accept/", {}, format="json").status_code == 403
    accepted = client_for(admin).post(url + "accept/", {"note": "earned"}, format="json")
    assert accepted.status_code == 200
    assert (accepted.json()["state"], accepted.json()["draft_status"]) == ("accepted", "draft")
    assert client_for(admin).post(url + "activate/", {}, format="json").status_code == 403
    activated = client_for(second_admin).post(url + "activate/", {}, format="json")

    assert activated.status_code == 200
    assert activated.json()["state"] == "activated"
    assert PolicyVersion.objects.get(status="active").number == accepted.json()["draft_version"]


def test_dismiss_through_the_api(client_for, compliance_officer, open_recommendation):
    url = f"/api/v1/insights/recommendations/{open_recommendation.pk}/dismiss/"

    response = client_for(compliance_officer).post(url, {"note": "seasonal"}, format="json")

    assert response.status_code == 200
    assert Recommendation.objects.get().state == "dismissed"
    assert client_for(compliance_officer).post(url, {}, format="json").status_code == 409


def test_bad_recommendation_state_is_400_and_unknown_id_404(client_for, compliance_officer, admin):
    assert (
        client_for(compliance_officer).get("/api/v1/insights/recommendations/", {"state": "maybe"}).status_code == 400
    )
    assert client_for(admin).post("/api/v1/insights/recommendations/999/accept/", {}, format="json").status_code == 404


def test_qa_through_the_api_is_blind(
    client_for, compliance_officer, senior_reviewer, reviewer, make_proposal, make_decision
):
    proposal = make_proposal(status="approved", revised_payload={"order": "A-1", "amount": "1.00"})
    decision = make_decision(proposal, reviewer, "modify", rationale="too much")

    created = client_for(compliance_officer).post("/api/v1/insights/qa/", {"decision": decision.pk}, format="json")
    assert created.status_code == 201
    items = client_for(senior_reviewer).get("/api/v1/insights/qa/open/").json()["results"]

    (item,) = items
    text = json.dumps(item)
    assert item["proposal"]["payload"] == {"order": "A-1", "amount": "500.00"}  # what the first reviewer started from
    assert "modify" not in text and "too much" not in text and "1.00" not in text and "reviewer" not in text
    assert client_for(reviewer).get("/api/v1/insights/qa/open/").status_code == 403

    reviewed = client_for(senior_reviewer).post(
        f"/api/v1/insights/qa/{item['id']}/review/",
        {"verdict": "modify", "rationale": "agree, too much", "password": "correct-horse-battery-staple"},
        format="json",
    )
    assert reviewed.status_code == 200
    assert reviewed.json()["agrees"] is True
    agreement = client_for(compliance_officer).get("/api/v1/insights/qa/agreement/", {"window": 7}).json()
    assert agreement["by_reviewer"] == [{"reviewer": "reviewer", "reviews": 1, "agreed": 1, "agreement_rate": 1.0}]


def test_qa_bad_input(client_for, compliance_officer, senior_reviewer, make_proposal, make_decision, reviewer):
    assignment = qa_assign(decision_id=make_decision(make_proposal(), reviewer).pk, actor=compliance_officer)

    assert (
        client_for(compliance_officer).post("/api/v1/insights/qa/", {"decision": 999}, format="json").status_code == 400
    )
    assert client_for(compliance_officer).get("/api/v1/insights/qa/agreement/", {"window": 400}).status_code == 400
    wrong = client_for(senior_reviewer).post(
        f"/api/v1/insights/qa/{assignment.pk}/review/",
        {"verdict": "maybe", "rationale": "x", "password": "p"},
        format="json",
    )
    assert wrong.status_code == 400
