"""Input limits, checked before any work: every such input is a 400 in the one error shape and
writes nothing (no rows, no audit events). These were 500s (issue 12, "Why" 4 and 6)."""

import json

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.proposals.models import Decision, IdempotencyRecord, Proposal
from apps.proposals.services import proposal_report_execution
from hitlplatform.ids import id_parse
from hitlplatform.jsonlimits import JsonLimitError, json_loads_limited
from tests.conftest import proposal_body
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

DEEP = "[" * 1200 + "]" * 1200
BIG_INT = str(2**53)


def assert_refused(response, before, world_state, status=400):
    assert response.status_code == status, response.content[:300]
    error = response.json()["error"]
    assert set(error) == {"status", "code", "message", "fields"} and error["status"] == status
    assert world_state() == before
    return error


def post_raw(client, url, text, **headers):
    return client.post(url, data=text, content_type="application/json", **headers)


def body_with(payload_text: str) -> str:
    """A submission body whose payload is the given raw JSON text."""
    body = json.dumps({**proposal_body(), "payload": "__PAYLOAD__"})
    return body.replace('"__PAYLOAD__"', payload_text)


@pytest.mark.parametrize(
    "payload_text",
    [
        '{"deep": ' + DEEP + "}",
        '{"n": ' + BIG_INT + "}",
        '{"n": -' + BIG_INT + "}",
        '{"n": 1e400}',
        '{"n": NaN}',
        '{"n": Infinity}',
        '{"n": ' + "9" * 5000 + "}",
        '{"text": "a\\u0000b"}',
        '{"\\u0000": 1}',
        '{"text": "\\ud800"}',
    ],
    ids=[
        "deep",
        "int-above",
        "int-below",
        "float-overflow",
        "nan",
        "infinity",
        "huge-digits",
        "nul",
        "nul-key",
        "surrogate",
    ],
)
def test_submissions_outside_the_json_limits_are_400(agent_client, policy, world_state, payload_text):
    before = world_state()
    response = post_raw(agent_client, "/api/v1/proposals/", body_with(payload_text), HTTP_IDEMPOTENCY_KEY="k-1")
    assert_refused(response, before, world_state)
    assert not IdempotencyRecord.objects.exists()


def test_the_limits_hold_the_edges_that_are_allowed(agent_client, policy):
    payload = '{"max": ' + str(2**53 - 1) + ', "min": -' + str(2**53 - 1) + ', "nest": ' + "[" * 60 + "]" * 60 + "}"
    response = post_raw(agent_client, "/api/v1/proposals/", body_with(payload), HTTP_IDEMPOTENCY_KEY="edge")
    assert response.status_code == 201, response.content[:300]


def test_a_too_long_idempotency_key_is_refused_not_cut(agent_client, policy, world_state):
    before = world_state()
    response = post_raw(agent_client, "/api/v1/proposals/", json.dumps(proposal_body()), HTTP_IDEMPOTENCY_KEY="k" * 201)
    error = assert_refused(response, before, world_state)
    assert "Idempotency-Key" in error["fields"]
    ok = post_raw(agent_client, "/api/v1/proposals/", json.dumps(proposal_body()), HTTP_IDEMPOTENCY_KEY="k" * 200)
    assert ok.status_code == 201


@pytest.mark.parametrize(
    "bad", ['{"status": "succeeded", "detail": {"n": ' + BIG_INT + "}}", '{"detail": ' + DEEP + "}"]
)
def test_an_execution_report_outside_the_limits_is_400(agent_client, submit, world_state, bad):
    proposal = submit(payload={"order": "A-9", "amount": "1.00"}, confidence=0.95)  # autonomous: approved
    before = world_state()
    response = post_raw(agent_client, f"/api/v1/proposals/{proposal.pk}/execution/", bad)
    assert_refused(response, before, world_state)
    proposal.refresh_from_db()
    assert proposal.execution_status == ""


def test_a_decision_with_a_deep_or_huge_modification_is_400(client_for, reviewer, submit, world_state):
    proposal = submit(blast_radius=5)
    client = client_for(reviewer)
    for payload in ['{"n": ' + BIG_INT + "}", DEEP]:
        before = world_state()
        text = '{"verdict": "modify", "rationale": "fix", "password": "' + PASSWORD + '", "payload": ' + payload + "}"
        response = post_raw(client, f"/api/v1/proposals/{proposal.pk}/decisions/", text)
        assert_refused(response, before, world_state)
    assert Decision.objects.count() == 0


def test_a_flag_correction_outside_the_limits_is_400(client_for, reviewer, submit, agent, world_state):
    reply = submit(action_type="support.reply", payload={"text": "hi"})
    proposal_report_execution(proposal_id=reply.pk, agent=agent, status="succeeded", detail={})
    before = world_state()
    text = '{"verdict": "flag", "rationale": "wrong", "password": "' + PASSWORD + '", "correction": {"n": 1e400}}'
    response = post_raw(client_for(reviewer), f"/api/v1/proposals/{reply.pk}/review/", text)
    assert_refused(response, before, world_state)


def test_simulate_refuses_deep_json(agent_client, policy, world_state):
    before = world_state()
    response = post_raw(agent_client, "/api/v1/policies/simulate/", body_with(DEEP))
    assert_refused(response, before, world_state)


@pytest.mark.parametrize("path", ["decisions.csv", "decisions.jsonl", "audit.jsonl"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_exports_of_a_period_near_the_ends_of_the_calendar_are_400_before_the_audit_event(
    client_for, compliance_officer, world_state, path, day
):
    before = world_state()
    response = client_for(compliance_officer).get(f"/api/v1/exports/{path}", {"period_start": day, "period_end": day})
    error = assert_refused(response, before, world_state)
    assert "period_start" in error["fields"]
    assert not AuditEvent.objects.filter(action="report.exported").exists()


def test_a_report_request_near_year_9999_is_400(client_for, compliance_officer, world_state):
    before = world_state()
    response = client_for(compliance_officer).post(
        "/api/v1/reports/", {"period_start": "9999-12-30", "period_end": "9999-12-31"}, format="json"
    )
    assert_refused(response, before, world_state)


def test_the_compliance_audit_page_refuses_year_9999_without_a_500(compliance_officer):
    client = Client()
    client.force_login(compliance_officer)
    response = client.get("/compliance/audit/", {"until": "9999-12-31"})
    assert response.status_code == 200  # the form shows the error; nothing is filtered by it


@pytest.mark.parametrize("agent_ref", ["²", "١٢", "99999999999999999999999"])
def test_insights_agent_filter_with_unicode_digits_is_400(client_for, compliance_officer, policy, agent_ref):
    response = client_for(compliance_officer).get("/api/v1/insights/figures/", {"agent": agent_ref})
    assert response.status_code == 400
    assert "agent" in response.json()["error"]["fields"]


def test_the_batch_form_with_unicode_digits_is_400(reviewer, submit, world_state):
    proposal = submit(action_type="crm.update", payload={"customer": "C-1"})
    client = Client()
    client.force_login(reviewer)
    before = world_state()
    response = client.post(
        "/review/batch/",
        {
            "proposals": [str(proposal.pk), "²"],
            "verdict": "approve",
            "rationale": "fine",
            "username": "reviewer",
            "password": PASSWORD,
        },
    )
    assert response.status_code == 400
    assert world_state() == before and Decision.objects.count() == 0


def test_strict_ids():
    assert id_parse("12") == 12
    assert id_parse("²") is None and id_parse("١٢") is None and id_parse("-1") is None
    assert id_parse(str(2**63)) is None and id_parse(" 1") is None


def test_the_limited_loader_counts_depth_outside_strings_only():
    assert json_loads_limited('{"a": "[[[[[[[[[[[["}', max_depth=1) == {"a": "[[[[[[[[[[[["}
    with pytest.raises(JsonLimitError):
        json_loads_limited('{"a": [[1]]}', max_depth=2)


def test_a_big_deep_payload_renders_cut_with_a_download_link(reviewer, submit, settings):
    # given: stored before the parser's limits (services accept what the API no longer does)
    deep = current = []
    for _level in range(600):
        current.append([])
        current = current[0]
    proposal = submit(action_type="crm.update", payload={"deep": deep, "text": "x" * 50_000})
    client = Client()
    client.force_login(reviewer)
    # when
    response = client.get(f"/review/{proposal.pk}/")
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert len(html) < 400_000
    assert f"/review/{proposal.pk}/payload.json" in html
    download = client.get(f"/review/{proposal.pk}/payload.json")
    assert download.status_code == 200 and json.loads(download.content)["deep"] == deep
    assert Proposal.objects.count() == 1
