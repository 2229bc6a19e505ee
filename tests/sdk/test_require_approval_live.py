"""require_approval and gate() against the live platform: the action runs only once approved, with the
approved arguments, at most once per key, and its outcome is reported."""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from apps.proposals.models import Proposal
from tests.factories import PASSWORD

from .conftest import ToyRefunds

pytestmark = pytest.mark.django_db(transaction=True)


class Refunds(ToyRefunds):
    """The tool under the gate: records each run."""

    def __call__(self, order_id: str, amount: str) -> dict:
        self.record(order_id, amount)
        return {"refund_id": f"re_{order_id}", "amount": amount}


def gated(platform, refunds, **options):
    from hitlplatform_client import require_approval

    options = {
        "action_type": "payments.refund",
        "summary": "Refund {amount} on {order_id}",
        "confidence": 0.9,
        "irreversible": True,
        "key": lambda args: f"refund:{args['order_id']}",
        "deadline": 30,
    } | options
    return require_approval(platform.client(), **options)(refunds)


def test_approve_runs_the_tool_once_and_reports_success(platform, in_background):
    refunds = Refunds()
    call = in_background(gated(platform, refunds), "A-1", "10.00")
    proposal_id = platform.decide_pending("approve")
    assert call.result(timeout=30) == {"refund_id": "re_A-1", "amount": "10.00"}
    assert refunds.runs == [("A-1", "10.00")]
    proposal = Proposal.objects.get(pk=proposal_id)
    assert proposal.summary == "Refund 10.00 on A-1" and proposal.irreversible
    assert proposal.execution_status == "succeeded"
    assert proposal.execution_detail == {"result": {"refund_id": "re_A-1", "amount": "10.00"}}


def test_modify_runs_the_tool_with_the_edited_arguments(platform, in_background):
    refunds = Refunds()
    call = in_background(gated(platform, refunds), "A-2", "80.00")
    platform.decide_pending("modify", payload={"order_id": "A-2", "amount": "40.00"}, rationale="Half only.")
    assert call.result(timeout=30)["amount"] == "40.00"
    assert refunds.runs == [("A-2", "40.00")]


def test_reject_never_runs_the_tool_and_carries_the_rationale(platform, in_background):
    from hitlplatform_client import Rejected

    refunds = Refunds()
    call = in_background(gated(platform, refunds), "A-3", "10.00")
    proposal_id = platform.decide_pending("reject", rationale="Order already refunded.")
    with pytest.raises(Rejected) as raised:
        call.result(timeout=30)
    assert raised.value.reason == "Order already refunded." and raised.value.proposal_id == proposal_id
    assert refunds.runs == []
    assert Proposal.objects.get(pk=proposal_id).execution_status == ""


def test_on_reject_message_returns_the_rationale(platform, in_background):
    refunds = Refunds()
    call = in_background(gated(platform, refunds, on_reject="message"), "A-4", "10.00")
    platform.decide_pending("reject", rationale="Needs a receipt first.")
    message = call.result(timeout=30)
    assert "rejected" in message and "Needs a receipt first." in message
    assert refunds.runs == []


def test_an_autonomous_action_runs_without_waiting(platform):
    refunds = Refunds()
    result = gated(platform, refunds, irreversible=False, confidence=0.95)("A-5", "5.00")
    assert result["refund_id"] == "re_A-5" and refunds.runs == [("A-5", "5.00")]
    proposal = Proposal.objects.get()
    assert proposal.approved_by == "policy" and proposal.execution_status == "succeeded"


def test_expiry_through_the_sla_sweep_denies(platform, in_background):
    from hitlplatform_client import Expired

    refunds = Refunds()
    call = in_background(gated(platform, refunds), "A-6", "10.00")
    platform.expire_overdue()
    with pytest.raises(Expired):
        call.result(timeout=30)
    assert refunds.runs == [] and Proposal.objects.get().status == "expired"


def test_a_client_deadline_raises_approval_timeout_and_the_proposal_stays_pending(platform):
    from hitlplatform_client import ApprovalTimeout

    refunds = Refunds()
    with pytest.raises(ApprovalTimeout) as raised:
        gated(platform, refunds, deadline=0.3)("A-8", "10.00")
    assert Proposal.objects.get(pk=raised.value.proposal_id).status == "pending"
    assert refunds.runs == []


def test_a_tool_exception_is_reported_as_failed_and_re_raised(platform, in_background):
    refunds = Refunds(fail=True)
    call = in_background(gated(platform, refunds), "A-9", "10.00")
    proposal_id = platform.decide_pending("approve")
    with pytest.raises(RuntimeError, match="payment provider down"):
        call.result(timeout=30)
    proposal = Proposal.objects.get(pk=proposal_id)
    assert proposal.execution_status == "failed"
    assert proposal.execution_detail["error"] == "RuntimeError"


def test_a_replay_after_the_run_returns_the_recorded_result_without_running_again(platform):
    refunds = Refunds()
    refund = gated(platform, refunds, irreversible=False, confidence=0.95)
    first = refund("B-1", "5.00")
    again = gated(platform, refunds, irreversible=False, confidence=0.95)("B-1", "5.00")
    assert first == again and refunds.runs == [("B-1", "5.00")]
    assert Proposal.objects.count() == 1


def test_crash_and_resume_in_a_new_process_finds_the_same_proposal_and_runs_once(platform, tmp_path):
    runs = tmp_path / "runs.txt"
    script = Path(__file__).with_name("gated_refund.py")
    command = [sys.executable, str(script), platform.url, platform.agent_key, str(runs)]
    # given a client process that submitted and then died while waiting
    crashed = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        proposal_id = platform.pending()[0].id
    finally:
        crashed.kill()
        crashed.communicate(timeout=10)
    platform.reviewer().decide(proposal_id, verdict="approve", rationale="Receipt checked.", password=PASSWORD)
    # when a new process runs the same call, twice
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    replayed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    # then one proposal, one execution, the same result
    assert json.loads(resumed.stdout) == json.loads(replayed.stdout) == {"refund_id": "re_A-7", "amount": "12.50"}
    assert runs.read_text() == "A-7 12.50\n"
    assert Proposal.objects.count() == 1
    assert Proposal.objects.get().execution_status == "succeeded"


def test_gate_context_manager(platform, in_background):
    from hitlplatform_client import gate

    client = platform.client()
    done = []

    def work():
        with gate(
            client,
            action_type="payments.refund",
            payload={"order_id": "C-1"},
            key="c-1",
            confidence=0.5,
            irreversible=True,
        ) as approval:
            done.append(approval.payload)
            approval.result = {"ok": True}

    call = in_background(work)
    proposal_id = platform.decide_pending("approve")
    call.result(timeout=30)
    assert done == [{"order_id": "C-1"}]
    assert Proposal.objects.get(pk=proposal_id).execution_detail == {"result": {"ok": True}}


def test_the_async_decorator(platform):
    from hitlplatform_client import require_approval

    runs = []

    async def scenario():
        async with platform.async_client() as client:

            @require_approval(client, action_type="payments.refund", confidence=0.95, key="async-refund")
            async def refund(order_id: str, amount: str) -> str:
                runs.append(order_id)
                return "done"

            return await refund("D-1", "1.00"), await refund("D-1", "1.00")

    assert asyncio.run(scenario()) == ("done", "done")
    assert runs == ["D-1"]
    assert Proposal.objects.get().execution_status == "succeeded"


def test_changes_requested_carries_the_instructions_and_revises(platform, in_background):
    from hitlplatform_client import ChangesRequested

    refunds = Refunds()
    call = in_background(gated(platform, refunds), "E-1", "90.00")
    platform.decide_pending("request_changes", rationale="Refund 45.00 only.", instructions="Refund 45.00 only.")
    with pytest.raises(ChangesRequested) as raised:
        call.result(timeout=30)
    assert "45.00" in raised.value.instructions and refunds.runs == []
    revision = raised.value.revise(payload={"order_id": "E-1", "amount": "45.00"})
    assert revision.revision_of == raised.value.proposal_id
