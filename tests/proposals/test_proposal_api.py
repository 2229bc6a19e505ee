"""The reviewer and integrator endpoints around a proposal: list, detail, decide, cancel,
execution, post-action review, wait."""

import threading
import time

import pytest
from django.db import connection

from apps.audit.models import AuditEvent
from apps.proposals.models import Decision, Status
from apps.proposals.services import proposal_decide

pytestmark = pytest.mark.django_db


def decisions_url(proposal):
    return f"/api/v1/proposals/{proposal.pk}/decisions/"


def test_reviewer_decides_through_the_api(client_for, submit, reviewer, password):
    proposal = submit(action_type="crm.update", payload={"customer": "C-1"})

    response = client_for(reviewer).post(
        decisions_url(proposal),
        {"verdict": "approve", "rationale": "Address verified.", "password": password},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["verdict"] == "approve" and body["reviewer"] == "reviewer"
    assert body["signature"]["meaning"] == "approved" and body["payload_version"] == proposal.payload_version
    assert "password" not in body
    proposal.refresh_from_db()
    assert proposal.status == Status.APPROVED


@pytest.mark.parametrize(
    "body, field",
    [
        ({"verdict": "approve", "rationale": ""}, "rationale"),
        ({"verdict": "approve"}, "rationale"),
        ({"verdict": "maybe", "rationale": "hmm"}, "verdict"),
        ({"verdict": "modify", "rationale": "changed"}, "payload"),
        ({"verdict": "approve", "rationale": "fine", "password": "wrong"}, "password"),
    ],
)
def test_bad_decisions_get_400_and_write_nothing(client_for, submit, reviewer, password, body, field):
    proposal = submit(blast_radius=5)
    events = AuditEvent.objects.count()
    response = client_for(reviewer).post(decisions_url(proposal), {"password": password} | body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    # a wrong password is the documented exception: the failed attempt itself is audited
    expected_events = events + (1 if field == "password" else 0)
    assert Decision.objects.count() == 0 and AuditEvent.objects.count() == expected_events


def test_decision_status_codes(client_for, agent_client, submit, reviewer, outsider, agent_owner, password):
    proposal = submit(blast_radius=5)
    body = {"verdict": "reject", "rationale": "not justified", "password": password}
    assert agent_client.post(decisions_url(proposal), body, format="json").status_code == 403
    assert client_for(outsider).post(decisions_url(proposal), body, format="json").status_code == 404
    assert client_for(agent_owner).post(decisions_url(proposal), body, format="json").status_code == 403
    assert client_for(reviewer).post(decisions_url(proposal), body, format="json").status_code == 201
    assert client_for(reviewer).post(decisions_url(proposal), body, format="json").status_code == 409
    assert client_for(reviewer).post("/api/v1/proposals/999999/decisions/", body, format="json").status_code == 404


def test_a_stale_payload_version_is_409(client_for, submit, reviewer, second_reviewer, password):
    proposal = submit(blast_radius=5)
    client_for(reviewer).post(
        decisions_url(proposal),
        {"verdict": "modify", "rationale": "smaller", "payload": {"amount": "1"}, "password": password},
        format="json",
    )
    response = client_for(second_reviewer).post(
        decisions_url(proposal),
        {"verdict": "approve", "rationale": "fine", "payload_version": proposal.payload_version, "password": password},
        format="json",
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "stale_payload"


def test_list_is_scoped_to_the_caller(client_for, agent_client, submit, reviewer, outsider, compliance_officer):
    from apps.agents.services import agent_create
    from apps.proposals.services import proposal_submit
    from tests.conftest import proposal_body

    finance = submit(blast_radius=5)
    support = submit(action_type="crm.update")
    other_agent, _key = agent_create(name="other-bot")
    foreign = proposal_submit(agent=other_agent, fields=proposal_body(blast_radius=5)).proposal

    def ids(client, query=""):
        response = client.get(f"/api/v1/proposals/{query}")
        assert response.status_code == 200
        return {item["id"] for item in response.json()["results"]}

    assert ids(agent_client) == {finance.pk, support.pk}
    assert ids(client_for(reviewer)) == {finance.pk, support.pk, foreign.pk}
    assert ids(client_for(outsider)) == set()
    assert ids(client_for(compliance_officer)) == {finance.pk, support.pk, foreign.pk}
    assert ids(agent_client, "?action_type=crm.update") == {support.pk}
    assert ids(agent_client, "?status=approved") == set()
    assert ids(agent_client, "?mode=pre_approval") == {finance.pk, support.pk}
    assert ids(agent_client, "?created_after=2999-01-01T00:00:00Z") == set()
    assert client_for(outsider).get(f"/api/v1/proposals/{finance.pk}/").status_code == 404
    other_client = agent_client.__class__()
    other_client.force_authenticate(user=other_agent)
    assert other_client.get(f"/api/v1/proposals/{finance.pk}/").status_code == 404


def test_a_bad_filter_is_400(agent_client, policy):
    response = agent_client.get("/api/v1/proposals/?status=unknown")
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_agent_cancels_a_pending_proposal_only(agent_client, submit):
    pending = submit(blast_radius=5)
    response = agent_client.post(
        f"/api/v1/proposals/{pending.pk}/cancel/", {"reason": "customer withdrew"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert agent_client.post(f"/api/v1/proposals/{pending.pk}/cancel/", {}, format="json").status_code == 409
    assert AuditEvent.objects.filter(action="proposal.cancelled").count() == 1


def test_a_reviewer_may_not_cancel(client_for, submit, reviewer):
    pending = submit(blast_radius=5)
    assert client_for(reviewer).post(f"/api/v1/proposals/{pending.pk}/cancel/", {}, format="json").status_code == 403


def test_execution_is_reported_once_for_an_approved_proposal(agent_client, submit):
    pending = submit(blast_radius=5)
    assert (
        agent_client.post(
            f"/api/v1/proposals/{pending.pk}/execution/", {"status": "succeeded"}, format="json"
        ).status_code
        == 409
    )
    approved = submit(confidence=0.99)
    url = f"/api/v1/proposals/{approved.pk}/execution/"
    response = agent_client.post(url, {"status": "succeeded", "detail": {"refund": "re_1"}}, format="json")
    assert response.status_code == 200
    assert response.json()["execution"]["status"] == "succeeded"
    assert response.json()["review"] is None  # autonomous: no post-action sampling
    assert agent_client.post(url, {"status": "failed"}, format="json").status_code == 409
    assert agent_client.post(url, {"status": "done"}, format="json").status_code == 400


def test_a_sampled_post_review_execution_is_confirmed_or_flagged(agent_client, client_for, submit, reviewer, password):
    reply = submit(action_type="support.reply", payload={"ticket": "T-1", "body": "Hello"})
    assert reply.status == Status.APPROVED and reply.mode == "post_review"
    body = agent_client.post(f"/api/v1/proposals/{reply.pk}/execution/", {"status": "succeeded"}, format="json").json()
    assert body["review"]["state"] == "queued"  # sample_rate 1.0

    response = client_for(reviewer).post(
        f"/api/v1/proposals/{reply.pk}/review/",
        {"verdict": "flag", "rationale": "Wrong tone.", "correction": {"body": "Dear customer"}, "password": password},
        format="json",
    )

    assert response.status_code == 200, response.content
    review = response.json()["review"]
    assert review["state"] == "flagged" and review["correction"] == {"body": "Dear customer"}
    assert AuditEvent.objects.filter(action="review.flagged").exists()
    again = client_for(reviewer).post(
        f"/api/v1/proposals/{reply.pk}/review/",
        {"verdict": "confirm", "rationale": "fine", "password": password},
        format="json",
    )
    assert again.status_code == 409


def test_an_unsampled_execution_is_not_reviewable(agent_client, client_for, submit, reviewer, password):
    note = submit(action_type="support.note", payload={"ticket": "T-2"})
    body = agent_client.post(f"/api/v1/proposals/{note.pk}/execution/", {"status": "succeeded"}, format="json").json()
    assert body["review"]["state"] == "not_sampled"
    response = client_for(reviewer).post(
        f"/api/v1/proposals/{note.pk}/review/",
        {"verdict": "confirm", "rationale": "fine", "password": password},
        format="json",
    )
    assert response.status_code == 404  # nothing was queued for review, so it is in no reviewer's scope


def test_wait_returns_the_current_state_after_the_timeout(agent_client, submit):
    pending = submit(blast_radius=5)
    started = time.monotonic()
    response = agent_client.get(f"/api/v1/proposals/{pending.pk}/wait/?timeout=0.3")
    assert response.status_code == 200 and response.json()["status"] == "pending"
    assert time.monotonic() - started >= 0.3


def test_wait_refuses_a_timeout_over_60(agent_client, submit):
    pending = submit(blast_radius=5)
    response = agent_client.get(f"/api/v1/proposals/{pending.pk}/wait/?timeout=61")
    assert response.status_code == 400 and "timeout" in response.json()["error"]["fields"]


@pytest.mark.django_db(transaction=True)
def test_wait_returns_as_soon_as_the_proposal_is_final(agent_client, submit, reviewer, password, settings):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("needs a database shared between threads; runs on PostgreSQL")
    pending = submit(action_type="crm.update")

    def decide_soon():
        time.sleep(0.5)
        proposal_decide(proposal_id=pending.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=password)
        connection.close()

    thread = threading.Thread(target=decide_soon)
    started = time.monotonic()
    thread.start()
    response = agent_client.get(f"/api/v1/proposals/{pending.pk}/wait/?timeout=20")
    thread.join()
    assert response.json()["status"] == "approved"
    assert time.monotonic() - started < 10
