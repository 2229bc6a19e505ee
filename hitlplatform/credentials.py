"""API credentials (agent keys, user tokens): shown once, stored as a SHA-256 hash.

A credential reads ``hitl_<kind>_<prefix>_<secret>``; the prefix is stored in clear so a
lookup is one indexed query, and the secret has 256 bits of entropy, so a fast hash is
enough (a slow KDF protects guessable passwords, not random keys).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass

AGENT_KEY = "ak"
USER_TOKEN = "ut"


@dataclass(frozen=True)
class IssuedCredential:
    prefix: str
    key: str
    key_hash: str


def credential_issue(*, kind: str) -> IssuedCredential:
    prefix = secrets.token_hex(6)
    key = f"hitl_{kind}_{prefix}_{secrets.token_urlsafe(32)}"
    return IssuedCredential(prefix=prefix, key=key, key_hash=credential_hash(key))


def credential_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def credential_parse(key: str) -> tuple[str, str] | None:
    """(kind, prefix) of a well-formed credential, else None."""
    parts = key.split("_", 3)
    if len(parts) != 4 or parts[0] != "hitl" or parts[1] not in (AGENT_KEY, USER_TOKEN):
        return None
    return parts[1], parts[2]


def credential_matches(key: str, key_hash: str) -> bool:
    return hmac.compare_digest(credential_hash(key), key_hash)
