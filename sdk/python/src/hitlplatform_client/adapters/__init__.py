"""Framework adapters. Each enforces the decision where the tool executes and keys the proposal by
run/thread and tool-call id, so that a resumed run finds the same proposal."""

from __future__ import annotations

from typing import Any

from ..gate import GateSpec


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
