"""The SDK's waiting calls against the production server (gunicorn with uvicorn workers), where
Server-Sent Events are served as they are deployed; pytest-django's live server is WSGI-only."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.requirements import require_module


@pytest.fixture
def sdk_client(server, key):
    hitlplatform_client = require_module("hitlplatform_client")
    with hitlplatform_client.HitlClient(f"http://127.0.0.1:{server.port}", api_key=key) as client:
        yield client


def test_the_sdk_streams_events_and_resumes_from_the_last_id(sdk_client, decide):
    first = decide()
    stream = sdk_client.stream_events()
    event = next(stream)
    assert (event.type, event.proposal.id) == ("proposal.decided", first.pk)
    stream.close()

    second = decide()  # written while the client was away
    resumed = sdk_client.stream_events(last_event_id=str(event.id))
    assert next(resumed).proposal.id == second.pk
    resumed.close()


def test_the_sdk_long_polls_events(sdk_client, decide):
    with ThreadPoolExecutor(max_workers=1) as pool:
        polled = pool.submit(sdk_client.events, timeout=30)
        proposal = decide()
        events = polled.result(timeout=60)
    assert [event.proposal.id for event in events] == [proposal.pk]
