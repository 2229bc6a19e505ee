"""Framework adapters. Each enforces the decision where the tool executes and keys the proposal by
run/thread and tool-call id, so that a resumed run finds the same proposal."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Callable
from typing import Any

from ..errors import ApprovalTimeout
from ..gate import GateSpec
from ..models import Proposal


def gate_spec(tool_name: str, policy: Any) -> GateSpec:
    """A tool's policy: a GateSpec, a dict of its fields, or just the action type."""
    if isinstance(policy, GateSpec):
        return policy
    if isinstance(policy, str):
        return GateSpec(action_type=policy)
    if isinstance(policy, dict):
        return GateSpec(**({"action_type": f"tool.{tool_name}"} | policy))
    raise TypeError(f"the policy of tool {tool_name!r} must be a GateSpec, a dict or an action type")


def call_key(prefix: str, run_id: str | None, call_id: str | None, spec: GateSpec, arguments: dict) -> str:
    """The Idempotency-Key of one tool call: the framework's ids when it has them, else the arguments."""
    if spec.key is not None:
        return str(spec.key(arguments) if callable(spec.key) else spec.key)
    if call_id:
        return f"{prefix}:{run_id or '-'}:{call_id}"
    from ..gate import default_key

    return default_key(spec.action_type, arguments)


def keyed_fields(spec: GateSpec, arguments: dict, key: str) -> dict[str, Any]:
    """The submit fields of a tool call whose Idempotency-Key is `key` (its external_id too)."""
    fields, _default_key = spec.submission(arguments)
    fields["external_id"] = key[:200]
    return fields


def decided(client: Any, fields: dict[str, Any], key: str, wait: float | None) -> Proposal:
    """Submit (sync client), then wait up to `wait` seconds (0: not at all, None: until final) for
    the decision; the proposal as it is then."""
    proposal = client.submit(idempotency_key=key, **fields)
    if proposal.is_final or wait == 0:
        return proposal
    try:
        return client.wait_final(proposal.id, deadline=wait)
    except ApprovalTimeout as pending:
        return pending.proposal or proposal


async def adecided(client: Any, fields: dict[str, Any], key: str, wait: float | None) -> Proposal:
    """`decided` with AsyncHitlClient."""
    proposal = await client.submit(idempotency_key=key, **fields)
    if proposal.is_final or wait == 0:
        return proposal
    try:
        return await client.wait_final(proposal.id, deadline=wait)
    except ApprovalTimeout as pending:
        return pending.proposal or proposal


async def call_client(function: Callable, *args: Any) -> Any:
    """Call a client method from async code: awaited when async, else in a worker thread (a wait
    there holds no event loop)."""
    if inspect.iscoroutinefunction(function):
        return await function(*args)
    result = await asyncio.to_thread(function, *args)
    return await result if inspect.isawaitable(result) else result


def jsonable(result: Any) -> Any:
    """A tool's result as reported: itself when JSON can carry it, else its text."""
    try:
        json.dumps(result)
    except (TypeError, ValueError):
        return str(result)
    return result
