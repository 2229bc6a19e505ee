"""HitlClient and AsyncHitlClient against a scripted platform: requests, error mapping, retries."""

import asyncio
import inspect

import httpx
import pytest
from hitlplatform_client import (
    AgentSuspended,
    ApprovalTimeout,
    AsyncHitlClient,
    Conflict,
    ConnectionFailed,
    Forbidden,
    HitlClient,
    IdempotencyKeyReused,
    NotChangesRequested,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    TooManyRevisions,
    Unauthorized,
    ValidationFailed,
)


def test_submit_sends_the_body_the_key_and_the_bearer(client_with, proposal_json):
    client, script = client_with((201, proposal_json()))
    proposal = client.submit(
        action_type="payments.refund",
        payload={"order_id": "A-1"},
        confidence=0.9,
        summary="Refund",
        irreversible=True,
        idempotency_key="refund:A-1",
    )
    request = script.requests[0]
    assert request.method == "POST"
    assert request.url == "http://hitl.test/api/v1/proposals/"
    assert request.headers["Authorization"] == "Bearer agent-key"
    assert request.headers["Idempotency-Key"] == "refund:A-1"
    assert script.bodies()[0] == {
        "action_type": "payments.refund",
        "payload": {"order_id": "A-1"},
        "confidence": 0.9,
        "summary": "Refund",
        "irreversible": True,
    }
    assert proposal.id == 1 and proposal.status == "pending" and not proposal.is_final


def test_submit_without_a_key_still_sends_one(client_with, proposal_json):
    client, script = client_with((201, proposal_json()))
    client.submit(action_type="x.y", payload={}, confidence=0.5)
    assert len(script.requests[0].headers["Idempotency-Key"]) == 32


@pytest.mark.parametrize(
    ("status", "code", "exception"),
    [
        (400, "invalid", ValidationFailed),
        (401, "not_authenticated", Unauthorized),
        (403, "permission_denied", Forbidden),
        (403, "agent_suspended", AgentSuspended),
        (404, "not_found", NotFound),
        (409, "final", Conflict),
        (409, "idempotency_key_reused", IdempotencyKeyReused),
        (409, "not_changes_requested", NotChangesRequested),
        (409, "too_many_revisions", TooManyRevisions),
        (413, "too_large", PayloadTooLarge),
        (500, "error", ServerError),
    ],
)
def test_the_error_shape_maps_to_exceptions(client_with, status, code, exception, error_json):
    client, _script = client_with((status, error_json(status, code, "nope", {"confidence": ["bad"]})))
    with pytest.raises(exception) as raised:
        client.get(1)
    assert raised.value.status == status
    assert raised.value.code == code
    assert raised.value.message == "nope"
    assert raised.value.fields == {"confidence": ["bad"]}


def test_a_non_json_error_still_maps(client_with):
    client, _ = client_with(lambda request: httpx.Response(404, text="<html>"))
    with pytest.raises(NotFound):
        client.get(1)


def test_a_retry_after_429_reuses_the_idempotency_key_and_honours_retry_after(
    client_with, sleeps, proposal_json, error_json
):
    client, script = client_with(
        (429, error_json(429, "throttled"), {"Retry-After": "7"}),
        (503, error_json(503, "unavailable"), {"Retry-After": "2"}),
        (201, proposal_json()),
    )
    client.submit(action_type="x.y", payload={"a": 1}, confidence=0.5)
    keys = {request.headers["Idempotency-Key"] for request in script.requests}
    assert len(script.requests) == 3 and len(keys) == 1
    assert script.bodies()[0] == script.bodies()[2]
    assert 7 <= sleeps[0] < 7.5
    assert 2 <= sleeps[1] < 3.5


def test_connection_errors_are_retried_with_jittered_backoff(client_with, sleeps, proposal_json):
    client, script = client_with(
        httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), (201, proposal_json()), backoff=1.0
    )
    client.submit(action_type="x.y", payload={}, confidence=0.5, idempotency_key="k1")
    assert [request.headers["Idempotency-Key"] for request in script.requests] == ["k1", "k1", "k1"]
    assert 0 <= sleeps[0] <= 1.0 and 0 <= sleeps[1] <= 2.0


def test_retries_give_up_with_the_last_error(client_with, sleeps, error_json):
    client, script = client_with((429, error_json(429, "throttled"), {"Retry-After": "1"}), max_retries=2)
    with pytest.raises(RateLimited) as raised:
        client.get(1)
    assert len(script.requests) == 3
    assert raised.value.retry_after == 1.0


def test_an_unreachable_platform_raises_connection_failed(client_with):
    client, _ = client_with(httpx.ConnectError("refused"), max_retries=1)
    with pytest.raises(ConnectionFailed):
        client.get(1)


def test_a_400_is_not_retried(client_with, proposal_json, error_json):
    client, script = client_with((400, error_json(400, "invalid")), (201, proposal_json()))
    with pytest.raises(ValidationFailed):
        client.submit(action_type="x.y", payload={}, confidence=5)
    assert len(script.requests) == 1


def test_wait_final_keeps_long_polling_until_final(client_with, proposal_json):
    client, script = client_with(
        (200, proposal_json()), (200, proposal_json()), (200, proposal_json(status="approved", final_payload={"a": 2}))
    )
    proposal = client.wait_final(1)
    assert proposal.is_approved and proposal.final_payload == {"a": 2}
    assert [request.url.params["timeout"] for request in script.requests] == ["60", "60", "60"]
    assert all(request.url.path == "/api/v1/proposals/1/wait/" for request in script.requests)


def test_wait_final_raises_approval_timeout_at_the_deadline_carrying_the_id(client_with, proposal_json):
    client, script = client_with((200, proposal_json(id=42)))
    with pytest.raises(ApprovalTimeout) as raised:
        client.wait_final(42, deadline=0)
    assert raised.value.proposal_id == 42
    assert script.requests[0].url.params["timeout"] == "0"


def test_wait_asks_no_more_than_sixty_seconds_and_reads_longer(client_with, proposal_json):
    client, script = client_with((200, proposal_json()))
    client.wait(1, timeout=600)
    assert script.requests[0].url.params["timeout"] == "60"
    assert script.requests[0].extensions["timeout"]["read"] == 90


def test_every_agent_endpoint_has_its_path(client_with, proposal_json):
    simulation = {"mode": "autonomous", "rule": "small", "queue": None, "approvals_required": 1, "policy_version": 3}
    event = {"id": "e1", "type": "proposal.decided", "proposal": proposal_json(status="approved")}
    decision = {"id": 5, "verdict": "approve", "rationale": "fine", "reviewer": "r", "payload": None}
    client, script = client_with(
        (200, {"count": 1, "next": None, "previous": None, "results": [proposal_json()]}),
        (200, proposal_json(status="cancelled")),
        (200, proposal_json(status="approved", execution={"status": "succeeded", "detail": {}})),
        (200, simulation),
        (200, [event]),
        (201, decision),
        (201, proposal_json(id=2, revision_of=1, revision=1)),
    )
    assert client.list(status="pending", action_type="payments.*").results[0].id == 1
    assert client.cancel(1, "not needed").status == "cancelled"
    assert client.report_execution(1, "succeeded", {"ref": "r1"}).execution["status"] == "succeeded"
    assert client.simulate(action_type="x.y", payload={}, confidence=1).mode == "autonomous"
    assert client.events(after="e0", timeout=5)[0].proposal.status == "approved"
    assert client.decide(1, verdict="approve", rationale="fine", password="pw").verdict == "approve"
    revision = client.revise(1, payload={"a": 1}, action_type="x.y", confidence=0.5, idempotency_key="rev-1")
    assert revision.revision_of == 1
    paths = [(request.method, request.url.path) for request in script.requests]
    assert paths == [
        ("GET", "/api/v1/proposals/"),
        ("POST", "/api/v1/proposals/1/cancel/"),
        ("POST", "/api/v1/proposals/1/execution/"),
        ("POST", "/api/v1/policies/simulate/"),
        ("GET", "/api/v1/events/"),
        ("POST", "/api/v1/proposals/1/decisions/"),
        ("POST", "/api/v1/proposals/1/revisions/"),
    ]
    assert dict(script.requests[0].url.params) == {"status": "pending", "action_type": "payments.*"}
    assert dict(script.requests[4].url.params) == {"after": "e0", "timeout": "5"}
    assert script.requests[6].headers["Idempotency-Key"] == "rev-1"
    assert script.bodies()[5] == {"verdict": "approve", "rationale": "fine", "password": "pw"}


def test_events_accepts_a_page_as_well_as_a_list(client_with, proposal_json):
    event = {"id": "e1", "type": "proposal.expired", "proposal": proposal_json(status="expired")}
    client, _ = client_with((200, {"results": [event], "next": None}))
    assert [one.type for one in client.events()] == ["proposal.expired"]


def test_stream_events_parses_sse_and_resumes_from_the_last_id(client_with, proposal_json):
    event = '{"id": "e2", "type": "proposal.decided", "proposal": %s}'
    import json

    body = (
        ": keep-alive\n\n"
        f"id: e1\nevent: proposal.decided\ndata: {event.replace('e2', 'e1') % json.dumps(proposal_json())}\n\n"
        f"id: e2\ndata: {event % json.dumps(proposal_json(id=2))}\n\n"
    )
    client, script = client_with(
        lambda request: httpx.Response(200, text=body, headers={"Content-Type": "text/event-stream"}),
    )
    stream = client.stream_events(last_event_id="e0")
    first, second = next(stream), next(stream)
    assert (first.id, second.id, second.proposal.id) == ("e1", "e2", 2)
    third = next(stream)  # the server closed the stream: reconnect from e2
    assert third.id == "e1"
    assert script.requests[0].headers["Last-Event-ID"] == "e0"
    assert script.requests[1].headers["Last-Event-ID"] == "e2"


def test_the_async_client_behaves_the_same(async_client_with, sleeps, proposal_json, error_json):
    client, script = async_client_with(
        (429, error_json(429, "throttled"), {"Retry-After": "3"}),
        (201, proposal_json()),
        (200, proposal_json()),
        (
            200,
            proposal_json(
                status="rejected", decisions=[{"id": 1, "verdict": "reject", "rationale": "no", "reviewer": "r"}]
            ),
        ),
        (409, error_json(409, "not_pending")),
    )

    async def scenario():
        proposal = await client.submit(action_type="x.y", payload={}, confidence=0.5, idempotency_key="k")
        final = await client.wait_final(proposal.id, deadline=30)
        with pytest.raises(Conflict) as raised:
            await client.cancel(proposal.id)
        return final, raised.value

    final, conflict = asyncio.run(scenario())
    assert final.status == "rejected" and final.rationale == "no"
    assert conflict.code == "not_pending"
    assert [request.headers.get("Idempotency-Key") for request in script.requests[:2]] == ["k", "k"]
    assert 3 <= sleeps[0] < 3.5


def test_async_deadline_raises_approval_timeout(async_client_with, proposal_json):
    client, _ = async_client_with((200, proposal_json(id=9)))
    with pytest.raises(ApprovalTimeout) as raised:
        asyncio.run(client.wait_final(9, deadline=0))
    assert raised.value.proposal_id == 9


def test_retry_after_as_an_http_date(client_with, sleeps, proposal_json, error_json):
    client, _ = client_with(
        (503, error_json(503, "unavailable"), {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), (200, proposal_json())
    )
    client.get(1)
    assert sleeps[0] < 1  # a date in the past: no wait beyond the jitter


def test_the_async_client_has_the_same_methods_awaitable():
    public = {name for name in dir(HitlClient) if not name.startswith("_")} - {"close"}
    assert public == {name for name in dir(AsyncHitlClient) if not name.startswith("_")} - {"aclose"}
    for name in public:
        blocking, awaitable = getattr(HitlClient, name), getattr(AsyncHitlClient, name)
        assert inspect.signature(blocking).parameters == inspect.signature(awaitable).parameters, name
        assert inspect.iscoroutinefunction(awaitable) or inspect.isasyncgenfunction(awaitable), name
        assert not str(inspect.signature(blocking).return_annotation).startswith("Plan["), name
