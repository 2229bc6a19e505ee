"""The Django, FastAPI and Flask receiver helpers: a signed event reaches the handler, anything else is a 400."""

import json
import time

import pytest
from hitlplatform_client.webhooks import SIGNATURE_HEADER, sign

SECRET = "whsec-receiver-test"


@pytest.fixture
def decided_event(proposal_json):
    """A `proposal.decided` event as the platform posts it."""
    return json.dumps({"id": "e1", "type": "proposal.decided", "proposal": proposal_json(status="approved")}).encode()


def signed_headers(body, secret=SECRET):
    return {SIGNATURE_HEADER: sign(secret, body, int(time.time())), "Content-Type": "application/json"}


def test_django_view(decided_event, require_module):
    require_module("django")
    from django.test import RequestFactory
    from hitlplatform_client.receivers.django import webhook_view

    received = []
    view = webhook_view(SECRET, received.append)
    factory = RequestFactory()
    good = factory.post("/hook", decided_event, content_type="application/json", headers=signed_headers(decided_event))
    forged = factory.post(
        "/hook", decided_event, content_type="application/json", headers=signed_headers(decided_event, "other")
    )
    assert view(good).status_code == 200
    assert view(forged).status_code == 400
    assert [event.id for event in received] == ["e1"]
    assert received[0].proposal.is_approved


def test_fastapi_router_with_an_async_handler(decided_event, require_module):
    require_module("fastapi")
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from hitlplatform_client.receivers.fastapi import webhook_router

    received = []

    async def handle(event):
        received.append(event)

    app = FastAPI()
    app.include_router(webhook_router([SECRET, "older-secret"], handle))
    client = TestClient(app)
    assert client.post("/hitl/webhook", content=decided_event, headers=signed_headers(decided_event)).status_code == 200
    assert (
        client.post("/hitl/webhook", content=decided_event + b" ", headers=signed_headers(decided_event)).status_code
        == 400
    )
    assert client.post("/hitl/webhook", content=decided_event).status_code == 400
    assert [event.type for event in received] == ["proposal.decided"]


def test_flask_blueprint(decided_event, require_module):
    require_module("flask")
    from flask import Flask
    from hitlplatform_client.receivers.flask import webhook_blueprint

    received = []
    app = Flask(__name__)
    app.register_blueprint(webhook_blueprint(lambda: SECRET, received.append))
    client = app.test_client()
    assert client.post("/hitl/webhook", data=decided_event, headers=signed_headers(decided_event)).status_code == 200
    assert client.post("/hitl/webhook", data=b"{}", headers=signed_headers(b"{}")).status_code == 400
    assert [event.id for event in received] == ["e1"]
