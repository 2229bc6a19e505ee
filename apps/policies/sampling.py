"""The post-action sampling draw: reproducible by an auditor with the key, unpredictable to an agent.

Sampling's pieces and why they sit where they do (the layers run audit <- accounts, agents <-
policies <- proposals <- the rest): the draw and the key's public name are here, beside the rule's
sample rate, so every layer above can compute them; the execution report writes its
PostActionReview row with the draw in its own transaction (apps.proposals.services.post_action);
the daily minimum's top-up and the auditor's recomputation are apps.sampling.
"""

import hashlib
import hmac

from django.conf import settings


def sampling_draw(*, key: str, proposal_id: int) -> float:
    """HMAC-SHA256(key, proposal id) read as a number in [0, 1)."""
    digest = hmac.new(key.encode(), str(proposal_id).encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_sampled(*, draw: float, rate: float) -> bool:
    return draw < rate


def sampling_key_id() -> str:
    """Names the sampling key in the audit trail without revealing it."""
    return hashlib.sha256(b"hitl-sampling-key-id:" + settings.SAMPLING_KEY.encode()).hexdigest()[:16]
