"""`require_approval` and `gate`: an action runs only once a human (or the policy) approved it, with
the approved arguments, and at most once per key.

The key is the Idempotency-Key of the submission: a re-run after a crash submits the same body
with the same key, gets the same proposal back, and finds its decision (or, once the action ran
and was reported, its recorded result, so the action never runs a second time). The one window
left is a crash after the action ran and before its execution was reported.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import (
    AlreadyExecuted,
    ApprovalTimeout,
    Cancelled,
    ChangesRequested,
    Conflict,
    Expired,
    NotApproved,
    Rejected,
)
from .models import Proposal

logger = logging.getLogger("hitlplatform_client")

OnReject = Literal["raise", "message"]
_SIGNALS = ("summary", "reasoning", "evidence", "confidence", "irreversible", "blast_radius", "compliance_exposure")


@dataclass
class GateSpec:
    """How to turn one call's arguments into a proposal. Each signal is a value or a callable of the
    arguments (a dict); `summary` may also be a format string over them."""

    action_type: str
    confidence: Any = 0.5
    summary: Any = None
    reasoning: Any = None
    evidence: Any = None
    irreversible: Any = None
    blast_radius: Any = None
    compliance_exposure: Any = None
    expected_impact: Any = None
    key: Any = None
    payload: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    deadline: float | None = None
    callback_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def submission(self, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """(submit keyword arguments, idempotency key) of a call."""
        payload = self.payload(arguments) if self.payload else dict(arguments)
        fields: dict[str, Any] = {"action_type": self.action_type, "payload": payload}
        for name in (*_SIGNALS, "expected_impact"):
            value = _resolve(getattr(self, name), arguments)
            if name == "summary" and isinstance(value, str):
                value = _format(value, arguments)
            if value is not None:
                fields[name] = value
        if self.callback_url:
            fields["callback_url"] = self.callback_url
        key = _resolve(self.key, arguments) if self.key is not None else None
        key = str(key) if key is not None else default_key(self.action_type, payload)
        fields["external_id"] = key[:200]
        return fields | self.extra, key[:200]


def default_key(action_type: str, payload: dict[str, Any]) -> str:
    """The same action with the same arguments is the same proposal: run at most once."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return f"{action_type}:{hashlib.sha256(canonical.encode()).hexdigest()[:40]}"


def outcome(proposal: Proposal, client: Any = None) -> dict[str, Any]:
    """The approved payload of a final proposal, or the NotApproved / AlreadyExecuted it means."""
    status = proposal.status
    if status == "approved":
        if proposal.execution:
            raise AlreadyExecuted(proposal=proposal)
        return dict(proposal.final_payload if proposal.final_payload is not None else proposal.payload)
    if status == "rejected":
        raise Rejected(proposal.rationale or "rejected by a reviewer", proposal=proposal)
    if status == "expired":
        raise Expired("nobody decided before the deadline; the action is denied", proposal=proposal)
    if status == "cancelled":
        raise Cancelled("the proposal was cancelled", proposal=proposal)
    if status == "changes_requested":
        raise ChangesRequested(proposal.rationale or "changes requested", proposal=proposal, client=client)
    raise ApprovalTimeout(f"proposal {proposal.id} is still {status}", proposal=proposal)


def denial_message(error: NotApproved, action_type: str | None = None) -> str:
    """What a model (or a person) is told when the action did not run."""
    action = f" {action_type}" if action_type else ""
    ident = f" (hitlplatform proposal {error.proposal_id})" if error.proposal_id else ""
    if isinstance(error, ApprovalTimeout):
        return f"The action{action} is still waiting for human approval{ident}; it did not run yet."
    if isinstance(error, ChangesRequested):
        return (
            f"The reviewer requested changes to the action{action}{ident}; it did not run. Instructions: {error.reason}"
        )
    if isinstance(error, Expired):
        return f"The action{action} was denied: no reviewer decided in time{ident}; it did not run."
    if isinstance(error, Cancelled):
        return f"The action{action} was cancelled{ident}; it did not run."
    return f"The action{action} was rejected by the human reviewer{ident}; it did not run. Rationale: {error.reason}"


def execution_detail(result: Any) -> dict[str, Any]:
    try:
        json.dumps(result)
    except (TypeError, ValueError):
        return {"result_repr": repr(result)[:2000]}
    return {"result": result}


def failure_detail(error: BaseException) -> dict[str, Any]:
    return {"error": type(error).__name__, "message": str(error)[:2000]}


# The decorator.


def require_approval(
    client: Any,
    *,
    action_type: str,
    confidence: Any = 0.5,
    summary: Any = None,
    reasoning: Any = None,
    evidence: Any = None,
    irreversible: Any = None,
    blast_radius: Any = None,
    compliance_exposure: Any = None,
    expected_impact: Any = None,
    key: Any = None,
    deadline: float | None = None,
    on_reject: OnReject = "raise",
    payload: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    to_arguments: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    callback_url: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Gate a function (sync with HitlClient, `async def` with AsyncHitlClient) on a human decision.

    The call's arguments are the payload (or `payload(arguments)`); once approved the function runs
    with `final_payload` (through `to_arguments(final_payload)` when the payload is not the
    arguments), and its outcome is reported. `on_reject="message"` returns the denial text instead
    of raising Rejected / Expired / ApprovalTimeout / ChangesRequested.
    """
    spec = GateSpec(
        action_type=action_type,
        confidence=confidence,
        summary=summary,
        reasoning=reasoning,
        evidence=evidence,
        irreversible=irreversible,
        blast_radius=blast_radius,
        compliance_exposure=compliance_exposure,
        expected_impact=expected_impact,
        key=key,
        payload=payload,
        deadline=deadline,
        callback_url=callback_url,
    )
    if on_reject not in ("raise", "message"):
        raise ValueError("on_reject must be 'raise' or 'message'")

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(function)

        def arguments_of(args: tuple, kwargs: dict) -> dict[str, Any]:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return dict(bound.arguments)

        def call_arguments(final_payload: dict[str, Any]) -> dict[str, Any]:
            return to_arguments(final_payload) if to_arguments else final_payload

        def gated_call(args: tuple, kwargs: dict) -> tuple[dict[str, Any], Callable[[dict], Any]]:
            """(the call's arguments, what runs it with the approved payload)."""
            return arguments_of(args, kwargs), lambda final: function(**call_arguments(final))

        def denied(error: NotApproved) -> str:
            if on_reject == "message":
                return denial_message(error, action_type)
            raise error

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def gated(*args: Any, **kwargs: Any) -> Any:
                try:
                    return await run_gated_async(client, spec, *gated_call(args, kwargs))
                except NotApproved as error:
                    return denied(error)

        else:

            @functools.wraps(function)
            def gated(*args: Any, **kwargs: Any) -> Any:
                try:
                    return run_gated(client, spec, *gated_call(args, kwargs))
                except NotApproved as error:
                    return denied(error)

        gated.hitl_spec = spec  # type: ignore[attr-defined]
        return gated

    return decorate


def run_gated(client: Any, spec: GateSpec, arguments: dict[str, Any], execute: Callable[[dict], Any]) -> Any:
    """Submit (idempotently), wait, run `execute(final_payload)` once, report; the sync path."""
    proposal = submit_and_wait(client, spec, arguments)
    replayed, payload_or_result = _payload_or_recorded_result(proposal, client)
    if replayed:
        return payload_or_result
    try:
        result = execute(payload_or_result)
    except BaseException as error:
        _report(client, proposal.id, "failed", failure_detail(error))
        raise
    _report(client, proposal.id, "succeeded", execution_detail(result))
    return result


async def run_gated_async(
    client: Any, spec: GateSpec, arguments: dict[str, Any], execute: Callable[[dict], Any]
) -> Any:
    proposal = await asubmit_and_wait(client, spec, arguments)
    replayed, payload_or_result = _payload_or_recorded_result(proposal, client)
    if replayed:
        return payload_or_result
    try:
        result = execute(payload_or_result)
        if inspect.isawaitable(result):
            result = await result
    except BaseException as error:
        await _areport(client, proposal.id, "failed", failure_detail(error))
        raise
    await _areport(client, proposal.id, "succeeded", execution_detail(result))
    return result


def _payload_or_recorded_result(proposal: Proposal, client: Any) -> tuple[bool, Any]:
    """(False, the approved payload to run with), or (True, the recorded result) when a run of this
    proposal was already reported as succeeded; raises what `outcome` raises otherwise."""
    try:
        return False, outcome(proposal, client)
    except AlreadyExecuted as done:
        if done.status == "succeeded":
            return True, done.result
        raise


def submit_and_wait(client: Any, spec: GateSpec, arguments: dict[str, Any], deadline: float | None = None) -> Proposal:
    fields, key = spec.submission(arguments)
    proposal = client.submit(idempotency_key=key, **fields)
    if not proposal.is_final:
        proposal = client.wait_final(proposal.id, deadline=spec.deadline if deadline is None else deadline)
    return proposal


async def asubmit_and_wait(
    client: Any, spec: GateSpec, arguments: dict[str, Any], deadline: float | None = None
) -> Proposal:
    fields, key = spec.submission(arguments)
    proposal = await client.submit(idempotency_key=key, **fields)
    if not proposal.is_final:
        proposal = await client.wait_final(proposal.id, deadline=spec.deadline if deadline is None else deadline)
    return proposal


def _report(client: Any, proposal_id: int, status: str, detail: dict[str, Any]) -> None:
    try:
        client.report_execution(proposal_id, status, detail)
    except Conflict as error:
        if error.code != "already_reported":  # a retried report the platform already has
            raise


async def _areport(client: Any, proposal_id: int, status: str, detail: dict[str, Any]) -> None:
    try:
        await client.report_execution(proposal_id, status, detail)
    except Conflict as error:
        if error.code != "already_reported":
            raise


# The context managers.


@dataclass
class Approval:
    """Inside `gate(...)`: the approved `payload` to act on; set `result` to have it reported."""

    proposal: Proposal
    payload: dict[str, Any]
    result: Any = None


@contextlib.contextmanager
def gate(
    client: Any, *, action_type: str, payload: dict[str, Any], key: str | None = None, **signals: Any
) -> Iterator[Approval]:
    """`with gate(hitl, action_type=..., payload={...}, key=...) as approval:` runs the block only once
    approved (raising NotApproved otherwise, or AlreadyExecuted on a replay of a run that was reported),
    then reports `succeeded` (with `approval.result`) or `failed` (re-raising)."""
    spec, arguments = _spec_of(action_type, payload, key, signals)
    proposal = submit_and_wait(client, spec, arguments)
    approval = Approval(proposal=proposal, payload=outcome(proposal, client))
    try:
        yield approval
    except BaseException as error:
        _report(client, proposal.id, "failed", failure_detail(error))
        raise
    _report(client, proposal.id, "succeeded", execution_detail(approval.result))


@contextlib.asynccontextmanager
async def agate(
    client: Any, *, action_type: str, payload: dict[str, Any], key: str | None = None, **signals: Any
) -> AsyncIterator[Approval]:
    """`gate` for AsyncHitlClient: `async with agate(...) as approval:`."""
    spec, arguments = _spec_of(action_type, payload, key, signals)
    proposal = await asubmit_and_wait(client, spec, arguments)
    approval = Approval(proposal=proposal, payload=outcome(proposal, client))
    try:
        yield approval
    except BaseException as error:
        await _areport(client, proposal.id, "failed", failure_detail(error))
        raise
    await _areport(client, proposal.id, "succeeded", execution_detail(approval.result))


def _spec_of(action_type: str, payload: dict[str, Any], key: str | None, signals: dict[str, Any]):
    deadline = signals.pop("deadline", None)
    spec = GateSpec(action_type=action_type, key=key, deadline=deadline, **signals)
    return spec, dict(payload)


def _resolve(value: Any, arguments: dict[str, Any]) -> Any:
    return value(arguments) if callable(value) else value


def _format(template: str, arguments: dict[str, Any]) -> str:
    try:
        return template.format(**arguments)
    except (KeyError, IndexError, ValueError):
        return template
