"""A restart of the server while agents wait: they answer at once, reconnect, and miss nothing."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from apps.proposals.services import proposal_decide

from .conftest import EventStream, request

pytestmark = pytest.mark.slow


def test_waiters_and_streams_reconnect_after_a_restart_and_miss_nothing(server, key, submit, reviewer, password):
    pending = submit(action_type="crm.update")
    seen_before = submit(action_type="crm.update")
    proposal_decide(proposal_id=seen_before.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=password)
    stream = EventStream(server, key)
    last_event_id, _type, _data = stream.next_event()

    with ThreadPoolExecutor(max_workers=2) as pool:
        waiter = pool.submit(request, server, "GET", f"/api/v1/proposals/{pending.pk}/wait/?timeout=60", key=key)
        ending = pool.submit(stream.next_event)
        time.sleep(1)
        stopped_in = server.stop()
        status, _headers, body = waiter.result(timeout=30)
        assert ending.result(timeout=30) is None  # the stream ended
    assert status == 200 and body["status"] == "pending"  # the waiter answered with what it knew
    assert stopped_in < 8

    # Decided while the server is down.
    proposal_decide(proposal_id=pending.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=password)
    server.start()

    status, _headers, body = request(server, "GET", f"/api/v1/proposals/{pending.pk}/wait/?timeout=60", key=key)
    assert status == 200 and body["status"] == "approved"
    resumed = EventStream(server, key, last_event_id=last_event_id)
    event_id, event_type, data = resumed.next_event()
    assert (event_type, data["proposal"]["id"], data["id"]) == ("proposal.decided", pending.pk, event_id)
    status, _headers, events = request(server, "GET", f"/api/v1/events/?after={last_event_id}&timeout=0", key=key)
    assert [event["id"] for event in events] == [event_id]
    resumed.close()
