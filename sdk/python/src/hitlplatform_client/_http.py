"""What the sync and async clients share: the calls (method, path, body, parser), the plans that send
them with retries, retry timing and SSE parsing. Nothing here does I/O: a plan only asks for it.
"""

from __future__ import annotations

import email.utils
import random
import time
import uuid
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx

from .errors import ConnectionFailed, error_for
from .models import Decision, Event, Proposal, ProposalPage, Simulation

RETRY_STATUSES = frozenset({429, 502, 503, 504})
WAIT_MAX_SECONDS = 60.0
USER_AGENT = "hitlplatform-client/0.1"

T = TypeVar("T")


@dataclass
class Call:
    method: str
    path: str
    parse: Callable[[Any], Any]
    json: Any = None
    params: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None

    def request_arguments(self, default_timeout: float) -> dict[str, Any]:
        """The keyword arguments of `httpx.Client.request` (or `AsyncClient.request`) that send this call."""
        return {
            "method": self.method,
            "url": self.path,
            "json": self.json,
            "params": self.params,
            "headers": self.headers,
            "timeout": self.timeout or default_timeout,
        }


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def submission_body(
    *,
    action_type: str,
    payload: dict[str, Any],
    confidence: float,
    summary: str | None = None,
    reasoning: str | None = None,
    evidence: list[Any] | None = None,
    irreversible: bool | None = None,
    blast_radius: int | None = None,
    compliance_exposure: str | None = None,
    expected_impact: str | None = None,
    external_id: str | None = None,
    callback_url: str | None = None,
) -> dict[str, Any]:
    return _drop_none(
        {
            "action_type": action_type,
            "payload": payload,
            "summary": summary,
            "reasoning": reasoning,
            "evidence": evidence,
            "confidence": confidence,
            "irreversible": irreversible,
            "blast_radius": blast_radius,
            "compliance_exposure": compliance_exposure,
            "expected_impact": expected_impact,
            "external_id": external_id,
            "callback_url": callback_url,
        }
    )


class Calls:
    """Each API call of DESIGN.md as data; the clients run them."""

    def __init__(self, default_timeout: float):
        self.default_timeout = default_timeout

    def submit(self, body: dict[str, Any], idempotency_key: str | None) -> Call:
        # A key is always sent, so that a retry after a lost response can never create a second proposal.
        key = idempotency_key or uuid.uuid4().hex
        return Call("POST", "proposals/", Proposal.model_validate, json=body, headers={"Idempotency-Key": key})

    def revise(self, proposal_id: int, body: dict[str, Any], idempotency_key: str | None) -> Call:
        key = idempotency_key or uuid.uuid4().hex
        return Call(
            "POST",
            f"proposals/{int(proposal_id)}/revisions/",
            Proposal.model_validate,
            json=body,
            headers={"Idempotency-Key": key},
        )

    def get(self, proposal_id: int) -> Call:
        return Call("GET", f"proposals/{int(proposal_id)}/", Proposal.model_validate)

    def list(self, filters: dict[str, Any]) -> Call:
        params = {key: _param(value) for key, value in _drop_none(filters).items()}
        return Call("GET", "proposals/", ProposalPage.model_validate, params=params)

    def wait(self, proposal_id: int, timeout: float) -> Call:
        timeout = max(0.0, min(float(timeout), WAIT_MAX_SECONDS))
        return Call(
            "GET",
            f"proposals/{int(proposal_id)}/wait/",
            Proposal.model_validate,
            params={"timeout": f"{timeout:g}"},
            timeout=timeout + self.default_timeout,
        )

    def cancel(self, proposal_id: int, reason: str) -> Call:
        return Call("POST", f"proposals/{int(proposal_id)}/cancel/", Proposal.model_validate, json={"reason": reason})

    def execution(self, proposal_id: int, status: str, detail: dict[str, Any] | None) -> Call:
        if status not in {"succeeded", "failed"}:
            raise ValueError("status must be 'succeeded' or 'failed'")
        return Call(
            "POST",
            f"proposals/{int(proposal_id)}/execution/",
            Proposal.model_validate,
            json={"status": status, "detail": detail or {}},
        )

    def decide(self, proposal_id: int, body: dict[str, Any]) -> Call:
        return Call("POST", f"proposals/{int(proposal_id)}/decisions/", Decision.model_validate, json=_drop_none(body))

    def simulate(self, body: dict[str, Any]) -> Call:
        return Call("POST", "policies/simulate/", Simulation.model_validate, json=body)

    def events(self, after: str | None, timeout: float) -> Call:
        timeout = max(0.0, min(float(timeout), WAIT_MAX_SECONDS))
        return Call(
            "GET",
            "events/",
            parse_events,
            params=_drop_none({"after": after, "timeout": f"{timeout:g}"}),
            timeout=timeout + self.default_timeout,
        )


def _param(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def parse_events(body: Any) -> list[Event]:
    """`events/` answers a list, or a page (`results`) or an object with `events`."""
    if isinstance(body, dict):
        body = body.get("results", body.get("events", []))
    return [Event.model_validate(item) for item in body]


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """`Retry-After` as seconds: delta-seconds or an HTTP date."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RetryPolicy:
    """Jittered exponential backoff ("full jitter"); a server's Retry-After wins when it says more."""

    max_retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 300.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        jittered = random.uniform(0, min(self.max_backoff, self.backoff * (2**attempt)))
        if retry_after is not None:
            return min(self.max_retry_after, max(retry_after, 0.0)) + jittered * 0.1
        return jittered


def raise_for(response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        body = None
    raise error_for(response.status_code, body, retry_after_seconds(response))


def decode(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    return response.json()


@dataclass(frozen=True)
class Sleep:
    seconds: float


# A plan is a generator that yields the steps it needs (send a Call, Sleep), is sent each step's
# outcome (the response, or the transport error it raised; None after a sleep) and returns its
# result. The sync client performs the steps blocking, the async one awaiting: one logic for both.
Step = Call | Sleep
Outcome = httpx.Response | httpx.TransportError | None
Plan = Generator[Step, Outcome, T]


def send_with_retries(call: Call, retry: RetryPolicy) -> Plan[Any]:
    """Send `call`; after a transport error, a 429 or a 502-504 sleep and send it again (same
    Idempotency-Key), at most `retry.max_retries` times. Returns the parsed body, raises the error."""
    attempt = 0
    while True:
        outcome = yield call
        if isinstance(outcome, httpx.TransportError):
            if attempt >= retry.max_retries:
                raise ConnectionFailed(f"{type(outcome).__name__}: {outcome}") from outcome
            delay = retry.delay(attempt, None)
        elif outcome.status_code in RETRY_STATUSES and attempt < retry.max_retries:
            delay = retry.delay(attempt, retry_after_seconds(outcome))
        else:
            if outcome.is_error:
                raise_for(outcome)
            return call.parse(decode(outcome))
        yield Sleep(delay)
        attempt += 1


class PlanRun(Generic[T]):
    """Steps a plan on behalf of a client: iterate for the steps, set `outcome` after performing
    each one, and read `result` once the iteration ends; the plan's exceptions propagate."""

    def __init__(self, plan: Plan[T]):
        self._plan = plan
        self.outcome: Outcome = None
        self.result: T

    def __iter__(self) -> Iterator[Step]:
        while True:
            try:
                step = self._plan.send(self.outcome)
            except StopIteration as done:
                self.result = done.value
                return
            self.outcome = None
            yield step


class SSEParser:
    """Server-Sent Events to `Event`s; remembers the last id for resuming (`Last-Event-ID`)."""

    def __init__(self, last_event_id: str | None = None):
        self.last_event_id = last_event_id
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, lines: Iterable[str]) -> list[Event]:
        events = []
        for line in lines:
            event = self.line(line)
            if event is not None:
                events.append(event)
        return events

    def line(self, line: str) -> Event | None:
        line = line.rstrip("\r\n")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _sep, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None

    def _dispatch(self) -> Event | None:
        data, self._data = "\n".join(self._data), []
        if self._id is not None:
            self.last_event_id, self._id = self._id, None
        if not data:
            return None
        return Event.model_validate_json(data)


class EventStream:
    """The state of `events/stream/` across reconnections: the parser (whose last id resumes the
    stream) and the failed connection attempts in a row."""

    def __init__(self, last_event_id: str | None, retry: RetryPolicy):
        self.parser = SSEParser(last_event_id)
        self.retry = retry
        self.attempt = 0

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "text/event-stream"}
        if self.parser.last_event_id:
            headers["Last-Event-ID"] = self.parser.last_event_id
        return headers

    def connected(self) -> None:
        self.attempt = 0

    def events_in(self, line: str) -> list[Event]:
        event = self.parser.line(line)
        return [] if event is None else [event]

    def failed(self, error: httpx.TransportError) -> None:
        """Raises ConnectionFailed once the retries are spent; otherwise the caller reconnects."""
        if self.attempt >= self.retry.max_retries:
            raise ConnectionFailed(str(error)) from error

    def next_delay(self) -> float:
        delay = self.retry.delay(self.attempt, None)
        self.attempt += 1
        return delay


def headers_for(api_key: str, extra: dict[str, str] | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}", "User-Agent": USER_AGENT, "Accept": "application/json"} | (
        extra or {}
    )


def base_url_of(url: str) -> str:
    url = url.rstrip("/")
    return url if url.endswith("/api/v1") else f"{url}/api/v1"
