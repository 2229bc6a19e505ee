"""Webhook receivers for Django, FastAPI and Flask: verify the signature, parse the event, call your handler.

Each answers 400 to a bad signature or body (the platform logs it and retries), 200 once the handler
returned. Deliveries are at least once: de-duplicate by `event.id` in the handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from ..models import Event
from ..webhooks import InvalidSignature, verified_event

Secret = str | list[str] | Callable[[], str | list[str]]


def event_or_none(secret: Secret, header: str | None, body: bytes, tolerance: float) -> Event | None:
    """The verified event, or None when the request must be refused."""
    try:
        return verified_event(secret() if callable(secret) else secret, header, body, tolerance=tolerance)
    except (InvalidSignature, ValidationError, ValueError):
        return None


Handler = Callable[[Event], Any]
