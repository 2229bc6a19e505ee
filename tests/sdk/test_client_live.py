"""HitlClient against the live platform: every endpoint that exists today, and the ones of the
parallel issues (events, revisions) once the live schema has them."""

import asyncio
import json
import threading

import pytest

from apps.proposals.models import Proposal
from tests.factories import PASSWORD
from tests.requirements import require_module

pytestmark = pytest.mark.django_db(transaction=True)

REFUND = {"action_type": "payments.refund", "payload": {"order_id": "A-1", "amount": "10.00"}}


def test_submit_is_idempotent_with_the_same_key(platform):
    client = platform.client()
    first = client.submit(**REFUND, confidence=0.5, irreversible=True, idempotency_key="refund:A-1")
    again = client.submit(**REFUND, confidence=0.5, irreversible=True, idempotency_key="refund:A-1")
    assert first.id == again.id and first.status == "pending"
    assert Proposal.objects.count() == 1


def test_a_key_reused_with_another_body_is_a_typed_conflict(platform):
    from hitlplatform_client import IdempotencyKeyReused

    client = platform.client()
    client.submit(**REFUND, confidence=0.5, irreversible=True, idempotency_key="k-1")
    with pytest.raises(IdempotencyKeyReused):
        client.submit(**REFUND, confidence=0.6, irreversible=True, idempotency_key="k-1")


def test_errors_are_typed(platform):
    from hitlplatform_client import Forbidden, NotFound, Unauthorized, ValidationFailed

    client = platform.client()
    with pytest.raises(ValidationFailed) as invalid:
        client.submit(**REFUND, confidence=3)
    assert "confidence" in invalid.value.fields
    with pytest.raises(NotFound):
        client.get(999_999)
    with pytest.raises(Unauthorized):
        type(client)(platform.url, "hitl_agent_nope").get(1)
    with pytest.raises(Forbidden):
        platform.reviewer().submit(**REFUND, confidence=0.5)


def test_get_list_wait_and_a_reviewers_decision(platform, in_background):
    client = platform.client()
    proposal = client.submit(**REFUND, confidence=0.5, irreversible=True, summary="Refund A-1")
    assert client.get(proposal.id).summary == "Refund A-1"
    assert [one.id for one in client.list(status="pending", action_type="payments.refund").results] == [proposal.id]
    assert client.wait(proposal.id, timeout=0).status == "pending"
    waiting = in_background(client.wait_final, proposal.id, 30)
    decision = platform.reviewer().decide(
        proposal.id,
        verdict="modify",
        rationale="Partial refund only.",
        password=PASSWORD,
        payload={"order_id": "A-1", "amount": "5.00"},
    )
    assert decision.verdict == "modify" and decision.reviewer == "reviewer"
    final = waiting.result(timeout=30)
    assert final.status == "approved" and final.modified
    assert final.final_payload == {"order_id": "A-1", "amount": "5.00"}
    assert final.rationale == "Partial refund only."
    executed = client.report_execution(proposal.id, "succeeded", {"refund_id": "re_1"})
    assert executed.execution["status"] == "succeeded"
    assert executed.execution["detail"] == {"refund_id": "re_1"}


def test_cancel_and_the_conflict_after(platform):
    from hitlplatform_client import Conflict

    client = platform.client()
    proposal = client.submit(**REFUND, confidence=0.5, irreversible=True)
    assert client.cancel(proposal.id, "no longer needed").status == "cancelled"
    with pytest.raises(Conflict) as raised:
        client.cancel(proposal.id)
    assert raised.value.code == "not_pending"


def test_simulate_stores_nothing(platform):
    simulation = platform.client().simulate(**REFUND, confidence=0.95)
    assert simulation.mode == "autonomous" and simulation.rule == "small-refunds"
    assert Proposal.objects.count() == 0


def test_the_async_client_does_the_same(platform):
    async def scenario():
        async with platform.async_client() as client:
            proposal = await client.submit(**REFUND, confidence=0.95, idempotency_key="async-1")
            again = await client.submit(**REFUND, confidence=0.95, idempotency_key="async-1")
            final = await client.wait_final(proposal.id, deadline=5)
            return proposal, again, final

    proposal, again, final = asyncio.run(scenario())
    assert proposal.id == again.id and final.status == "approved" and final.approved_by == "policy"


def test_a_webhook_signed_by_the_platform_passes_the_flask_receiver(platform, settings):
    """The platform's signed delivery, received by the SDK's Flask helper on a local port."""
    require_module("flask")
    from flask import Flask
    from hitlplatform_client.receivers.flask import webhook_blueprint
    from werkzeug.serving import make_server

    from hitlplatform.celery import app as celery_app

    # The delivery runs inline once the decision commits; a test that left this process's Celery app
    # pointed at a broker (tests/celery: publishing_to) would make it wait here in vain.
    assert celery_app.conf.task_always_eager, "Celery is not eager: a test left it pointed at a broker"
    received = []
    arrived = threading.Event()

    def receive(event):
        received.append(event)
        arrived.set()

    app = Flask("receiver")
    app.register_blueprint(webhook_blueprint(platform.agent.webhook_secret, receive))
    server = make_server("127.0.0.1", 0, app, threaded=True)  # a free port: other runs may share the machine
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        client = platform.client()
        proposal = client.submit(
            **REFUND,
            confidence=0.5,
            irreversible=True,
            callback_url=f"http://127.0.0.1:{server.server_port}/hitl/webhook",
        )
        platform.reviewer().decide(proposal.id, verdict="reject", rationale="Outside the window.", password=PASSWORD)
        arrived.wait(30)  # delivery is after commit, and CI machines are busy
    finally:
        server.shutdown()
        thread.join(5)
    assert [(event.type, event.proposal.id, event.proposal.status) for event in received] == [
        ("proposal.decided", proposal.id, "rejected")
    ]
    assert received[0].proposal.rationale == "Outside the window."


def test_events_long_poll(platform):
    client = platform.client()
    proposal = client.submit(**REFUND, confidence=0.5, irreversible=True)
    platform.reviewer().decide(proposal.id, verdict="approve", rationale="Fine by me.", password=PASSWORD)
    events = client.events(timeout=5)
    assert any(event.proposal.id == proposal.id and event.type == "proposal.decided" for event in events)
    assert client.events(after=events[-1].id, timeout=0) == []


def test_revision_after_changes_requested(platform):
    from hitlplatform_client import NotChangesRequested

    client = platform.client()
    proposal = client.submit(**REFUND, confidence=0.5, irreversible=True)
    platform.reviewer().decide(
        proposal.id,
        verdict="request_changes",
        rationale="Refund the shipping only.",
        instructions="Refund the shipping only.",
        password=PASSWORD,
    )
    sent_back = client.get(proposal.id)
    assert sent_back.status == "changes_requested" and sent_back.instructions
    revision = client.revise(proposal.id, payload={"order_id": "A-1", "amount": "4.90"}, irreversible=True)
    assert revision.revision_of == proposal.id and revision.revision == 1
    with pytest.raises(NotChangesRequested):
        client.revise(revision.id, payload={"order_id": "A-1", "amount": "1.00"})
    assert json.dumps(revision.payload)
