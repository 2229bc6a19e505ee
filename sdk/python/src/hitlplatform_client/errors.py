"""Exceptions: the platform's one error shape mapped to classes, and the outcomes of a gated call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .models import Proposal


class HitlError(Exception):
    """Base of every exception this package raises."""


class ApiError(HitlError):
    """The platform answered with an error: `{"error": {"status", "code", "message", "fields"}}`."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str = "error",
        fields: dict[str, Any] | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.fields = fields or {}
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.message!r})"


class ValidationFailed(ApiError):
    """400: bad input; `fields` names every bad field."""


class Unauthorized(ApiError):
    """401: missing or unknown credentials."""


class Forbidden(ApiError):
    """403: a known caller without the right."""


class AgentSuspended(Forbidden):
    """403 `agent_suspended`: the agent may not submit until an admin resumes it."""


class NotFound(ApiError):
    """404: the object does not exist or is outside the caller's scope."""


class Conflict(ApiError):
    """409: a state conflict; `code` says which (`final`, `not_pending`, `idempotency_key_reused`, ...)."""


class IdempotencyKeyReused(Conflict):
    """409 `idempotency_key_reused`: the key was first used with a different body."""


class NotChangesRequested(Conflict):
    """409 `not_changes_requested`: only a proposal sent back for changes can be revised."""


class TooManyRevisions(Conflict):
    """409 `too_many_revisions`."""


class PayloadTooLarge(ApiError):
    """413: the request body is over the platform's limit."""


class RateLimited(ApiError):
    """429: over the caller's rate; `retry_after` in seconds (retried automatically first)."""


class ServerError(ApiError):
    """5xx (502-504 are retried automatically first)."""


class ConnectionFailed(HitlError):
    """The platform could not be reached (after the retries)."""


_CONFLICTS = {
    "idempotency_key_reused": IdempotencyKeyReused,
    "not_changes_requested": NotChangesRequested,
    "too_many_revisions": TooManyRevisions,
}


def error_for(status: int, body: Any, retry_after: float | None = None) -> ApiError:
    """The exception for an error response (body: the decoded JSON, or None)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {}
    code = str(error.get("code") or "error")
    message = str(error.get("message") or f"HTTP {status}")
    fields = error.get("fields") if isinstance(error.get("fields"), dict) else {}
    if status == 400:
        cls: type[ApiError] = ValidationFailed
    elif status == 401:
        cls = Unauthorized
    elif status == 403:
        cls = AgentSuspended if code == "agent_suspended" else Forbidden
    elif status == 404:
        cls = NotFound
    elif status == 409:
        cls = _CONFLICTS.get(code, Conflict)
    elif status == 413:
        cls = PayloadTooLarge
    elif status == 429:
        cls = RateLimited
    elif status >= 500:
        cls = ServerError
    else:
        cls = ApiError
    return cls(message, status=status, code=code, fields=fields, retry_after=retry_after)


# Outcomes of a gated call (require_approval, gate, the adapters).


class NotApproved(HitlError):
    """The action may not run; `proposal` says why, `reason` is the text to show a model or a person."""

    def __init__(self, reason: str, *, proposal: Proposal | None = None, proposal_id: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.proposal = proposal
        self.proposal_id = proposal.id if proposal is not None else proposal_id


class Rejected(NotApproved):
    """A reviewer rejected the action; `reason` is the rationale."""


class Expired(NotApproved):
    """Nobody decided before the SLA ran out and the policy denies on expiry."""


class Cancelled(NotApproved):
    """The proposal was cancelled."""


class ApprovalTimeout(NotApproved):
    """The client's deadline passed; the proposal (`proposal_id`) stays pending and a re-run finds it."""


class ChangesRequested(NotApproved):
    """A reviewer sent the action back with `instructions`; `revise(...)` submits the revision."""

    def __init__(self, reason: str, *, proposal: Proposal, client: Any = None):
        super().__init__(reason, proposal=proposal)
        self.instructions = reason
        self._client = client

    def revise(self, *, payload: dict, idempotency_key: str | None = None, **fields: Any) -> Proposal:
        """Submit the revision (a new proposal chained to this one) with the sync client that gated it."""
        if self._client is None:
            raise HitlError("no client to submit the revision with")
        return self._client.revise(self.proposal_id, payload=payload, idempotency_key=idempotency_key, **fields)

    async def arevise(self, *, payload: dict, idempotency_key: str | None = None, **fields: Any) -> Proposal:
        if self._client is None:
            raise HitlError("no client to submit the revision with")
        return await self._client.revise(self.proposal_id, payload=payload, idempotency_key=idempotency_key, **fields)


class AlreadyExecuted(HitlError):
    """The approved action was already run and reported (a replay after a crash); it never runs twice.

    `result` is what the first run reported (`execution.detail["result"]`), `status` its outcome.
    """

    def __init__(self, *, proposal: Proposal):
        execution = proposal.execution or {}
        self.proposal = proposal
        self.status = execution.get("status")
        self.result = (execution.get("detail") or {}).get("result")
        super().__init__(f"proposal {proposal.id} was already executed ({self.status})")
