"""HitlClient and AsyncHitlClient: every agent endpoint of the platform, with retries that are safe.

A POST that creates something always carries an Idempotency-Key (yours, or one made up per call),
and a retry after a lost response, a 429 or a 502-504 sends the same key again: the platform then
returns the first response and creates nothing twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx

from ._http import (
    RETRY_STATUSES,
    WAIT_MAX_SECONDS,
    Call,
    Calls,
    RetryPolicy,
    SSEParser,
    base_url_of,
    decode,
    headers_for,
    raise_for,
    retry_after_seconds,
    submission_body,
)
from .errors import ApprovalTimeout, ConnectionFailed
from .models import Decision, Event, Proposal, ProposalPage, Simulation


class _Options:
    def __init__(self, base_url: str, *, timeout: float, max_retries: int, backoff: float, max_backoff: float):
        self.base_url = base_url_of(base_url)
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max_retries, backoff=backoff, max_backoff=max_backoff)
        self.calls = Calls(timeout)


class HitlClient:
    """Synchronous client. `api_key` is an agent key (or a reviewer's API token for `decide`)."""

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
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ):
        self._options = _Options(
            base_url, timeout=timeout, max_retries=max_retries, backoff=backoff, max_backoff=max_backoff
        )
        self._http = http_client or httpx.Client(
            base_url=self._options.base_url + "/",
            headers=headers_for(api_key, headers),
            timeout=timeout,
            transport=transport,
        )
        self._sleep = time.sleep

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HitlClient:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # The agent endpoints.

    def submit(
        self,
        *,
        action_type: str,
        payload: dict[str, Any],
        confidence: float,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Proposal:
        """POST proposals/. Fields: summary, reasoning, evidence, irreversible, blast_radius,
        compliance_exposure, expected_impact, external_id, callback_url."""
        body = submission_body(action_type=action_type, payload=payload, confidence=confidence, **fields)
        return self._run(self._options.calls.submit(body, idempotency_key))

    def get(self, proposal_id: int) -> Proposal:
        return self._run(self._options.calls.get(proposal_id))

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
    ) -> ProposalPage:
        filters = {"status": status, "action_type": action_type, "mode": mode, "created_after": created_after}
        filters |= {"created_before": created_before, "page": page, "page_size": page_size}
        return self._run(self._options.calls.list(filters))

    def iter_proposals(self, **filters: Any) -> Iterator[Proposal]:
        """Every matching proposal, page after page."""
        page_number = 1
        while True:
            page = self.list(page=page_number, **filters)
            yield from page.results
            if not page.next:
                return
            page_number += 1

    def wait(self, proposal_id: int, timeout: float = 30.0) -> Proposal:
        """One long-poll (at most 60 s): the proposal once final, or as it is when `timeout` runs out."""
        return self._run(self._options.calls.wait(proposal_id, timeout))

    def wait_final(self, proposal_id: int, deadline: float | None = None) -> Proposal:
        """Long-poll until the proposal is final; `deadline` (seconds) raises ApprovalTimeout, the
        proposal staying pending on the platform."""
        until = None if deadline is None else time.monotonic() + deadline
        while True:
            remaining = WAIT_MAX_SECONDS if until is None else until - time.monotonic()
            proposal = self.wait(proposal_id, timeout=max(0.0, min(WAIT_MAX_SECONDS, remaining)))
            if proposal.is_final:
                return proposal
            if until is not None and time.monotonic() >= until:
                raise ApprovalTimeout(
                    f"proposal {proposal_id} is still {proposal.status} after {deadline:g} s", proposal=proposal
                )

    def cancel(self, proposal_id: int, reason: str = "") -> Proposal:
        return self._run(self._options.calls.cancel(proposal_id, reason))

    def report_execution(self, proposal_id: int, status: str, detail: dict[str, Any] | None = None) -> Proposal:
        """POST execution/: `succeeded` or `failed`, after an approved action ran."""
        return self._run(self._options.calls.execution(proposal_id, status, detail))

    def revise(
        self, proposal_id: int, *, payload: dict[str, Any], idempotency_key: str | None = None, **fields: Any
    ) -> Proposal:
        """POST revisions/ after `changes_requested`: a new proposal chained to this one. Fields as for
        `submit`; action_type and confidence default to the original's."""
        if "action_type" not in fields or "confidence" not in fields:
            original = self.get(proposal_id)
            fields.setdefault("action_type", original.action_type)
            fields.setdefault("confidence", original.confidence if original.confidence is not None else 0.0)
        body = submission_body(payload=payload, **fields)
        return self._run(self._options.calls.revise(proposal_id, body, idempotency_key))

    def simulate(self, *, action_type: str, payload: dict[str, Any], confidence: float, **fields: Any) -> Simulation:
        """POST policies/simulate/: where a submission would go; stores nothing."""
        body = submission_body(action_type=action_type, payload=payload, confidence=confidence, **fields)
        return self._run(self._options.calls.simulate(body))

    def events(self, after: str | None = None, timeout: float = 0.0) -> list[Event]:
        """GET events/: the agent's events newer than `after`, long-polling up to `timeout` seconds."""
        return self._run(self._options.calls.events(after, timeout))

    def stream_events(self, last_event_id: str | None = None) -> Iterator[Event]:
        """GET events/stream/ (Server-Sent Events), reconnecting from the last id seen."""
        parser = SSEParser(last_event_id)
        attempt = 0
        while True:
            headers = {"Accept": "text/event-stream"}
            if parser.last_event_id:
                headers["Last-Event-ID"] = parser.last_event_id
            try:
                with self._http.stream("GET", "events/stream/", headers=headers, timeout=None) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise_for(response)
                    attempt = 0
                    for line in response.iter_lines():
                        event = parser.line(line)
                        if event is not None:
                            yield event
            except httpx.TransportError as error:
                if attempt >= self._options.retry.max_retries:
                    raise ConnectionFailed(str(error)) from error
            self._sleep(self._options.retry.delay(attempt, None))
            attempt += 1

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
    ) -> Decision:
        body = {"verdict": verdict, "rationale": rationale, "password": password, "payload": payload}
        body |= {"payload_version": payload_version, "instructions": instructions}
        return self._run(self._options.calls.decide(proposal_id, body))

    # The one place requests are sent.

    def _run(self, call: Call) -> Any:
        retry = self._options.retry
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    call.method,
                    call.path,
                    json=call.json,
                    params=call.params,
                    headers=call.headers,
                    timeout=call.timeout or self._options.timeout,
                )
            except httpx.TransportError as error:
                if attempt >= retry.max_retries:
                    raise ConnectionFailed(f"{type(error).__name__}: {error}") from error
                self._sleep(retry.delay(attempt, None))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < retry.max_retries:
                self._sleep(retry.delay(attempt, retry_after_seconds(response)))
                attempt += 1
                continue
            if response.is_error:
                raise_for(response)
            return call.parse(decode(response))


class AsyncHitlClient:
    """The same API as HitlClient, awaitable."""

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
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ):
        self._options = _Options(
            base_url, timeout=timeout, max_retries=max_retries, backoff=backoff, max_backoff=max_backoff
        )
        self._http = http_client or httpx.AsyncClient(
            base_url=self._options.base_url + "/",
            headers=headers_for(api_key, headers),
            timeout=timeout,
            transport=transport,
        )
        self._sleep = asyncio.sleep

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncHitlClient:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    async def submit(
        self,
        *,
        action_type: str,
        payload: dict[str, Any],
        confidence: float,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Proposal:
        body = submission_body(action_type=action_type, payload=payload, confidence=confidence, **fields)
        return await self._run(self._options.calls.submit(body, idempotency_key))

    async def get(self, proposal_id: int) -> Proposal:
        return await self._run(self._options.calls.get(proposal_id))

    async def list(
        self,
        *,
        status: str | None = None,
        action_type: str | None = None,
        mode: str | None = None,
        created_after: datetime | str | None = None,
        created_before: datetime | str | None = None,
        page: int | None = None,
        page_size: int | None = None,
    ) -> ProposalPage:
        filters = {"status": status, "action_type": action_type, "mode": mode, "created_after": created_after}
        filters |= {"created_before": created_before, "page": page, "page_size": page_size}
        return await self._run(self._options.calls.list(filters))

    async def iter_proposals(self, **filters: Any) -> AsyncIterator[Proposal]:
        page_number = 1
        while True:
            page = await self.list(page=page_number, **filters)
            for proposal in page.results:
                yield proposal
            if not page.next:
                return
            page_number += 1

    async def wait(self, proposal_id: int, timeout: float = 30.0) -> Proposal:
        return await self._run(self._options.calls.wait(proposal_id, timeout))

    async def wait_final(self, proposal_id: int, deadline: float | None = None) -> Proposal:
        until = None if deadline is None else time.monotonic() + deadline
        while True:
            remaining = WAIT_MAX_SECONDS if until is None else until - time.monotonic()
            proposal = await self.wait(proposal_id, timeout=max(0.0, min(WAIT_MAX_SECONDS, remaining)))
            if proposal.is_final:
                return proposal
            if until is not None and time.monotonic() >= until:
                raise ApprovalTimeout(
                    f"proposal {proposal_id} is still {proposal.status} after {deadline:g} s", proposal=proposal
                )

    async def cancel(self, proposal_id: int, reason: str = "") -> Proposal:
        return await self._run(self._options.calls.cancel(proposal_id, reason))

    async def report_execution(self, proposal_id: int, status: str, detail: dict[str, Any] | None = None) -> Proposal:
        return await self._run(self._options.calls.execution(proposal_id, status, detail))

    async def revise(
        self, proposal_id: int, *, payload: dict[str, Any], idempotency_key: str | None = None, **fields: Any
    ) -> Proposal:
        if "action_type" not in fields or "confidence" not in fields:
            original = await self.get(proposal_id)
            fields.setdefault("action_type", original.action_type)
            fields.setdefault("confidence", original.confidence if original.confidence is not None else 0.0)
        body = submission_body(payload=payload, **fields)
        return await self._run(self._options.calls.revise(proposal_id, body, idempotency_key))

    async def simulate(
        self, *, action_type: str, payload: dict[str, Any], confidence: float, **fields: Any
    ) -> Simulation:
        body = submission_body(action_type=action_type, payload=payload, confidence=confidence, **fields)
        return await self._run(self._options.calls.simulate(body))

    async def events(self, after: str | None = None, timeout: float = 0.0) -> list[Event]:
        return await self._run(self._options.calls.events(after, timeout))

    async def stream_events(self, last_event_id: str | None = None) -> AsyncIterator[Event]:
        parser = SSEParser(last_event_id)
        attempt = 0
        while True:
            headers = {"Accept": "text/event-stream"}
            if parser.last_event_id:
                headers["Last-Event-ID"] = parser.last_event_id
            try:
                async with self._http.stream("GET", "events/stream/", headers=headers, timeout=None) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise_for(response)
                    attempt = 0
                    async for line in response.aiter_lines():
                        event = parser.line(line)
                        if event is not None:
                            yield event
            except httpx.TransportError as error:
                if attempt >= self._options.retry.max_retries:
                    raise ConnectionFailed(str(error)) from error
            await self._sleep(self._options.retry.delay(attempt, None))
            attempt += 1

    async def decide(
        self,
        proposal_id: int,
        *,
        verdict: str,
        rationale: str,
        password: str,
        payload: dict[str, Any] | None = None,
        payload_version: str | None = None,
        instructions: str | None = None,
    ) -> Decision:
        body = {"verdict": verdict, "rationale": rationale, "password": password, "payload": payload}
        body |= {"payload_version": payload_version, "instructions": instructions}
        return await self._run(self._options.calls.decide(proposal_id, body))

    async def _run(self, call: Call) -> Any:
        retry = self._options.retry
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method,
                    call.path,
                    json=call.json,
                    params=call.params,
                    headers=call.headers,
                    timeout=call.timeout or self._options.timeout,
                )
            except httpx.TransportError as error:
                if attempt >= retry.max_retries:
                    raise ConnectionFailed(f"{type(error).__name__}: {error}") from error
                await self._sleep(retry.delay(attempt, None))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < retry.max_retries:
                await self._sleep(retry.delay(attempt, retry_after_seconds(response)))
                attempt += 1
                continue
            if response.is_error:
                raise_for(response)
            return call.parse(decode(response))
