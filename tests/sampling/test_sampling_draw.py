"""The post-action sampling draw: reproducible with the key, at the configured rate, audited."""

import hashlib
import hmac
import math

import pytest

from apps.audit.models import AuditEvent, AuditEventData
from apps.policies.sampling import is_sampled, sampling_draw
from apps.proposals.models import PostActionReview, ReviewState
from apps.sampling.selectors import sampling_draws_mismatching

KEY = "auditor-held-sampling-key"


def within_three_sigma(sampled: int, n: int, rate: float) -> bool:
    return abs(sampled - n * rate) <= 3 * math.sqrt(n * rate * (1 - rate))


def test_the_same_key_and_id_give_the_same_draw_on_every_run():
    draws = [sampling_draw(key=KEY, proposal_id=4711) for _ in range(3)]
    # recomputed by hand, as an auditor would: HMAC-SHA256(key, id), first 8 bytes over 2**64
    digest = hmac.new(KEY.encode(), b"4711", hashlib.sha256).digest()
    assert draws == [int.from_bytes(digest[:8], "big") / 2**64] * 3
    assert 0 <= draws[0] < 1


def test_another_key_gives_another_draw():
    assert sampling_draw(key=KEY, proposal_id=4711) != sampling_draw(key=KEY + "x", proposal_id=4711)


@pytest.mark.parametrize("rate", [0.01, 0.05, 0.3])
def test_the_observed_rate_over_10000_executions_is_within_3_sigma(rate):
    sampled = sum(is_sampled(draw=sampling_draw(key=KEY, proposal_id=pk), rate=rate) for pk in range(1, 10_001))
    assert within_three_sigma(sampled, 10_000, rate), sampled


@pytest.mark.django_db
def test_executions_are_sampled_at_the_rules_rate_and_an_auditor_can_recompute_every_draw(
    sampling_policy, executed, settings
):
    # given a rule sampling 20 % and 300 reported executions
    settings.SAMPLING_KEY = KEY
    sampling_policy(rate=0.2)
    replies = executed(300)

    # then each was sampled iff its draw is below the rate, at about the rate
    reviews = list(PostActionReview.objects.filter(proposal__in=replies))
    assert len(reviews) == 300
    for review in reviews:
        assert review.draw == sampling_draw(key=KEY, proposal_id=review.proposal_id)
        assert (review.state == ReviewState.QUEUED) == (review.draw < 0.2)
    assert within_three_sigma(sum(review.state == ReviewState.QUEUED for review in reviews), 300, 0.2)
    # and the auditor with the key reproduces them all; with another key, not
    assert sampling_draws_mismatching(key=KEY, reviews=reviews) == []
    assert len(sampling_draws_mismatching(key="guess", reviews=reviews)) > 250


@pytest.mark.django_db
def test_the_draw_and_its_inputs_are_audited(sampling_policy, executed, settings):
    import json

    settings.SAMPLING_KEY = KEY
    sampling_policy(rate=1.0)
    reply = executed(1)[0]

    event = AuditEvent.objects.get(action="review.sampled", object_id=str(reply.pk))
    data = json.loads(AuditEventData.objects.get(event=event).canonical_data)
    assert float(data["draw"]) == sampling_draw(key=KEY, proposal_id=reply.pk)
    assert data["message"] == str(reply.pk) and data["sample_rate"] == "1.0" and data["sampled_by"] == "rate"
    assert data["method"] == "HMAC-SHA256(sampling key, proposal id)"
    assert len(data["key_id"]) == 16 and KEY not in json.dumps(data)


@pytest.mark.django_db
def test_a_sampled_execution_waits_in_the_rules_queue_with_its_own_sla(sampling_policy, executed):
    sampling_policy(rate=1.0)
    reply = executed(1)[0]

    review = PostActionReview.objects.get(proposal=reply)
    assert review.queue.slug == "support"
    assert abs((review.sla_due_at - review.created_at).total_seconds() - 8 * 3600) < 5
