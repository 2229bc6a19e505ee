"""Reads of the sampling app: an auditor's recomputation of the draws."""

from collections.abc import Iterable

from apps.policies.sampling import is_sampled, sampling_draw
from apps.proposals.models import PostActionReview, ReviewState


def sampling_draws_mismatching(*, key: str, reviews: Iterable[PostActionReview]) -> list[int]:
    """The proposal ids whose stored draw, or rate-based sampling outcome, the key does not reproduce."""
    mismatching = []
    for review in reviews:
        draw = sampling_draw(key=key, proposal_id=review.proposal_id)
        by_rate = review.state != ReviewState.NOT_SAMPLED and review.sampled_by == "rate"
        if draw != review.draw or by_rate != is_sampled(draw=draw, rate=review.sample_rate):
            mismatching.append(review.proposal_id)
    return mismatching
