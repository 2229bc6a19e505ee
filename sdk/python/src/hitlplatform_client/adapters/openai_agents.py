"""OpenAI Agents SDK: `hitl_function_tool`, a function tool gated at execution, and `resolve_interruptions`,
which answers a RunState's approval interruptions from hitlplatform.

    refund_tool = hitl_function_tool(hitl, refund, action_type="payments.refund", irreversible=True)
    agent = Agent(name="support", tools=[refund_tool])

Without `needs_approval` the tool waits inline when it runs (`inline_wait` seconds) and tells the model
why when it may not run. With `needs_approval=True` the run stops with interruptions; store
`result.to_state().to_json()`, and later (any process) `RunState.from_json(...)`,
`resolve_interruptions(hitl, state)` and `Runner.run(agent, state)`. Either way the proposal is keyed
by the tool-call id, and the tool itself checks it again before running: it runs only approved, with
the final (possibly modified) arguments, at most once, and its outcome is reported.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from typing import Any

from agents import FunctionTool, function_tool

from ..client import AsyncHitlClient
from ..errors import AlreadyExecuted, ApprovalTimeout, NotApproved
from ..gate import GateSpec, denial_message, execution_detail, failure_detail, outcome
from ..models import Proposal
from . import adecided, call_client, decided, jsonable, keyed_fields

KEY_PREFIX = "openai_agents"


def hitl_function_tool(
    client: Any,
    function: Callable[..., Any],
    *,
    action_type: str,
    needs_approval: bool = False,
    inline_wait: float | None = 30.0,
    scope: str = "",
    name_override: str | None = None,
    **signals: Any,
) -> FunctionTool:
    """A FunctionTool that runs `function` only once hitlplatform approved the call.

    `signals` are GateSpec fields (confidence, summary, irreversible, ...), values or callables of
    the arguments. `scope` goes into the key, for tool-call ids that are unique only within a run.
    """
    spec = GateSpec(action_type=action_type, **signals)
    base = function_tool(
        function, name_override=name_override, failure_error_function=None, needs_approval=needs_approval
    )
    run_original = base.on_invoke_tool

    async def invoke(ctx: Any, input_json: str) -> Any:
        arguments = json.loads(input_json or "{}")
        proposal = await _decided(client, spec, arguments, _key(scope, ctx.tool_call_id), inline_wait)
        try:
            final_payload = outcome(proposal, client)
        except AlreadyExecuted as done:
            return done.result
        except NotApproved as error:
            return denial_message(error, action_type)
        try:
            result = await run_original(ctx, json.dumps(final_payload))
        except Exception as error:
            await call_client(client.report_execution, proposal.id, "failed", failure_detail(error))
            return f"The tool {base.name} failed: {error}"
        await call_client(client.report_execution, proposal.id, "succeeded", execution_detail(jsonable(result)))
        return result

    tool = copy.copy(base)
    tool.on_invoke_tool = invoke
    tool.hitl_spec = spec  # type: ignore[attr-defined]
    tool.hitl_scope = scope  # type: ignore[attr-defined]
    return tool


def resolve_interruptions(client: Any, state: Any, *, wait: float = 0) -> list[int]:
    """Approve or reject (with the reviewer's rationale) each of the state's interruptions that
    hitlplatform has decided; returns the ids of the proposals still pending. Sync client."""
    pending = []
    for item, spec, scope in _gated_interruptions(state):
        arguments = _arguments_of(item)
        proposal = _decided_sync(client, spec, arguments, _key(scope, _call_id(item)), wait)
        if _apply(state, item, proposal, spec):
            pending.append(proposal.id)
    return pending


async def aresolve_interruptions(client: Any, state: Any, *, wait: float = 0) -> list[int]:
    """`resolve_interruptions` with either client, awaitable."""
    pending = []
    for item, spec, scope in _gated_interruptions(state):
        proposal = await _decided(client, spec, _arguments_of(item), _key(scope, _call_id(item)), wait)
        if _apply(state, item, proposal, spec):
            pending.append(proposal.id)
    return pending


def _apply(state: Any, item: Any, proposal: Proposal, spec: GateSpec) -> bool:
    """True while pending. Approval here lets the run go on; the tool still checks the decision."""
    try:
        outcome(proposal)
    except AlreadyExecuted:
        state.approve(item)
    except ApprovalTimeout:
        return True
    except NotApproved as error:
        state.reject(item, rejection_message=denial_message(error, spec.action_type))
    else:
        state.approve(item)
    return False


def _gated_interruptions(state: Any):
    for item in state.get_interruptions():
        tool = next(
            (one for one in getattr(item.agent, "tools", []) if getattr(one, "name", None) == item.tool_name), None
        )
        spec = getattr(tool, "hitl_spec", None)
        if spec is not None:
            yield item, spec, getattr(tool, "hitl_scope", "")


def _arguments_of(item: Any) -> dict[str, Any]:
    raw = item.raw_item
    arguments = raw.get("arguments") if isinstance(raw, dict) else getattr(raw, "arguments", None)
    return json.loads(arguments or "{}")


def _call_id(item: Any) -> str:
    raw = item.raw_item
    return str(raw.get("call_id") if isinstance(raw, dict) else getattr(raw, "call_id", ""))


def _key(scope: str, call_id: str) -> str:
    return f"{KEY_PREFIX}:{scope or '-'}:{call_id}"


async def _decided(client: Any, spec: GateSpec, arguments: dict, key: str, wait: float | None) -> Proposal:
    if isinstance(client, AsyncHitlClient):
        return await adecided(client, keyed_fields(spec, arguments, key), key, wait)
    # The sync client in a worker thread: waiting holds no event loop.
    return await asyncio.to_thread(_decided_sync, client, spec, arguments, key, wait)


def _decided_sync(client: Any, spec: GateSpec, arguments: dict, key: str, wait: float | None) -> Proposal:
    return decided(client, keyed_fields(spec, arguments, key), key, wait)
