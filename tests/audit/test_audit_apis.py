import pytest
from rest_framework.test import APIClient

from apps.audit.services import audit_checkpoint_create, audit_verification_record

pytestmark = pytest.mark.django_db


def as_principal(principal):
    client = APIClient()
    client.force_authenticate(user=principal)
    return client


def test_compliance_officer_pages_through_the_chain_after_a_seq(record_events, compliance_officer):
    # given
    record_events(5)
    client = as_principal(compliance_officer)
    # when
    first_page = client.get("/api/v1/audit/events/", {"after": 1, "limit": 2})
    second_page = client.get(first_page.json()["next"])
    # then
    assert first_page.status_code == 200
    assert [event["seq"] for event in first_page.json()["results"]] == [2, 3]
    assert [event["seq"] for event in second_page.json()["results"]] == [4, 5]
    assert second_page.json()["next"] is None
    event = first_page.json()["results"][0]
    assert event["data"] == {"amount": "500.00", "confidence": 0.8, "order": "A-1"}
    assert event["timestamp"].endswith("Z") and len(event["hash"]) == 64 and event["redacted"] is False


def test_bad_after_is_a_400(compliance_officer):
    # when
    response = as_principal(compliance_officer).get("/api/v1/audit/events/", {"after": "x"})
    # then
    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/audit/events/",
        "/api/v1/audit/verify/",
        "/api/v1/audit/checkpoints/",
        "/api/v1/audit/events/1/proof/",
        "/api/v1/audit/checkpoints/consistency/?first=1&second=1",
    ],
)
def test_outsider_and_agent_are_refused(path, record_events, outsider, agent):
    # given
    record_events(1)
    # when / then
    assert as_principal(outsider).get(path).status_code == 403
    assert as_principal(agent).get(path).status_code == 403


def test_anonymous_caller_is_refused(record_events):
    # when
    response = APIClient().get("/api/v1/audit/events/")
    # then
    assert response.status_code in (401, 403)


def test_verify_reports_an_intact_chain(record_events, compliance_officer):
    # given
    events = record_events(4)
    # when
    response = as_principal(compliance_officer).get("/api/v1/audit/verify/")
    # then
    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("ok", "events_checked", "head_seq", "head_hash", "first_bad_seq")} == {
        "ok": True,
        "events_checked": 4,
        "head_seq": 4,
        "head_hash": events[-1].hash,
        "first_bad_seq": None,
    }


def test_verify_reports_the_first_bad_seq(record_events, compliance_officer, tamper):
    # given
    record_events(4)
    tamper("UPDATE audit_event SET object_id = '99' WHERE seq = 2")
    # when
    body = as_principal(compliance_officer).get("/api/v1/audit/verify/").json()
    # then
    assert (body["ok"], body["first_bad_seq"]) == (False, 2)


def test_latest_checkpoint_is_open_to_any_authenticated_caller(record_events, outsider, agent):
    # given
    record_events(3)
    checkpoint = audit_checkpoint_create()
    # when
    responses = [as_principal(principal).get("/api/v1/audit/checkpoints/latest/") for principal in (outsider, agent)]
    # then
    for response in responses:
        assert response.status_code == 200
        assert response.json() == {
            "tree_size": checkpoint.tree_size,
            "root_hash": checkpoint.root_hash,
            "timestamp": response.json()["timestamp"],
            "signature": checkpoint.signature,
            "public_key": checkpoint.public_key,
        }


def test_latest_checkpoint_is_404_before_the_first(outsider):
    # when
    response = as_principal(outsider).get("/api/v1/audit/checkpoints/latest/")
    # then
    assert response.status_code == 404
    assert response.json()["error"] == {
        "status": 404,
        "code": "not_found",
        "message": "No checkpoint has been signed yet.",
        "fields": {},
    }


def test_verify_answers_from_the_last_full_run_plus_the_events_since(record_events, compliance_officer):
    # given
    record_events(6)
    run = audit_verification_record()
    record_events(2)
    # when
    body = as_principal(compliance_officer).get("/api/v1/audit/verify/").json()
    # then
    assert body["ok"] is True
    assert body["events_checked"] == run.events_checked + 2 == body["head_seq"]
    assert body["last_full_verification_at"] is not None
