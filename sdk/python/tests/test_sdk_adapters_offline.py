"""Each adapter on a `changes_requested` decision (issue 16, not on the live server yet): the tool never
runs and the model reads the reviewer's instructions. The platform is scripted (MockTransport)."""

import asyncio
import json

POLICY = {"refund": {"action_type": "payments.refund", "confidence": 0.9}}


def test_langchain_returns_an_error_tool_message(client_with, sent_back, require_module):
    require_module("langchain.agents")
    from hitlplatform_client.adapters.langchain import HitlMiddleware
    from langchain.agents import create_agent
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, ToolMessage
    from langchain_core.tools import tool

    class Model(GenericFakeChatModel):
        def bind_tools(self, tools, **kwargs):
            return self

    runs = []

    @tool
    def refund(order_id: str, amount: str) -> str:
        """Refund an order."""
        runs.append(amount)
        return "refunded"

    client, script = client_with((201, sent_back))
    call = {"name": "refund", "args": {"order_id": "A-1", "amount": "10.00"}, "id": "call_1"}
    model = Model(messages=iter([AIMessage(content="", tool_calls=[call]), AIMessage(content="ok")]))
    agent = create_agent(model, tools=[refund], middleware=[HitlMiddleware(client, POLICY)])
    result = agent.invoke({"messages": [("user", "refund")]}, {"configurable": {"thread_id": "t"}})
    message = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert message.status == "error" and sent_back["instructions"] in message.content and runs == []
    assert script.requests[0].headers["Idempotency-Key"] == "langchain:t:call_1"


def test_pydantic_ai_answers_tool_denied(client_with, sent_back, require_module):
    require_module("pydantic_ai")
    from hitlplatform_client.adapters.pydantic_ai import HitlApprovals
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models.function import FunctionModel
    from pydantic_ai.tools import DeferredToolRequests

    def model(messages, info):
        for part in messages[-1].parts:
            if part.part_kind == "tool-return":
                return ModelResponse(parts=[TextPart(str(part.content))])
        return ModelResponse(parts=[ToolCallPart("refund", {"order_id": "A-1", "amount": "10.00"}, tool_call_id="c1")])

    client, _ = client_with((201, sent_back))
    agent = Agent(
        FunctionModel(model), output_type=[str, DeferredToolRequests], capabilities=[HitlApprovals(client, POLICY)]
    )
    runs = []

    @agent.tool_plain(requires_approval=True)
    def refund(order_id: str, amount: str) -> str:
        runs.append(amount)
        return "refunded"

    assert sent_back["instructions"] in agent.run_sync("refund").output and runs == []


def test_openai_agents_tells_the_model(client_with, sent_back, require_module):
    require_module("agents")
    from agents.tool_context import ToolContext
    from hitlplatform_client.adapters.openai_agents import hitl_function_tool

    runs = []

    def refund(order_id: str, amount: str) -> str:
        """Refund an order."""
        runs.append(amount)
        return "refunded"

    client, _ = client_with((201, sent_back))
    tool = hitl_function_tool(client, refund, action_type="payments.refund", confidence=0.9)
    context = ToolContext(
        context=None, tool_name="refund", tool_call_id="call_1", tool_arguments='{"order_id": "A-1", "amount": "10.00"}'
    )
    output = asyncio.run(tool.on_invoke_tool(context, '{"order_id": "A-1", "amount": "10.00"}'))
    assert sent_back["instructions"] in output and runs == []


def test_mcp_gateway_answers_is_error(client_with, async_client_with, sent_back, require_module):
    require_module("mcp")
    from hitlplatform_client.mcp_gateway import GatewayConfig, build_gateway
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    upstream = MCPServer("toy")
    runs = []

    @upstream.tool()
    def refund(order_id: str, amount: str) -> str:
        """Refund an order."""
        runs.append(amount)
        return "refunded"

    hitl, _ = async_client_with((201, sent_back))

    async def scenario():
        async with Client(upstream) as up:
            gateway = build_gateway(hitl, up, GatewayConfig.from_dict({"tools": POLICY}))
            async with Client(gateway) as client:
                return await client.call_tool("refund", {"order_id": "A-1", "amount": "10.00"})

    result = asyncio.run(scenario())
    assert (
        result.is_error
        and sent_back["instructions"] in result.content[0].text
        and "proposal 3" in result.content[0].text
    )
    assert runs == []
    assert json.dumps(POLICY)
