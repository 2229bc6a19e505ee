"""hitlplatform-mcp-gateway against the live platform: an in-memory MCP client, the gateway, and a toy
upstream MCP server with a `refund` tool, all in one process."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from apps.proposals.models import Proposal
from tests.factories import PASSWORD
from tests.requirements import require_module

from .conftest import ToyRefunds

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = {
    "platform": {"wait": 30},
    "tools": {
        "refund": {
            "action_type": "payments.refund",
            "confidence": 0.9,
            "irreversible": True,
            "summary": "Refund {amount} on {order_id}",
        }
    },
    "unlisted": {"mode": "forward"},
}


@pytest.fixture
def gw():
    require_module("mcp")
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    class Kit(ToyRefunds):
        def __init__(self):
            super().__init__()
            upstream = MCPServer("toy-payments")
            self.upstream = upstream

            @upstream.tool()
            def refund(order_id: str, amount: str) -> str:
                """Refund an order."""
                return self.refunded(order_id, amount)

            @upstream.tool()
            def lookup(order_id: str) -> str:
                """Read an order (not gated)."""
                return f"order {order_id}"

        def call(self, platform, tool="refund", arguments=None, *, config=CONFIG, client=None):
            """One tools/call through the gateway; returns (tool names listed, result)."""
            from hitlplatform_client.mcp_gateway import GatewayConfig, build_gateway

            arguments = arguments or {"order_id": "M-1", "amount": "15.00"}

            async def scenario():
                async with platform.async_client() as hitl, Client(self.upstream) as upstream:
                    gateway = build_gateway(hitl, upstream, GatewayConfig.from_dict(config))
                    async with Client(gateway) as mcp_client:
                        listed = [tool.name for tool in (await mcp_client.list_tools()).tools]
                        return listed, await mcp_client.call_tool(tool, arguments)

            return asyncio.run(scenario())

    return Kit()


def text_of(result):
    return "\n".join(part.text for part in result.content)


def test_tools_list_passes_through_and_approve_forwards_once(platform, gw, in_background):
    call = in_background(gw.call, platform)
    proposal_id = platform.decide_pending("approve")
    listed, result = call.result(timeout=60)
    assert sorted(listed) == ["lookup", "refund"]
    assert not result.is_error and text_of(result) == "refunded 15.00 on M-1"
    assert gw.runs == [("M-1", "15.00")]
    proposal = Proposal.objects.get(pk=proposal_id)
    assert proposal.summary == "Refund 15.00 on M-1" and proposal.execution_status == "succeeded"


def test_modify_forwards_the_final_arguments(platform, gw, in_background):
    call = in_background(gw.call, platform)
    platform.decide_pending("modify", payload={"order_id": "M-1", "amount": "3.00"}, rationale="Shipping only.")
    assert text_of(call.result(timeout=60)[1]) == "refunded 3.00 on M-1"
    assert gw.runs == [("M-1", "3.00")]


def test_reject_is_an_error_with_the_rationale_and_the_proposal_id(platform, gw, in_background):
    call = in_background(gw.call, platform)
    proposal_id = platform.decide_pending("reject", rationale="Duplicate request.")
    result = call.result(timeout=60)[1]
    assert result.is_error
    assert "Duplicate request." in text_of(result) and f"proposal {proposal_id}" in text_of(result)
    assert gw.runs == []


def test_autonomous_is_forwarded_without_waiting(platform, gw):
    config = CONFIG | {"tools": {"refund": {"action_type": "payments.refund", "confidence": 0.95}}}
    result = gw.call(platform, config=config)[1]
    assert text_of(result) == "refunded 15.00 on M-1"
    assert Proposal.objects.get().approved_by == "policy"


def test_an_unlisted_tool_is_forwarded_when_configured(platform, gw):
    assert text_of(gw.call(platform, "lookup", {"order_id": "M-9"})[1]) == "order M-9"
    assert Proposal.objects.count() == 0


def test_expiry_through_the_sla_sweep_is_an_error(platform, gw, in_background):
    call = in_background(gw.call, platform)
    platform.expire_overdue()
    result = call.result(timeout=60)[1]
    assert result.is_error and "no reviewer decided in time" in text_of(result)
    assert gw.runs == []


def test_the_gateways_deadline_is_an_error_and_the_proposal_stays_pending(platform, gw):
    config = CONFIG | {"platform": {"wait": 0.3}}
    result = gw.call(platform, config=config)[1]
    assert result.is_error and "still waiting for human approval" in text_of(result)
    assert Proposal.objects.get().status == "pending"


def test_an_upstream_error_is_reported_failed(platform, gw, in_background):
    gw.fail = True
    call = in_background(gw.call, platform)
    proposal_id = platform.decide_pending("approve")
    assert call.result(timeout=60)[1].is_error
    assert Proposal.objects.get(pk=proposal_id).execution_status == "failed"


def test_a_repeated_call_after_a_restart_finds_the_same_proposal_and_runs_once(platform, gw, in_background):
    call = in_background(gw.call, platform)
    platform.decide_pending("approve")
    first = call.result(timeout=60)[1]
    again = gw.call(platform)[1]  # a new gateway and a new client: the same call
    assert text_of(first) == "refunded 15.00 on M-1" and not again.is_error
    assert gw.runs == [("M-1", "15.00")]
    assert Proposal.objects.count() == 1


def test_the_console_script_refuses_a_bad_config(tmp_path):
    require_module("mcp")
    config = tmp_path / "gateway.toml"
    config.write_text(
        '[platform]\nurl = "http://127.0.0.1:1"\n[upstream]\ncommand = "true"\n[unlisted]\nmode = "nope"\n'
    )
    finished = subprocess.run(
        [sys.executable, "-m", "hitlplatform_client.mcp_gateway", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert finished.returncode == 2 and "[unlisted] mode" in finished.stderr


def test_the_console_script_gates_a_stdio_upstream(platform, tmp_path):
    """The installed `hitlplatform-mcp-gateway` over stdio, in front of a stdio upstream, as a client runs it."""
    require_module("mcp")
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters

    refunds = tmp_path / "refunds.txt"
    upstream = Path(__file__).with_name("toy_refund_server.py")
    config = tmp_path / "gateway.toml"
    config.write_text(
        f'[platform]\nurl = "{platform.url}"\napi_key_env = "SDK_TEST_AGENT_KEY"\nwait = 5\n'
        f'[upstream]\ncommand = "{sys.executable}"\nargs = ["{upstream}"]\nenv = {{REFUNDS_FILE = "{refunds}"}}\n'
        '[tools.refund]\naction_type = "payments.refund"\nconfidence = 0.95\n'
    )
    gateway = Path(sys.executable).with_name("hitlplatform-mcp-gateway")
    command = str(gateway) if gateway.exists() else sys.executable
    args = (
        ["--config", str(config)]
        if gateway.exists()
        else ["-m", "hitlplatform_client.mcp_gateway", "--config", str(config)]
    )
    environment = {**os.environ, "SDK_TEST_AGENT_KEY": platform.agent_key}

    async def scenario():
        async with Client(StdioServerParameters(command=command, args=args, env=environment)) as client:
            names = [tool.name for tool in (await client.list_tools()).tools]
            return names, await client.call_tool("refund", {"order_id": "S-1", "amount": "2.00"})

    names, result = asyncio.run(scenario())
    assert names == ["refund"]
    assert not result.is_error and text_of(result) == "refunded 2.00 on S-1"
    assert refunds.read_text() == "S-1 2.00\n"
    assert Proposal.objects.get().execution_status == "succeeded"


def test_changes_requested_is_an_error_with_the_instructions(platform, gw, in_background):
    call = in_background(gw.call, platform)
    platform.decide_pending("request_changes", rationale="Refund 5.00 only.", instructions="Refund 5.00 only.")
    result = call.result(timeout=60)[1]
    assert result.is_error and "Refund 5.00 only." in text_of(result)


def test_decided_by_a_reviewer_through_the_api_only(platform):
    # The cast: the reviewer's token decides; the agent's key cannot.
    from hitlplatform_client import Forbidden

    proposal = platform.client().submit(
        action_type="payments.refund", payload={"a": 1}, confidence=0.5, irreversible=True
    )
    with pytest.raises(Forbidden):
        platform.client().decide(proposal.id, verdict="approve", rationale="self-approval", password=PASSWORD)
