"""The post-action sampling draw: reproducible by an auditor with the key, unpredictable to an agent."""

import hashlib
import hmac


def sampling_draw(*, key: str, proposal_id: int) -> float:
    """HMAC-SHA256(key, proposal id) read as a number in [0, 1)."""
    digest = hmac.new(key.encode(), str(proposal_id).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_sampled(*, draw: float, rate: float) -> bool:
    return draw < rate
