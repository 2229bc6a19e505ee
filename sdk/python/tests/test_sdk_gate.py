"""require_approval offline: what the live server cannot do yet (changes_requested and revisions, issue 16)
and the replay of an executed proposal."""

import asyncio

import pytest
from hitlplatform_client import AlreadyExecuted, ChangesRequested, require_approval
from hitlplatform_client.gate import GateSpec, default_key


def test_changes_requested_raises_with_the_instructions_and_revises(client_with, proposal_json, sent_back):
    client, script = client_with((201, sent_back), (201, proposal_json(id=4, revision_of=3, revision=1)))
    runs = []

    @require_approval(client, action_type="payments.refund", confidence=0.9, key="refund:A-1")
    def refund(order_id: str, amount: str):
        runs.append(amount)

    with pytest.raises(ChangesRequested) as raised:
        refund("A-1", "10.00")
    assert raised.value.instructions == "Refund the shipping only (4.90)." and runs == []
    revision = raised.value.revise(
        payload={"order_id": "A-1", "amount": "4.90"}, action_type="payments.refund", confidence=0.9
    )
    assert revision.revision_of == 3
    assert script.requests[-1].url.path == "/api/v1/proposals/3/revisions/"
    assert script.bodies()[-1]["payload"] == {"order_id": "A-1", "amount": "4.90"}


def test_on_reject_message_returns_the_instructions(client_with, sent_back):
    client, _ = client_with((201, sent_back))

    @require_approval(client, action_type="payments.refund", confidence=0.9, on_reject="message")
    def refund(order_id: str, amount: str):
        raise AssertionError("must not run")

    message = refund("A-1", "10.00")
    assert "requested changes" in message and "4.90" in message and "proposal 3" in message


def test_a_replay_returns_the_recorded_result_and_does_not_run(client_with, proposal_json):
    executed = proposal_json(
        status="approved",
        final_payload={"order_id": "A-1", "amount": "10.00"},
        execution={"status": "succeeded", "detail": {"result": {"refund_id": "re_1"}}},
    )
    client, script = client_with((201, executed))

    @require_approval(client, action_type="payments.refund", confidence=0.9, key="refund:A-1")
    def refund(order_id: str, amount: str):
        raise AssertionError("must not run twice")

    assert refund("A-1", "10.00") == {"refund_id": "re_1"}
    assert len(script.requests) == 1 and script.requests[0].headers["Idempotency-Key"] == "refund:A-1"


def test_a_replay_of_a_failed_run_raises_already_executed(client_with, proposal_json):
    failed = proposal_json(status="approved", final_payload={}, execution={"status": "failed", "detail": {}})
    client, _ = client_with((201, failed))

    @require_approval(client, action_type="payments.refund", confidence=0.9)
    def refund():
        raise AssertionError("must not run twice")

    with pytest.raises(AlreadyExecuted):
        refund()


def test_the_async_decorator_and_the_sync_one_send_the_same_submission(client_with, async_client_with, proposal_json):
    approved = proposal_json(status="approved", final_payload={"order_id": "A-1", "amount": "1.00"})
    executed = proposal_json(status="approved", execution={"status": "succeeded", "detail": {}})
    sync_client, sync_script = client_with((201, approved), (200, executed))
    async_client, async_script = async_client_with((201, approved), (200, executed))
    options = {
        "action_type": "payments.refund",
        "confidence": lambda args: 0.5 if float(args["amount"]) > 100 else 0.95,
        "summary": "Refund {amount} on {order_id}",
        "irreversible": True,
    }

    @require_approval(sync_client, **options)
    def refund(order_id: str, amount: str) -> str:
        return "ok"

    @require_approval(async_client, **options)
    async def arefund(order_id: str, amount: str) -> str:
        return "ok"

    assert refund("A-1", "1.00") == "ok"
    assert asyncio.run(arefund("A-1", "1.00")) == "ok"
    assert sync_script.bodies() == async_script.bodies()
    assert sync_script.bodies()[0]["summary"] == "Refund 1.00 on A-1" and sync_script.bodies()[0]["confidence"] == 0.95
    assert sync_script.bodies()[1] == {"status": "succeeded", "detail": {"result": "ok"}}
    key = sync_script.requests[0].headers["Idempotency-Key"]
    assert (
        key
        == async_script.requests[0].headers["Idempotency-Key"]
        == default_key("payments.refund", {"order_id": "A-1", "amount": "1.00"})
    )


def test_a_spec_turns_arguments_into_a_submission():
    spec = GateSpec(
        action_type="crm.merge", confidence=0.7, blast_radius=lambda args: len(args["ids"]), key=lambda a: "m"
    )
    fields, key = spec.submission({"ids": [1, 2, 3]})
    assert key == "m" and fields["blast_radius"] == 3 and fields["external_id"] == "m"
