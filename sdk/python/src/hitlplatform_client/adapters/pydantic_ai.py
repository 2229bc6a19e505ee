"""Pydantic AI: `HitlApprovals`, a capability that answers deferred approvals from hitlplatform.

    agent = Agent(model, output_type=[str, DeferredToolRequests],
                  capabilities=[HitlApprovals(hitl, tools={"refund": {"action_type": "payments.refund"}})])

    @agent.tool_plain(requires_approval=True)
    def refund(order_id: str, amount: str) -> str: ...

Each approval request becomes a proposal (keyed by conversation and tool-call id); approve is
`ToolApproved(override_args=final_payload)`, reject / expiry / changes_requested a `ToolDenied`
carrying the rationale or instructions. At execution (`wrap_tool_execute`) the capability checks the
proposal again, runs the tool at most once, and reports `succeeded` or `failed`. A call still pending
after `inline_wait` is left deferred: the run ends with `DeferredToolRequests`, and
`resolve_deferred(...)` builds the `DeferredToolResults` of a later run from the platform.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.tools import DeferredToolRequests, DeferredToolResults, ToolApproved, ToolDenied

from ..client import AsyncHitlClient
from ..errors import AlreadyExecuted, ApprovalTimeout, NotApproved
from ..gate import GateSpec, denial_message, execution_detail, failure_detail, outcome
from ..models import Proposal
from . import adecided, call_client, call_key, decided, gate_spec, jsonable, keyed_fields

PROPOSAL_ID = "hitl_proposal_id"


@dataclass
class HitlApprovals(AbstractCapability[Any]):
    client: Any
    tools: dict[str, Any]
    inline_wait: float | None = 30.0
    _specs: dict[str, GateSpec] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._specs = {name: gate_spec(name, policy) for name, policy in self.tools.items()}

    @classmethod
    def get_serialization_name(cls) -> str | None:
        return None

    async def handle_deferred_tool_calls(
        self, ctx: Any, *, requests: DeferredToolRequests
    ) -> DeferredToolResults | None:
        approvals: dict[str, Any] = {}
        metadata: dict[str, dict[str, Any]] = {}
        for call in requests.approvals:
            spec = self._specs.get(call.tool_name)
            if spec is None:
                continue
            proposal = await self._decide(spec, call, ctx.conversation_id, self.inline_wait)
            answer = approval_for(proposal, spec)
            if answer is not None:
                approvals[call.tool_call_id] = answer
                metadata[call.tool_call_id] = {PROPOSAL_ID: proposal.id}
        if not approvals:
            return None
        return DeferredToolResults(approvals=approvals, metadata=metadata)

    async def wrap_tool_execute(self, ctx: Any, *, call: Any, tool_def: Any, args: Any, handler: Callable) -> Any:
        spec = self._specs.get(call.tool_name)
        if spec is None:
            return await handler(args)
        proposal_id = (
            (ctx.tool_call_metadata or {}).get(PROPOSAL_ID) if isinstance(ctx.tool_call_metadata, dict) else None
        )
        if proposal_id is None:  # approved some other way: the platform decides, found by the call's key
            proposal = await self._decide(spec, call, ctx.conversation_id, 0)
        else:
            proposal = await call_client(self.client.get, proposal_id)
        try:
            outcome(proposal, self.client)
        except AlreadyExecuted as done:
            return done.result  # a resumed run: the tool ran before and never runs twice
        except NotApproved as error:
            return denial_message(error, spec.action_type)
        try:
            result = await handler(args)
        except Exception as error:
            await call_client(self.client.report_execution, proposal.id, "failed", failure_detail(error))
            raise
        await call_client(self.client.report_execution, proposal.id, "succeeded", execution_detail(jsonable(result)))
        return result

    async def _decide(self, spec: GateSpec, call: Any, conversation_id: str | None, wait: float | None) -> Proposal:
        if isinstance(self.client, AsyncHitlClient):
            return await _adecided(self.client, spec, call, conversation_id, wait)
        # The sync client in a worker thread: waiting holds no event loop.
        return await asyncio.to_thread(_decided, self.client, spec, call, conversation_id, wait)


def approval_for(proposal: Proposal, spec: GateSpec) -> ToolApproved | ToolDenied | None:
    """ToolApproved with the final payload, ToolDenied with the reviewer's words, None while pending."""
    try:
        final_payload = outcome(proposal)
    except AlreadyExecuted:
        return ToolApproved(override_args=dict(proposal.final_payload or proposal.payload))
    except ApprovalTimeout:
        return None
    except NotApproved as error:
        return ToolDenied(denial_message(error, spec.action_type))
    return ToolApproved(override_args=final_payload)


def resolve_deferred(
    client: Any, requests: DeferredToolRequests, *, tools: dict[str, Any], conversation_id: str, wait: float = 0
) -> DeferredToolResults:
    """The results of the calls hitlplatform has decided (sync client), for `agent.run(..., deferred_tool_results=)`."""
    specs = {name: gate_spec(name, policy) for name, policy in tools.items()}
    results = DeferredToolResults()
    for call in requests.approvals:
        spec = specs.get(call.tool_name)
        if spec is None:
            continue
        proposal = _decided(client, spec, call, conversation_id, wait)
        answer = approval_for(proposal, spec)
        if answer is not None:
            results.approvals[call.tool_call_id] = answer
            results.metadata[call.tool_call_id] = {PROPOSAL_ID: proposal.id}
    return results


def _decided(client: Any, spec: GateSpec, call: Any, conversation_id: str | None, wait: float | None) -> Proposal:
    return decided(client, *_submission(spec, call, conversation_id), wait)


async def _adecided(
    client: AsyncHitlClient, spec: GateSpec, call: Any, conversation_id: str | None, wait: float | None
) -> Proposal:
    return await adecided(client, *_submission(spec, call, conversation_id), wait)


def _submission(spec: GateSpec, call: Any, conversation_id: str | None) -> tuple[dict[str, Any], str]:
    """(submit fields, Idempotency-Key) of a deferred tool call, keyed by conversation and call id."""
    arguments = call.args_as_dict()
    key = call_key("pydantic_ai", conversation_id, call.tool_call_id, spec, arguments)
    return keyed_fields(spec, arguments, key), key
