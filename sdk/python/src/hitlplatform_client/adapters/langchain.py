"""LangChain v1 / LangGraph: `HitlMiddleware`, an AgentMiddleware that gates tool calls in `wrap_tool_call`.

    agent = create_agent(model, tools=[refund], checkpointer=InMemorySaver(),
                         middleware=[HitlMiddleware(hitl, tools={"refund": {"action_type": "payments.refund"}})])

Approve runs the tool; modify runs it with the edited arguments; reject, expiry, cancellation and
changes_requested return an error ToolMessage with the reviewer's rationale or instructions, so the
model reads it and the tool never runs. A proposal still pending after `inline_wait` seconds becomes a
LangGraph `interrupt` (`on_pending="interrupt"`, needs a checkpointer); `Command(resume=...)` on the
same thread picks it up, finding the same proposal by thread and tool-call id.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from langgraph.types import interrupt

from ..errors import AlreadyExecuted, ApprovalTimeout, NotApproved
from ..gate import GateSpec, denial_message, execution_detail, failure_detail, outcome
from ..models import Proposal
from . import call_key, gate_spec, keyed_fields


class HitlMiddleware(AgentMiddleware):
    """Gate the named tools (others run untouched) on hitlplatform decisions."""

    def __init__(
        self,
        client: Any,
        tools: dict[str, Any],
        *,
        inline_wait: float = 30.0,
        on_pending: Literal["interrupt", "message"] = "interrupt",
    ):
        super().__init__()
        self.client = client
        self.specs = {name: gate_spec(name, policy) for name, policy in tools.items()}
        self.inline_wait = inline_wait
        self.on_pending = on_pending

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        tool_call = request.tool_call
        spec = self.specs.get(tool_call["name"])
        if spec is None:
            return handler(request)
        proposal = self._decided(spec, tool_call, _thread_id(request))
        final_payload, answer = self._payload_or_answer(proposal, spec, tool_call)
        if answer is not None:
            return answer
        try:
            result = handler(request.override(tool_call={**tool_call, "args": final_payload}))
        except Exception as error:
            self.client.report_execution(proposal.id, "failed", failure_detail(error))
            raise
        self._report(proposal, result)
        return result

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        tool_call = request.tool_call
        spec = self.specs.get(tool_call["name"])
        if spec is None:
            return await handler(request)
        # The sync client in a worker thread: waiting holds no event loop.
        proposal = await asyncio.to_thread(self._decided, spec, tool_call, _thread_id(request))
        final_payload, answer = self._payload_or_answer(proposal, spec, tool_call)
        if answer is not None:
            return answer
        try:
            result = await handler(request.override(tool_call={**tool_call, "args": final_payload}))
        except Exception as error:
            await asyncio.to_thread(self.client.report_execution, proposal.id, "failed", failure_detail(error))
            raise
        await asyncio.to_thread(self._report, proposal, result)
        return result

    def _payload_or_answer(
        self, proposal: Proposal, spec: GateSpec, tool_call: dict
    ) -> tuple[dict[str, Any] | None, ToolMessage | None]:
        """(the approved arguments, None), or (None, the ToolMessage that answers instead of the tool:
        a replay's recorded result, or why it may not run)."""
        try:
            return outcome(proposal, self.client), None
        except AlreadyExecuted as done:
            return None, _tool_message(tool_call, _content(done.result), status="success")
        except NotApproved as error:
            return None, _tool_message(tool_call, denial_message(error, spec.action_type), status="error")

    def _decided(self, spec: GateSpec, tool_call: dict, thread_id: str | None) -> Proposal:
        arguments = dict(tool_call.get("args") or {})
        key = call_key("langchain", thread_id, tool_call.get("id"), spec, arguments)
        proposal = self.client.submit(idempotency_key=key, **keyed_fields(spec, arguments, key))
        while not proposal.is_final:
            try:
                return self.client.wait_final(proposal.id, deadline=self.inline_wait)
            except ApprovalTimeout as pending:
                if self.on_pending != "interrupt":
                    return pending.proposal
                # Raises GraphInterrupt the first time; after Command(resume=...) it returns and we look again.
                interrupt(
                    {
                        "hitl_proposal_id": proposal.id,
                        "status": "pending",
                        "tool_call_id": tool_call.get("id"),
                        "tool": tool_call["name"],
                        "message": denial_message(pending, spec.action_type),
                    }
                )
                proposal = self.client.get(proposal.id)
        return proposal

    def _report(self, proposal: Proposal, result: Any) -> None:
        if isinstance(result, ToolMessage) and result.status == "error":
            self.client.report_execution(
                proposal.id, "failed", {"error": "ToolMessage", "message": str(result.content)[:2000]}
            )
        else:
            content = result.content if isinstance(result, ToolMessage) else None
            self.client.report_execution(proposal.id, "succeeded", execution_detail(content))


def _thread_id(request: Any) -> str | None:
    runtime = getattr(request, "runtime", None)
    config = getattr(runtime, "config", None) or {}
    return (config.get("configurable") or {}).get("thread_id")


def _tool_message(tool_call: dict, content: str, *, status: str) -> ToolMessage:
    return ToolMessage(content=content, tool_call_id=tool_call.get("id") or "", name=tool_call["name"], status=status)


def _content(result: Any) -> str:
    return result if isinstance(result, str) else json.dumps(result)
