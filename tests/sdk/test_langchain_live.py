"""The LangChain v1 middleware against the live platform, driven by GenericFakeChatModel."""

import contextlib

import pytest

from apps.proposals.models import Proposal
from tests.requirements import require_module

from .conftest import ToyRefunds

pytestmark = pytest.mark.django_db(transaction=True)

REFUND_CALL = {"name": "refund", "args": {"order_id": "L-1", "amount": "30.00"}, "id": "call_refund_1"}


@pytest.fixture
def lc():
    require_module("langchain.agents")
    from langchain.agents import create_agent
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, ToolMessage
    from langchain_core.tools import tool
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    class ScriptedModel(GenericFakeChatModel):
        """GenericFakeChatModel with tool binding, remembering what it was shown."""

        seen: list = []

        def bind_tools(self, tools, **kwargs):
            return self

        def _generate(self, messages, stop=None, run_manager=None, **kwargs):
            self.seen.append(list(messages))
            return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    class Kit(ToyRefunds):
        def __init__(self):
            super().__init__()
            self.Command = Command
            self.ToolMessage = ToolMessage
            self.checkpointer = InMemorySaver()

            @tool
            def refund(order_id: str, amount: str) -> str:
                """Refund an order."""
                return self.refunded(order_id, amount)

            self.refund = refund

        def agent(self, platform, *, client=None, **options):
            from hitlplatform_client.adapters.langchain import HitlMiddleware

            self.model = ScriptedModel(
                messages=iter([AIMessage(content="", tool_calls=[REFUND_CALL]), AIMessage(content="done")]), seen=[]
            )
            policy = {"action_type": "payments.refund", "confidence": 0.9, "irreversible": True}
            policy |= options.pop("policy", {})
            middleware = HitlMiddleware(client or platform.client(), {"refund": policy}, **options)
            return create_agent(
                self.model, tools=[self.refund], middleware=[middleware], checkpointer=self.checkpointer
            )

        def tool_message(self, result):
            return next(message for message in result["messages"] if isinstance(message, ToolMessage))

    return Kit()


def invoke(agent, payload="Refund order L-1", thread="t-1"):
    return agent.invoke({"messages": [("user", payload)]}, {"configurable": {"thread_id": thread}})


def test_approve_runs_the_tool_once(platform, lc, in_background):
    run = in_background(invoke, lc.agent(platform))
    proposal_id = platform.decide_pending("approve")
    message = lc.tool_message(run.result(timeout=60))
    assert message.content == "refunded 30.00 on L-1"
    assert lc.runs == [("L-1", "30.00")]
    proposal = Proposal.objects.get(pk=proposal_id)
    assert proposal.external_id == "langchain:t-1:call_refund_1"
    assert proposal.execution_status == "succeeded"


def test_modify_runs_the_tool_with_the_edited_arguments(platform, lc, in_background):
    run = in_background(invoke, lc.agent(platform))
    platform.decide_pending("modify", payload={"order_id": "L-1", "amount": "15.00"}, rationale="Half only.")
    assert lc.tool_message(run.result(timeout=60)).content == "refunded 15.00 on L-1"
    assert lc.runs == [("L-1", "15.00")]


def test_reject_never_runs_the_tool_and_the_model_reads_the_rationale(platform, lc, in_background):
    run = in_background(invoke, lc.agent(platform))
    platform.decide_pending("reject", rationale="Order was never delivered; escalate to logistics.")
    message = lc.tool_message(run.result(timeout=60))
    assert message.status == "error"
    assert "escalate to logistics" in message.content
    assert lc.runs == []
    shown_to_model = lc.model.seen[-1]
    assert any("escalate to logistics" in str(seen.content) for seen in shown_to_model)


def test_autonomous_runs_without_waiting(platform, lc):
    agent = lc.agent(platform, policy={"confidence": 0.95, "irreversible": False})
    assert lc.tool_message(invoke(agent)).content == "refunded 30.00 on L-1"
    assert Proposal.objects.get().approved_by == "policy"


def test_expiry_through_the_sla_sweep_is_a_denial(platform, lc, in_background):
    run = in_background(invoke, lc.agent(platform))
    platform.expire_overdue()
    message = lc.tool_message(run.result(timeout=60))
    assert message.status == "error" and "no reviewer decided in time" in message.content
    assert lc.runs == []


def test_a_tool_exception_is_reported_failed(platform, lc, in_background):
    lc.fail = True
    run = in_background(invoke, lc.agent(platform))
    proposal_id = platform.decide_pending("approve")
    with contextlib.suppress(RuntimeError):  # a ToolNode without error handling lets it through
        run.result(timeout=60)
    assert lc.runs == [("L-1", "30.00")]
    assert Proposal.objects.get(pk=proposal_id).execution_status == "failed"


def test_pending_becomes_an_interrupt_and_a_resume_with_a_new_client_finds_the_same_proposal(platform, lc):
    # given a run that is still pending after the inline wait
    first = invoke(lc.agent(platform, inline_wait=0.2))
    assert first["__interrupt__"][0].value["status"] == "pending"
    proposal_id = first["__interrupt__"][0].value["hitl_proposal_id"]
    assert lc.runs == []
    # when a reviewer approves and a new client (a restarted process) resumes the thread
    platform.reviewer().decide(
        proposal_id, verdict="approve", rationale="Fine.", password="correct-horse-battery-staple"
    )
    agent = lc.agent(platform, client=platform.client(), inline_wait=0.2)
    resumed = agent.invoke(lc.Command(resume=True), {"configurable": {"thread_id": "t-1"}})
    # then the same proposal was found and the tool ran exactly once
    assert lc.tool_message(resumed).content == "refunded 30.00 on L-1"
    assert lc.runs == [("L-1", "30.00")]
    assert Proposal.objects.count() == 1


def test_changes_requested_reaches_the_model(platform, lc, in_background):
    run = in_background(invoke, lc.agent(platform))
    platform.decide_pending("request_changes", rationale="Refund 10.00 only.", instructions="Refund 10.00 only.")
    message = lc.tool_message(run.result(timeout=60))
    assert message.status == "error" and "Refund 10.00 only." in message.content
    assert lc.runs == []


def test_the_async_path_gates_the_same(platform, lc, in_background):
    import asyncio

    agent = lc.agent(platform)
    run = in_background(
        lambda: asyncio.run(agent.ainvoke({"messages": [("user", "Refund")]}, {"configurable": {"thread_id": "a-1"}}))
    )
    platform.decide_pending("modify", payload={"order_id": "L-1", "amount": "1.00"}, rationale="One euro.")
    assert lc.tool_message(run.result(timeout=60)).content == "refunded 1.00 on L-1"
    assert lc.runs == [("L-1", "1.00")]
