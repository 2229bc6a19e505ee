"""HitlClient and AsyncHitlClient: every agent endpoint of the platform, with retries that are safe.

A POST that creates something always carries an Idempotency-Key (yours, or one made up per call),
and a retry after a lost response, a 429 or a 502-504 sends the same key again: the platform then
returns the first response and creates nothing twice.

Each endpoint is written once, in `_ClientCore`, as a plan (see `_http.Plan`): the requests to send
and what to make of the answers. HitlClient performs a plan's steps blocking and AsyncHitlClient
awaiting them; each exposes the endpoints under the same names and signatures.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

import httpx

from ._http import (
    WAIT_MAX_SECONDS,
    Call,
    Calls,
    EventStream,
    Outcome,
    Plan,
    PlanRun,
    RetryPolicy,
    Sleep,
    Step,
    base_url_of,
    headers_for,
    raise_for,
    send_with_retries,
    submission_body,
)
from .errors import ApprovalTimeout
from .models import Decision, Event, Proposal, ProposalPage, Simulation

_HttpT = TypeVar("_HttpT", httpx.Client, httpx.AsyncClient)
_TransportT = TypeVar("_TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)

# The methods of _ClientCore that are endpoints: each client class wraps them to run their plans.
_ENDPOINTS = (
    "submit",
    "get",
    "list",
    "wait",
    "wait_final",
    "cancel",
    "report_execution",
    "revise",
    "simulate",
    "events",
    "decide",
)


class _Options:
    def __init__(self, base_url: str, *, timeout: float, max_retries: int, backoff: float, max_backoff: float):
        self.base_url = base_url_of(base_url)
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max_retries, backoff=backoff, max_backoff=max_backoff)
        self.calls = Calls(timeout)


class _ClientCore(Generic[_HttpT, _TransportT]):
    """What both clients share: the options, the httpx client, and every endpoint as a plan."""

    _http_class: ClassVar[type]

    def __init_subclass__(cls, *, run_endpoint: Callable[[Callable[..., Plan[Any]]], Callable[..., Any]], **kwargs):
        super().__init_subclass__(**kwargs)
        for name in _ENDPOINTS:
            setattr(cls, name, run_endpoint(getattr(_ClientCore, name)))

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        headers: dict[str, str] | None = None,
        transport: _TransportT | None = None,
        http_client: _HttpT | None = None,
    ):
        self._options = _Options(
            base_url, timeout=timeout, max_retries=max_retries, backoff=backoff, max_backoff=max_backoff
        )
        self._http: _HttpT = http_client or self._http_class(
            base_url=self._options.base_url + "/",
            headers=headers_for(api_key, headers),
            timeout=timeout,
            transport=transport,
        )

    def _send(self, call: Call) -> Plan[Any]:
        return send_with_retries(call, self._options.retry)

    # The agent endpoints. A plan's body runs only once its client performs it: what an endpoint
    # raises (a ValueError for a bad status too) comes from the call or, with AsyncHitlClient, the await.

    def submit(
        self,
        *,
        action_type: str,
        payload: dict[str, Any],
        confidence: float,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Plan[Proposal]:
        """POST proposals/. Fields: summary, reasoning, evidence, irreversible, blast_radius,
        compliance_exposure, expected_impact, external_id, callback_url."""
        body = submission_body(action_type=action_type, payload=payload, confidence=confidence, **fields)
        return (yield from self._send(self._options.calls.submit(body, idempotency_key)))

    def get(self, proposal_id: int) -> Plan[Proposal]:
        return (yield from self._send(self._options.calls.get(proposal_id)))

    def list(
        self,
        *,
        status: str | None = None,
        action_type: str | None = None,
        mode: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> Plan[ProposalPage]:
        filters = {"status": status, "action_type": action_type, "mode": mode, "created_after": created_after}
        filters |= {"created_before": created_before, "page": page, "page_size": page_size}
        return (yield from self._send(self._options.calls.list(filters)))

    def wait(self, proposal_id: int, timeout: float = 30.0) -> Plan[Proposal]:
        """One long-poll (at most 60 s): the proposal once final, or as it is when `timeout` runs out."""
        return (yield from self._send(self._options.calls.wait(proposal_id, timeout)))

    def wait_final(self, proposal_id: int, deadline: float | None = None) -> Plan[Proposal]:
        """Long-poll until the proposal is final; `deadline` (seconds) raises ApprovalTimeout, the
        proposal staying pending on the platform."""
        until = None if deadline is None else time.monotonic() + deadline
        while True:
            remaining = WAIT_MAX_SECONDS if until is None else until - time.monotonic()
            timeout = max(0.0, min(WAIT_MAX_SECONDS, remaining))
            proposal = yield from self._send(self._options.calls.wait(proposal_id, timeout))
            if proposal.is_final:
                return proposal
            if until is not None and time.monotonic() >= until:
                raise ApprovalTimeout(
                    f"proposal {proposal_id} is still {proposal.status} after {deadline:g} s", proposal=proposal
                )

    def cancel(self, proposal_id: int, reason: str = "") -> Plan[Proposal]:
        return (yield from self._send(self._options.calls.cancel(proposal_id, reason)))

    def report_execution(self, proposal_id: int, status: str, detail: dict[str, Any] | None = None) -> Plan[Proposal]:
        """POST execution/: `succeeded` or `failed`, after an approved action ran."""
        return (yield from self._send(self._options.calls.execution(proposal_id, status, detail)))

    def revise(
        self, proposal_id: int, *, payload: dict[str, Any], idempotency_key: str | None = None, **fields: Any
    ) -> Plan[Proposal]:
        """POST revisions/ after `changes_requested`: a new proposal chained to this one. Fields as for
        `submit`; action_type and confidence default to the original's."""
        if "action_type" not in fields or "confidence" not in fields:
            original = yield from self._send(self._options.calls.get(proposal_id))
            fields.setdefault("action_type", original.action_type)
            fields.setdefault("confidence", original.confidence if original.confidence is not None else 0.0)
        body = submission_body(payload=payload, **fields)
        return (yield from self._send(self._options.calls.revise(proposal_id, body, idempotency_key)))

    def simulate(
        self, *, action_type: str, payload: dict[str, Any], confidence: float, **fields: Any
    ) -> Plan[Simulation]:
        """POST policies/simulate/: where a submission would go; stores nothing."""
        body = submission_body(action_type=action_type, payload=payload, confidence=confidence, **fields)
        return (yield from self._send(self._options.calls.simulate(body)))

    def events(self, after: str | None = None, timeout: float = 0.0) -> Plan[list[Event]]:
        """GET events/: the agent's events newer than `after`, long-polling up to `timeout` seconds."""
        return (yield from self._send(self._options.calls.events(after, timeout)))

    # A reviewer's endpoint (with a reviewer's API token).

    def decide(
        self,
        proposal_id: int,
        *,
        verdict: str,
        rationale: str,
        password: str,
        payload: dict[str, Any] | None = None,
        payload_version: str | None = None,
        instructions: str | None = None,
    ) -> Plan[Decision]:
        body = {"verdict": verdict, "rationale": rationale, "password": password, "payload": payload}
        body |= {"payload_version": payload_version, "instructions": instructions}
        return (yield from self._send(self._options.calls.decide(proposal_id, body)))


def _blocking(plan: Callable[..., Plan[Any]]) -> Callable[..., Any]:
    @functools.wraps(plan)
    def endpoint(self: HitlClient, *args: Any, **kwargs: Any) -> Any:
        return self._drive(plan(self, *args, **kwargs))

    return _returning_the_result(endpoint)


def _awaiting(plan: Callable[..., Plan[Any]]) -> Callable[..., Any]:
    @functools.wraps(plan)
    async def endpoint(self: AsyncHitlClient, *args: Any, **kwargs: Any) -> Any:
        return await self._drive(plan(self, *args, **kwargs))

    return _returning_the_result(endpoint)


def _returning_the_result(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """For help() and inspect.signature: the caller gets X of the plan's `Plan[X]`."""
    signature = inspect.signature(endpoint)
    annotation = str(signature.return_annotation)
    if annotation.startswith("Plan[") and annotation.endswith("]"):
        endpoint.__signature__ = signature.replace(return_annotation=annotation[len("Plan[") : -1])  # type: ignore[attr-defined]
    return endpoint


class HitlClient(_ClientCore[httpx.Client, httpx.BaseTransport], run_endpoint=_blocking):
    """Synchronous client. `api_key` is an agent key (or a reviewer's API token for `decide`)."""

    _http_class = httpx.Client
    _sleep = staticmethod(time.sleep)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HitlClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def iter_proposals(self, **filters: Any) -> Iterator[Proposal]:
        """Every matching proposal, page after page."""
        for page_number in itertools.count(1):
            page = self.list(page=page_number, **filters)
            yield from page.results
            if not page.next:
                return

    def stream_events(self, last_event_id: str | None = None) -> Iterator[Event]:
        """GET events/stream/ (Server-Sent Events), reconnecting from the last id seen."""
        stream = EventStream(last_event_id, self._options.retry)
        while True:
            try:
                with self._http.stream("GET", "events/stream/", headers=stream.headers(), timeout=None) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise_for(response)
                    stream.connected()
                    for line in response.iter_lines():
                        yield from stream.events_in(line)
            except httpx.TransportError as error:
                stream.failed(error)
            self._sleep(stream.next_delay())

    # The one place requests are sent.

    def _drive(self, plan: Plan[Any]) -> Any:
        run = PlanRun(plan)
        for step in run:
            run.outcome = self._perform(step)
        return run.result

    def _perform(self, step: Step) -> Outcome:
        if isinstance(step, Sleep):
            return self._sleep(step.seconds)
        try:
            return self._http.request(**step.request_arguments(self._options.timeout))
        except httpx.TransportError as error:
            return error


class AsyncHitlClient(_ClientCore[httpx.AsyncClient, httpx.AsyncBaseTransport], run_endpoint=_awaiting):
    """The same API as HitlClient, awaitable."""

    _http_class = httpx.AsyncClient
    _sleep = staticmethod(asyncio.sleep)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncHitlClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def iter_proposals(self, **filters: Any) -> AsyncIterator[Proposal]:
        for page_number in itertools.count(1):
            page = await self.list(page=page_number, **filters)
            for proposal in page.results:
                yield proposal
            if not page.next:
                return

    async def stream_events(self, last_event_id: str | None = None) -> AsyncIterator[Event]:
        stream = EventStream(last_event_id, self._options.retry)
        while True:
            try:
                async with self._http.stream(
                    "GET", "events/stream/", headers=stream.headers(), timeout=None
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise_for(response)
                    stream.connected()
                    async for line in response.aiter_lines():
                        for event in stream.events_in(line):
                            yield event
            except httpx.TransportError as error:
                stream.failed(error)
            await self._sleep(stream.next_delay())

    async def _drive(self, plan: Plan[Any]) -> Any:
        run = PlanRun(plan)
        for step in run:
            run.outcome = await self._perform(step)
        return run.result

    async def _perform(self, step: Step) -> Outcome:
        if isinstance(step, Sleep):
            return await self._sleep(step.seconds)
        try:
            return await self._http.request(**step.request_arguments(self._options.timeout))
        except httpx.TransportError as error:
            return error
