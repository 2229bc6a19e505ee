"""Signed webhooks: `X-HITL-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from .errors import HitlError
from .models import Event

SIGNATURE_HEADER = "X-HITL-Signature"
EVENT_ID_HEADER = "X-HITL-Event-Id"


class InvalidSignature(HitlError):
    """The signature header is missing, malformed, too old, or matches no secret."""


def sign(secret: str, body: bytes | str, timestamp: int | None = None) -> str:
    """The header value the platform sends (for tests of your receiver)."""
    timestamp = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={timestamp},v1={_digest(secret, timestamp, _bytes(body))}"


def verify_signature(
    secret: str | list[str], header: str | None, body: bytes | str, tolerance: float = 300, now: float | None = None
) -> None:
    """Raise InvalidSignature unless `header` signs `body` with `secret` within `tolerance` seconds.

    Compared in constant time. The header may carry several `v1=` values, and `secret` may be a
    list, so a secret can be rotated without dropping deliveries.
    """
    if not header:
        raise InvalidSignature("missing signature header")
    timestamp, candidates = _parse(header)
    now = time.time() if now is None else now
    if tolerance is not None and abs(now - timestamp) > tolerance:
        raise InvalidSignature("signature timestamp outside the tolerance")
    body = _bytes(body)
    secrets = [secret] if isinstance(secret, str) else list(secret)
    expected = [_digest(one, timestamp, body) for one in secrets]
    matched = False
    for candidate in candidates:
        for digest in expected:
            # Every pair is compared, so the time taken says nothing about which one matched.
            matched |= hmac.compare_digest(candidate, digest)
    if not matched:
        raise InvalidSignature("no signature matches")


def parse_event(body: bytes | str) -> Event:
    """The event a webhook (or `events/`) carries: `{"id", "type", "proposal": {...}}`."""
    return Event.model_validate(json.loads(_bytes(body)))


def verified_event(secret: str | list[str], header: str | None, body: bytes | str, tolerance: float = 300) -> Event:
    verify_signature(secret, header, body, tolerance=tolerance)
    return parse_event(body)


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp = None
    candidates = []
    for part in header.split(","):
        name, _sep, value = part.strip().partition("=")
        if name == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise InvalidSignature("malformed timestamp") from None
        elif name == "v1" and value:
            candidates.append(value.strip().lower())
    if timestamp is None or not candidates:
        raise InvalidSignature("malformed signature header")
    return timestamp, candidates


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _bytes(body: bytes | str) -> bytes:
    return body.encode() if isinstance(body, str) else body
