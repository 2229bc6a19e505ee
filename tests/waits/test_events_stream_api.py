"""GET events/stream/: the agent's events as Server-Sent Events, resumed with Last-Event-ID."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from apps.agents.services import agent_create

from .conftest import EventStream, request

pytestmark = pytest.mark.slow


def test_the_stream_resumes_after_a_disconnect_without_losing_or_repeating_an_event(server, key, decide):
    before = [decide(), decide()]
    stream = EventStream(server, key)
    assert stream.response.status == 200
    assert stream.response.getheader("Content-Type").startswith("text/event-stream")
    seen = [stream.next_event(), stream.next_event()]
    with ThreadPoolExecutor(max_workers=1) as pool:
        live = pool.submit(stream.next_event)
        time.sleep(0.5)
        during = decide()
        seen.append(live.result(timeout=30))
    stream.close()

    away = [decide(), decide()]  # written while the client is away
    resumed = EventStream(server, key, last_event_id=seen[-1][0])
    seen += [resumed.next_event(), resumed.next_event()]

    proposals = [*before, during, *away]
    assert [(event_type, data["proposal"]["id"]) for _id, event_type, data in seen] == [
        ("proposal.decided", proposal.pk) for proposal in proposals
    ]
    assert [event_id for event_id, _type, data in seen] == [data["id"] for _id, _type, data in seen]
    assert len({event_id for event_id, _type, _data in seen}) == 5

    # Idle: keep-alive comments (EVENTS_KEEPALIVE_SECONDS=1 here), and nothing repeated.
    with ThreadPoolExecutor(max_workers=1) as pool:
        idle = pool.submit(resumed.next_event)
        time.sleep(2.5)
        assert ": keep-alive" in resumed.comments
        last = decide()
        assert idle.result(timeout=30)[2]["proposal"]["id"] == last.pk
    resumed.close()


def test_another_agents_events_never_appear_in_the_stream(server, key, decide):
    other, _other_key = agent_create(name="other-bot")
    decide(as_agent=other)
    mine = decide()
    decide(as_agent=other)
    stream = EventStream(server, key)
    assert stream.next_event()[2]["proposal"]["id"] == mine.pk
    with ThreadPoolExecutor(max_workers=1) as pool:
        following = pool.submit(stream.next_event)
        decide(as_agent=other)
        time.sleep(1.5)
        assert not following.done()
        last = decide()
        assert following.result(timeout=30)[2]["proposal"]["id"] == last.pk
    stream.close()


@pytest.mark.parametrize("last_event_id", ["not-an-id", "0b1f6a2e-5d4c-4a8b-9e3f-7c2d1a0b9e8f", "foreign"])
def test_a_bad_or_foreign_last_event_id_is_refused(server, key, decide, last_event_id):
    if last_event_id == "foreign":
        other, other_key = agent_create(name="other-bot")
        decide(as_agent=other)
        last_event_id = EventStream(server, other_key).next_event()[0]
    status, _headers, body = request(
        server, "GET", "/api/v1/events/stream/", key=key, headers={"Last-Event-ID": last_event_id}
    )
    assert status == 400
    assert body["error"]["status"] == 400 and "Last-Event-ID" in body["error"]["fields"]


def test_the_stream_ends_cleanly_when_the_server_shuts_down(server, key, decide):
    decide()
    stream = EventStream(server, key)
    assert stream.next_event() is not None
    with ThreadPoolExecutor(max_workers=1) as pool:
        ending = pool.submit(stream.next_event)
        time.sleep(0.5)
        stopped_in = server.stop()
        assert ending.result(timeout=30) is None
    assert stream.ended
    assert stopped_in < 8  # not the graceful timeout (10 s): the stream ended at once
