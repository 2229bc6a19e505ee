"""The OpenAI Agents SDK tool wrapper and interruption resolver against the live platform, driven by a
scripted model (no network, no LLM)."""

import asyncio
import json

import pytest

from apps.proposals.models import Proposal
from tests.factories import PASSWORD
from tests.requirements import require_module

from .conftest import ToyRefunds

pytestmark = pytest.mark.django_db(transaction=True)

POLICY = {"confidence": 0.9, "irreversible": True}


@pytest.fixture
def oa():
    agents = require_module("agents")
    from agents.items import ModelResponse
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText

    agents.set_tracing_disabled(True)

    class ScriptedModel(Model):
        """Calls refund once, then answers with the tool's output as the model saw it."""

        def __init__(self):
            self.seen = []

        async def get_response(self, system_instructions, input, *args, **kwargs):
            self.seen.append(input)
            outputs = [item for item in input if isinstance(item, dict) and item.get("type") == "function_call_output"]
            if outputs:
                text = f"tool said: {outputs[-1]['output']}"
                message = ResponseOutputMessage(
                    id="msg_1",
                    content=[ResponseOutputText(text=text, type="output_text", annotations=[])],
                    role="assistant",
                    status="completed",
                    type="message",
                )
                return ModelResponse(output=[message], usage=Usage(), response_id=None)
            call = ResponseFunctionToolCall(
                arguments=json.dumps({"order_id": "O-1", "amount": "25.00"}),
                call_id="call_o1",
                name="refund",
                type="function_call",
                id="fc_1",
                status="completed",
            )
            return ModelResponse(output=[call], usage=Usage(), response_id=None)

        def stream_response(self, *args, **kwargs):
            raise NotImplementedError

    class Kit(ToyRefunds):
        def __init__(self):
            super().__init__()
            self.agents = agents

        def agent(self, platform, *, client=None, policy=None, **options):
            from hitlplatform_client.adapters.openai_agents import hitl_function_tool

            def refund(order_id: str, amount: str) -> str:
                """Refund an order."""
                return self.refunded(order_id, amount)

            tool = hitl_function_tool(
                client or platform.client(),
                refund,
                action_type="payments.refund",
                **(POLICY | (policy or {})),
                **options,
            )
            self.model = ScriptedModel()
            return agents.Agent(name="support", model=self.model, tools=[tool])

        def run(self, agent, start="Refund order O-1"):
            return agents.Runner.run_sync(agent, start, run_config=agents.RunConfig(tracing_disabled=True))

    return Kit()


def test_approve_runs_the_tool_once(platform, oa, in_background):
    call = in_background(oa.run, oa.agent(platform))
    proposal_id = platform.decide_pending("approve")
    assert call.result(timeout=60).final_output == "tool said: refunded 25.00 on O-1"
    assert oa.runs == [("O-1", "25.00")]
    proposal = Proposal.objects.get(pk=proposal_id)
    assert proposal.external_id == "openai_agents:-:call_o1" and proposal.execution_status == "succeeded"


def test_modify_runs_the_tool_with_the_edited_arguments(platform, oa, in_background):
    call = in_background(oa.run, oa.agent(platform))
    platform.decide_pending("modify", payload={"order_id": "O-1", "amount": "12.00"}, rationale="Half.")
    assert call.result(timeout=60).final_output == "tool said: refunded 12.00 on O-1"
    assert oa.runs == [("O-1", "12.00")]


def test_reject_never_runs_the_tool_and_the_model_reads_the_rationale(platform, oa, in_background):
    call = in_background(oa.run, oa.agent(platform))
    platform.decide_pending("reject", rationale="Chargeback already opened.")
    assert "Chargeback already opened." in call.result(timeout=60).final_output
    assert oa.runs == []


def test_autonomous_runs_without_waiting(platform, oa):
    result = oa.run(oa.agent(platform, policy={"confidence": 0.95, "irreversible": False}))
    assert result.final_output == "tool said: refunded 25.00 on O-1"
    assert Proposal.objects.get().approved_by == "policy"


def test_expiry_through_the_sla_sweep_is_a_denial(platform, oa, in_background):
    call = in_background(oa.run, oa.agent(platform))
    platform.expire_overdue()
    assert "no reviewer decided in time" in call.result(timeout=60).final_output
    assert oa.runs == []


def test_a_tool_exception_is_reported_failed(platform, oa, in_background):
    oa.fail = True
    call = in_background(oa.run, oa.agent(platform))
    proposal_id = platform.decide_pending("approve")
    assert "payment provider down" in call.result(timeout=60).final_output
    assert Proposal.objects.get(pk=proposal_id).execution_status == "failed"


def test_interruptions_survive_to_json_and_resolve_in_a_new_process(platform, oa):
    from hitlplatform_client.adapters.openai_agents import resolve_interruptions

    # given a run interrupted for approval, stored as JSON
    agent = oa.agent(platform, needs_approval=True)
    first = oa.run(agent)
    assert len(first.interruptions) == 1
    stored = json.dumps(first.to_state().to_json())
    client = platform.client()
    assert resolve_interruptions(client, first.to_state()) != []  # pending: a proposal now waits
    proposal_id = platform.pending()[0].id
    platform.reviewer().decide(
        proposal_id,
        verdict="modify",
        rationale="Less.",
        payload={"order_id": "O-1", "amount": "5.00"},
        password=PASSWORD,
    )
    # when a new process loads the state, resolves it from the platform and resumes
    fresh_agent = oa.agent(platform, client=platform.client(), needs_approval=True)
    state = asyncio.run(oa.agents.RunState.from_json(fresh_agent, json.loads(stored)))
    assert resolve_interruptions(platform.client(), state) == []
    resumed = oa.agents.Runner.run_sync(fresh_agent, state, run_config=oa.agents.RunConfig(tracing_disabled=True))
    # then the same proposal, the edited arguments, one execution
    assert resumed.final_output == "tool said: refunded 5.00 on O-1"
    assert oa.runs == [("O-1", "5.00")]
    assert Proposal.objects.count() == 1


def test_a_rejected_interruption_reaches_the_model(platform, oa):
    from hitlplatform_client.adapters.openai_agents import resolve_interruptions

    agent = oa.agent(platform, needs_approval=True)
    first = oa.run(agent)
    state = first.to_state()
    resolve_interruptions(platform.client(), state)
    platform.reviewer().decide(
        platform.pending()[0].id, verdict="reject", rationale="Fraud suspected.", password=PASSWORD
    )
    assert resolve_interruptions(platform.client(), state) == []
    resumed = oa.agents.Runner.run_sync(agent, state, run_config=oa.agents.RunConfig(tracing_disabled=True))
    assert "Fraud suspected." in resumed.final_output
    assert oa.runs == []


def test_changes_requested_reaches_the_model(platform, oa, in_background):
    call = in_background(oa.run, oa.agent(platform))
    platform.decide_pending("request_changes", rationale="Refund 9.00 only.", instructions="Refund 9.00 only.")
    assert "Refund 9.00 only." in call.result(timeout=60).final_output
    assert oa.runs == []


def test_with_the_async_client(platform, oa, approved_with_async_client):
    def run(client):
        agent = oa.agent(platform, client=client)
        return oa.agents.Runner.run(agent, "Refund", run_config=oa.agents.RunConfig(tracing_disabled=True))

    assert approved_with_async_client(run).final_output == "tool said: refunded 25.00 on O-1"
    assert oa.runs == [("O-1", "25.00")]
    assert Proposal.objects.get().execution_status == "succeeded"
