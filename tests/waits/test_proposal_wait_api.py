"""GET proposals/{id}/wait/ on the production server: woken by the decision, no thread per waiter."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from apps.proposals.services import proposal_decide
from tests.conftest import proposal_body

from .conftest import Waiters, request

pytestmark = pytest.mark.slow


def wait_url(proposal, timeout=60):
    return f"/api/v1/proposals/{proposal.pk}/wait/?timeout={timeout}"


def test_300_waiters_hear_the_decision_and_intake_keeps_its_speed(server, key, submit, reviewer, password):
    pending = submit(action_type="crm.update", payload={"customer": "C-1"})
    waiters = Waiters(server, wait_url(pending), key=key, count=300)
    waiters.wait_sent()
    time.sleep(2)  # the last of them reach the view and subscribe

    started = time.monotonic()
    status, _headers, submitted = request(
        server, "POST", "/api/v1/proposals/", key=key, body=proposal_body(action_type="crm.update"), timeout=10
    )
    submission_seconds = time.monotonic() - started
    assert status == 201, submitted
    assert submission_seconds < 1
    assert not waiters.answers

    proposal_decide(proposal_id=pending.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=password)
    answers = waiters.result()

    assert [status for status, _body in answers] == [200] * 300
    assert {body["status"] for _status, body in answers} == {"approved"}
    assert all(body["decisions"][0]["verdict"] == "approve" for _status, body in answers)


def test_a_waiter_on_one_proposal_is_not_woken_by_a_decision_on_another(server, key, submit, reviewer, password):
    waited_on = submit(action_type="crm.update", payload={"customer": "C-1"})
    other = submit(action_type="crm.update", payload={"customer": "C-2"})
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        waiter = pool.submit(request, server, "GET", wait_url(waited_on, timeout=3), key=key)
        time.sleep(0.5)
        proposal_decide(proposal_id=other.pk, reviewer=reviewer, verdict="reject", rationale="no", password=password)
        status, _headers, body = waiter.result(timeout=30)
    assert status == 200
    assert body["id"] == waited_on.pk and body["status"] == "pending"
    assert time.monotonic() - started >= 3


def test_a_final_proposal_answers_at_once_and_a_cancel_wakes_its_waiter(server, key, submit):
    autonomous = submit(confidence=0.97, payload={"order": "A-9", "amount": "5.00"})
    started = time.monotonic()
    status, headers, body = request(server, "GET", wait_url(autonomous), key=key)
    # the waiting handler's answers carry what every other API answer carries
    assert headers["X-Request-ID"] and "no-store" in headers["Cache-Control"]
    assert status == 200 and body["status"] == "approved"
    assert time.monotonic() - started < 2

    pending = submit(action_type="crm.update")
    with ThreadPoolExecutor(max_workers=1) as pool:
        waiter = pool.submit(request, server, "GET", wait_url(pending), key=key)
        time.sleep(0.5)
        status, _headers, _body = request(server, "POST", f"/api/v1/proposals/{pending.pk}/cancel/", key=key, body={})
        assert status == 200
        started = time.monotonic()
        status, _headers, body = waiter.result(timeout=30)
    assert body["status"] == "cancelled"
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("timeout", ["-1", "abc", "61"])
def test_a_bad_timeout_is_refused_in_the_one_error_shape(server, key, submit, timeout):
    pending = submit(action_type="crm.update")
    status, _headers, body = request(server, "GET", f"/api/v1/proposals/{pending.pk}/wait/?timeout={timeout}", key=key)
    assert status == 400
    assert body["error"]["status"] == 400 and body["error"]["code"] == "invalid"
    assert "timeout" in body["error"]["fields"]


def test_waiting_needs_a_key_and_sees_only_the_agents_own_proposals(server, key, submit):
    from apps.agents.services import agent_create

    pending = submit(action_type="crm.update")
    _other, other_key = agent_create(name="other-bot")

    status, headers, body = request(server, "GET", wait_url(pending, timeout=1))
    assert status == 401 and body["error"]["code"] == "not_authenticated"
    assert headers["WWW-Authenticate"] == "Bearer"
    status, _headers, body = request(server, "GET", wait_url(pending, timeout=1), key=other_key)
    assert status == 404 and body["error"]["code"] == "not_found"


def test_over_the_agents_cap_a_wait_gets_429_with_retry_after(start_server, key, submit):
    server = start_server(workers=1, WAIT_MAX_PER_AGENT=2)
    pending = submit(action_type="crm.update")
    with ThreadPoolExecutor(max_workers=2) as pool:
        waiters = [pool.submit(request, server, "GET", wait_url(pending, timeout=3), key=key) for _ in range(2)]
        time.sleep(1)
        status, headers, body = request(server, "GET", wait_url(pending, timeout=3), key=key)
        stream_status, _stream_headers, stream_body = request(server, "GET", "/api/v1/events/stream/", key=key)
        assert [waiter.result(timeout=30)[0] for waiter in waiters] == [200, 200]
    assert status == 429
    assert body["error"]["status"] == 429 and body["error"]["code"] == "too_many_waits"
    assert int(headers["Retry-After"]) > 0
    assert stream_status == 429 and stream_body["error"]["code"] == "too_many_waits"
    # The slots of finished waits are free again.
    assert request(server, "GET", wait_url(pending, timeout=0), key=key)[0] == 200


def test_a_waiter_whose_client_went_away_holds_nothing(start_server, key, submit):
    server = start_server(workers=1, WAIT_MAX_PER_AGENT=2)
    pending = submit(action_type="crm.update")
    for _ in range(3):
        gone = []
        for _ in range(2):
            client = socket.create_connection(("127.0.0.1", server.port))
            client.sendall(
                f"GET {wait_url(pending)} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
            )
            gone.append(client)
        time.sleep(1)
        assert request(server, "GET", wait_url(pending, timeout=0), key=key)[0] == 429  # both slots taken
        for client in gone:
            client.close()
        time.sleep(1)
    # Six waits came and went: their slots are free again.
    status, _headers, body = request(server, "GET", wait_url(pending, timeout=0), key=key)
    assert status == 200 and body["status"] == "pending"
