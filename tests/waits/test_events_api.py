"""GET events/: the agent's webhook events by long-poll, on the production server."""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from apps.accounts.services import token_create
from apps.agents.services import agent_create
from apps.notifications.models import Channel, OutboxMessage

from .conftest import request

pytestmark = pytest.mark.slow


def events(server, key, query=""):
    status, _headers, body = request(server, "GET", f"/api/v1/events/?{query}", key=key)
    assert status == 200, body
    return body


def test_events_come_oldest_first_once_each_with_the_webhooks_ids_and_bodies(server, key, decide):
    first, second, third = decide(), decide(verdict="reject"), decide()

    everything = events(server, key, "timeout=0")
    assert [(event["type"], event["proposal"]["id"]) for event in everything] == [
        ("proposal.decided", first.pk),
        ("proposal.decided", second.pk),
        ("proposal.decided", third.pk),
    ]
    assert [event["proposal"]["status"] for event in everything] == ["approved", "rejected", "approved"]
    webhooks = {
        str(message.event_id): json.loads(message.body)
        for message in OutboxMessage.objects.filter(channel=Channel.WEBHOOK)
    }
    assert everything == [webhooks[event["id"]] for event in everything]

    assert events(server, key, f"after={everything[0]['id']}&timeout=0") == everything[1:]
    assert events(server, key, f"after={everything[2]['id']}&timeout=0") == []


def test_an_agent_without_a_callback_url_reads_its_events_too(server, decide):
    bot, bot_key = agent_create(name="notebook-bot")
    proposal = decide(as_agent=bot)
    assert [event["proposal"]["id"] for event in events(server, bot_key, "timeout=0")] == [proposal.pk]


def test_the_long_poll_answers_when_an_event_commits(server, key, decide):
    seen = events(server, key, "timeout=0")
    assert seen == []
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        poll = pool.submit(request, server, "GET", "/api/v1/events/?timeout=30", key=key)
        time.sleep(0.5)
        proposal = decide()
        status, _headers, body = poll.result(timeout=40)
    assert status == 200
    assert [event["proposal"]["id"] for event in body] == [proposal.pk]
    assert time.monotonic() - started < 10


def test_the_long_poll_answers_an_empty_list_at_its_timeout(server, key):
    started = time.monotonic()
    assert events(server, key, "timeout=1") == []
    assert time.monotonic() - started >= 1


def test_another_agents_events_never_appear(server, key, decide, submit):
    other, other_key = agent_create(name="other-bot")
    mine = decide()
    theirs = decide(as_agent=other)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Another agent's event while mine long-polls does not answer it.
        poll = pool.submit(request, server, "GET", f"/api/v1/events/?timeout=2&after={_ids(server, key)[-1]}", key=key)
        time.sleep(0.5)
        decide(as_agent=other)
        status, _headers, body = poll.result(timeout=30)
    assert status == 200 and body == []
    assert [event["proposal"]["id"] for event in events(server, key, "timeout=0")] == [mine.pk]
    theirs_seen = [event["proposal"]["id"] for event in events(server, other_key, "timeout=0")]
    assert len(theirs_seen) == 2 and theirs_seen[0] == theirs.pk and mine.pk not in theirs_seen


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("timeout=-1", "timeout"),
        ("timeout=abc", "timeout"),
        ("timeout=61", "timeout"),
        ("after=42", "after"),
        ("after=0b1f6a2e-5d4c-4a8b-9e3f-7c2d1a0b9e8f", "after"),  # an id nobody issued
    ],
)
def test_bad_input_is_refused_in_the_one_error_shape(server, key, query, field):
    status, _headers, body = request(server, "GET", f"/api/v1/events/?{query}", key=key)
    assert status == 400
    assert body["error"]["status"] == 400 and body["error"]["code"] == "invalid"
    assert field in body["error"]["fields"]


def test_another_agents_event_id_is_refused(server, key, decide):
    other, other_key = agent_create(name="other-bot")
    decide(as_agent=other)
    foreign = _ids(server, other_key)[0]
    status, _headers, body = request(server, "GET", f"/api/v1/events/?after={foreign}&timeout=0", key=key)
    assert status == 400 and "after" in body["error"]["fields"]


def test_events_are_for_agents(server, reviewer):
    status, _headers, body = request(server, "GET", "/api/v1/events/?timeout=0")
    assert status == 401 and body["error"]["status"] == 401
    _token, token = token_create(user=reviewer)
    status, _headers, body = request(server, "GET", "/api/v1/events/?timeout=0", key=token)
    assert status == 403 and body["error"]["code"] == "permission_denied"


def _ids(server, key):
    return [event["id"] for event in events(server, key, "timeout=0")]
