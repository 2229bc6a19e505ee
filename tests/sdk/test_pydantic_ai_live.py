"""The Pydantic AI capability against the live platform, driven by FunctionModel."""

import contextlib

import pytest

from apps.proposals.models import Proposal
from tests.factories import PASSWORD
from tests.requirements import require_module

from .conftest import ToyRefunds

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = {"action_type": "payments.refund", "confidence": 0.9, "irreversible": True}


@pytest.fixture
def pai():
    require_module("pydantic_ai")
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import FunctionModel
    from pydantic_ai.tools import DeferredToolRequests

    class Kit(ToyRefunds):
        def __init__(self):
            super().__init__()
            self.seen = []
            self.DeferredToolRequests = DeferredToolRequests

        def model(self, messages, info):
            """Call refund once; then answer with what the tool (or the denial) said."""
            self.seen.append(messages)
            for part in messages[-1].parts:
                if part.part_kind in ("tool-return", "retry-prompt"):
                    return ModelResponse(parts=[TextPart(f"tool said: {part.content}")])
            call = ToolCallPart("refund", {"order_id": "P-1", "amount": "20.00"}, tool_call_id="call_p1")
            return ModelResponse(parts=[call])

        def agent(self, platform, *, client=None, policy=None, **options):
            from hitlplatform_client.adapters.pydantic_ai import HitlApprovals

            capability = HitlApprovals(client or platform.client(), {"refund": POLICY | (policy or {})}, **options)
            agent = Agent(FunctionModel(self.model), output_type=[str, DeferredToolRequests], capabilities=[capability])

            @agent.tool_plain(requires_approval=True)
            def refund(order_id: str, amount: str) -> str:
                """Refund an order."""
                return self.refunded(order_id, amount)

            return agent

    return Kit()


def run(agent, **kwargs):
    return agent.run_sync("Refund order P-1", **kwargs)


def test_approve_runs_the_tool_once(platform, pai, in_background):
    call = in_background(run, pai.agent(platform))
    proposal_id = platform.decide_pending("approve")
    assert call.result(timeout=60).output == "tool said: refunded 20.00 on P-1"
    assert pai.runs == [("P-1", "20.00")]
    assert Proposal.objects.get(pk=proposal_id).execution_status == "succeeded"


def test_modify_runs_the_tool_with_the_edited_arguments(platform, pai, in_background):
    call = in_background(run, pai.agent(platform))
    platform.decide_pending("modify", payload={"order_id": "P-1", "amount": "7.00"}, rationale="Shipping only.")
    assert call.result(timeout=60).output == "tool said: refunded 7.00 on P-1"
    assert pai.runs == [("P-1", "7.00")]


def test_reject_never_runs_the_tool_and_the_model_reads_the_rationale(platform, pai, in_background):
    call = in_background(run, pai.agent(platform))
    platform.decide_pending("reject", rationale="Customer already got a voucher.")
    output = call.result(timeout=60).output
    assert "Customer already got a voucher." in output
    assert pai.runs == []


def test_autonomous_runs_without_waiting(platform, pai):
    result = run(pai.agent(platform, policy={"confidence": 0.95, "irreversible": False}))
    assert result.output == "tool said: refunded 20.00 on P-1"
    assert Proposal.objects.get().approved_by == "policy"


def test_expiry_through_the_sla_sweep_is_a_denial(platform, pai, in_background):
    call = in_background(run, pai.agent(platform))
    platform.expire_overdue()
    assert "no reviewer decided in time" in call.result(timeout=60).output
    assert pai.runs == []


def test_a_tool_exception_is_reported_failed(platform, pai, in_background):
    pai.fail = True
    call = in_background(run, pai.agent(platform))
    proposal_id = platform.decide_pending("approve")
    with contextlib.suppress(RuntimeError):
        call.result(timeout=60)
    assert pai.runs == [("P-1", "20.00")]
    assert Proposal.objects.get(pk=proposal_id).execution_status == "failed"


def test_pending_is_left_deferred_and_a_later_run_with_a_new_client_resolves_it(platform, pai):
    from hitlplatform_client.adapters.pydantic_ai import resolve_deferred

    # given a run that ends with the call still pending
    first = run(pai.agent(platform, inline_wait=0.2))
    assert isinstance(first.output, pai.DeferredToolRequests)
    proposal_id = platform.pending()[0].id
    platform.reviewer().decide(proposal_id, verdict="approve", rationale="Checked.", password=PASSWORD)
    # when a new process resolves it from the platform and resumes
    client = platform.client()
    conversation_id = first.all_messages()[-1].conversation_id
    results = resolve_deferred(client, first.output, tools={"refund": POLICY}, conversation_id=conversation_id)
    resumed = pai.agent(platform, client=client).run_sync(
        message_history=first.all_messages(), deferred_tool_results=results
    )
    # then one proposal, one execution
    assert resumed.output == "tool said: refunded 20.00 on P-1"
    assert pai.runs == [("P-1", "20.00")]
    assert Proposal.objects.count() == 1
    assert Proposal.objects.get().execution_status == "succeeded"


def test_changes_requested_reaches_the_model(platform, pai, in_background):
    call = in_background(run, pai.agent(platform))
    platform.decide_pending("request_changes", rationale="Refund 5.00 only.", instructions="Refund 5.00 only.")
    assert "Refund 5.00 only." in call.result(timeout=60).output
    assert pai.runs == []


def test_with_the_async_client(platform, pai, approved_with_async_client):
    def run(client):
        return pai.agent(platform, client=client).run("Refund order P-1")

    assert approved_with_async_client(run).output == "tool said: refunded 20.00 on P-1"
    assert pai.runs == [("P-1", "20.00")]
    assert Proposal.objects.get().execution_status == "succeeded"
