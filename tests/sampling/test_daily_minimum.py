"""min_samples_per_day: low volumes are still covered, reproducibly, and never twice."""

import pytest

from apps.audit.models import AuditEvent
from apps.proposals.models import PostActionReview, ReviewState
from apps.sampling.services import sampling_ensure_daily_minimum

pytestmark = pytest.mark.django_db


def test_a_rule_below_its_daily_minimum_is_topped_up_with_the_smallest_draws(sampling_policy, executed):
    # given a rule that samples nothing by rate but wants 3 a day, and 5 executions today
    sampling_policy(rate=0.0, minimum=3)
    replies = executed(5)
    assert not PostActionReview.objects.exclude(state=ReviewState.NOT_SAMPLED).exists()

    # when the daily-minimum task runs
    added = sampling_ensure_daily_minimum()

    # then the three executions with the smallest draws wait for review, audited as a top-up
    reviews = PostActionReview.objects.filter(proposal__in=replies).order_by("draw")
    assert added == 3
    assert [review.state for review in reviews] == ["queued"] * 3 + ["not_sampled"] * 2
    assert {review.sampled_by for review in reviews[:3]} == {"daily_minimum"}
    assert all(review.sla_due_at and review.queue.slug == "support" for review in reviews[:3])
    assert AuditEvent.objects.filter(action="review.sampled").count() == 3


def test_running_the_top_up_again_samples_no_more(sampling_policy, executed):
    sampling_policy(rate=0.0, minimum=3)
    executed(5)
    sampling_ensure_daily_minimum()

    assert sampling_ensure_daily_minimum() == 0
    assert PostActionReview.objects.filter(state=ReviewState.QUEUED).count() == 3


def test_fewer_executions_than_the_minimum_are_all_sampled(sampling_policy, executed):
    sampling_policy(rate=0.0, minimum=10)
    executed(2)

    assert sampling_ensure_daily_minimum() == 2


def test_a_rule_meeting_its_minimum_by_rate_is_left_alone(sampling_policy, executed):
    sampling_policy(rate=1.0, minimum=2)
    executed(3)

    assert sampling_ensure_daily_minimum() == 0
    assert set(PostActionReview.objects.values_list("sampled_by", flat=True)) == {"rate"}
