"""`hitlplatform-mcp-gateway`: an MCP server in front of one upstream MCP server that puts each tool
call through hitlplatform.

`tools/list` passes through. Each `tools/call` becomes a proposal (the tool's action type and risk
signals from the config file) and is forwarded upstream only once approved, with the final
(possibly modified) arguments; reject, expiry, cancellation, changes requested and the gateway's
own deadline answer `isError` with the reviewer's words and the proposal id. The execution is
reported from the upstream result. The key of a call is `_meta["hitlplatform/key"]` when the
caller sends one, else the tool and its arguments: the same call is one proposal and runs at most once.

Config (TOML):

    [platform]
    url = "http://127.0.0.1:8000"
    api_key_env = "HITL_AGENT_KEY"      # the agent key is read from this variable
    wait = 300                          # seconds a call may wait for a decision

    [upstream]
    command = "python"                  # a stdio server ...
    args = ["refund_server.py"]
    # url = "http://127.0.0.1:9000/mcp" # ... or a Streamable HTTP one

    [tools.refund]
    action_type = "payments.refund"
    confidence = 0.9
    irreversible = true
    summary = "Refund {amount} on {order_id}"

    [unlisted]
    mode = "gate"                       # "gate" (action type "mcp.<tool>") or "forward"
"""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

import anyio
import mcp_types as types
from mcp.server import Server

from .client import AsyncHitlClient
from .errors import AlreadyExecuted, ApiError, ApprovalTimeout, NotApproved
from .gate import GateSpec, default_key, denial_message, execution_detail, outcome

KEY_META = "hitlplatform/key"


@dataclass
class GatewayConfig:
    tools: dict[str, GateSpec] = field(default_factory=dict)
    wait: float | None = 300.0
    forward_unlisted: bool = False

    @classmethod
    def from_dict(cls, config: dict[str, Any]) -> GatewayConfig:
        tools = {}
        for name, policy in (config.get("tools") or {}).items():
            policy = dict(policy)
            tools[name] = GateSpec(action_type=policy.pop("action_type", f"mcp.{name}"), **policy)
        platform = config.get("platform") or {}
        unlisted = (config.get("unlisted") or {}).get("mode", "gate")
        if unlisted not in ("gate", "forward"):
            raise ValueError("[unlisted] mode must be 'gate' or 'forward'")
        return cls(tools=tools, wait=platform.get("wait", 300.0), forward_unlisted=unlisted == "forward")

    def spec_for(self, tool: str) -> GateSpec | None:
        if tool in self.tools:
            return self.tools[tool]
        return None if self.forward_unlisted else GateSpec(action_type=f"mcp.{tool}")


def build_gateway(
    hitl: AsyncHitlClient, upstream: Any, config: GatewayConfig, *, name: str = "hitlplatform-gateway"
) -> Server:
    """The gateway's MCP server; `upstream` is a connected `mcp.Client` (or a ClientSession)."""

    async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
        return await upstream.list_tools(cursor=params.cursor if params else None)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        arguments = dict(params.arguments or {})
        spec = config.spec_for(params.name)
        if spec is None:
            return await upstream.call_tool(params.name, arguments)
        meta = params.meta.model_dump() if params.meta is not None and hasattr(params.meta, "model_dump") else {}
        key = str(meta.get(KEY_META) or default_key(f"mcp:{params.name}:{spec.action_type}", arguments))[:200]
        fields, _default = spec.submission(arguments)
        fields["external_id"] = key
        try:
            proposal = await hitl.submit(idempotency_key=key, **fields)
            if not proposal.is_final:
                proposal = await hitl.wait_final(proposal.id, deadline=config.wait)
            final_payload = outcome(proposal)
        except AlreadyExecuted as done:
            return _replayed(done.result)
        except ApprovalTimeout as pending:
            return _text(denial_message(pending, spec.action_type), error=True)
        except NotApproved as error:
            return _text(denial_message(error, spec.action_type), error=True)
        except ApiError as error:
            return _text(f"hitlplatform refused the call: {error.message}", error=True)
        result = await upstream.call_tool(params.name, final_payload)
        if result.is_error:
            detail = {"error": "upstream", "message": _plain_text(result)[:2000]}
            await hitl.report_execution(proposal.id, "failed", detail)
        else:
            content = result.structured_content if result.structured_content is not None else _plain_text(result)
            await hitl.report_execution(proposal.id, "succeeded", execution_detail(content))
        return result

    return Server(name, on_list_tools=list_tools, on_call_tool=call_tool)


def _text(message: str, *, error: bool) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=message)], is_error=error)


def _replayed(result: Any) -> types.CallToolResult:
    """The recorded result of a call that already ran: it is not forwarded a second time."""
    text = result if isinstance(result, str) else json.dumps(result)
    structured = result if isinstance(result, dict) else None
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], structured_content=structured)


def _plain_text(result: types.CallToolResult) -> str:
    return "\n".join(getattr(part, "text", "") for part in result.content)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="hitlplatform-mcp-gateway", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="the TOML config file")
    options = parser.parse_args(argv)
    try:
        with open(options.config, "rb") as config_file:
            raw = tomllib.load(config_file)
        config = GatewayConfig.from_dict(raw)
        if "url" not in (raw.get("platform") or {}):
            raise ValueError("[platform] url is missing")
        if not {"url", "command"} & set(raw.get("upstream") or {}):
            raise ValueError("[upstream] needs a command or a url")
    except (OSError, ValueError, TypeError) as error:
        parser.error(f"{options.config}: {error}")
    anyio.run(_serve, raw, config)


async def _serve(raw: dict[str, Any], config: GatewayConfig) -> None:
    from mcp import Client
    from mcp.client.stdio import StdioServerParameters
    from mcp.server.stdio import stdio_server

    platform = raw.get("platform") or {}
    api_key = os.environ.get(platform.get("api_key_env", "HITL_AGENT_KEY"), "")
    upstream_config = raw.get("upstream") or {}
    if "url" in upstream_config:
        target: Any = upstream_config["url"]
    else:
        target = StdioServerParameters(
            command=upstream_config["command"],
            args=list(upstream_config.get("args", [])),
            env=upstream_config.get("env"),
        )
    async with AsyncHitlClient(platform["url"], api_key) as hitl, Client(target) as upstream:
        server = build_gateway(hitl, upstream, config)
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())


if __name__ == "__main__":
    main()
