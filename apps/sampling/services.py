"""Post-action sampling beyond the per-execution draw: the daily minimum of a rule.

The draw itself is taken when the execution is reported (apps.proposals.services, with
apps.policies.sampling.sampling_draw): sampled iff HMAC-SHA256(sampling key, proposal id), read as a
number in [0, 1), is below the rule's rate. A rule with `min_samples_per_day` gets topped up here
with the day's not-sampled executions of the smallest draws, so an auditor holding the key can
recompute the top-up too, and an agent can no more predict it than the draw.
"""

from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from apps.accounts.calendars import sla_deadlines
from apps.audit.services import audit_record
from apps.policies.models import Mode, PolicyRule
from apps.policies.sampling import sampling_key_id
from apps.proposals.events import ProposalEvents
from apps.proposals.models import PostActionReview, ReviewState
from apps.proposals.services import queue_for, sla_of

DAILY_MINIMUM = "daily_minimum"
TOP_UP_METHOD = "daily minimum: the day's not-sampled executions with the smallest HMAC draws"


def sampling_ensure_daily_minimum(*, now: datetime | None = None) -> int:
    """Top up every rule with a daily minimum, for yesterday (its last hours) and today; returns how many were added."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    added = 0
    for rule in PolicyRule.objects.filter(mode=Mode.POST_REVIEW, min_samples_per_day__gt=0):
        for day in (today - timedelta(days=1), today):
            added += sampling_top_up(rule=rule, day=day, now=now)
    return added


@transaction.atomic
def sampling_top_up(*, rule: PolicyRule, day, now: datetime) -> int:
    # Locking the rule serializes top-ups of one rule: two workers never over-sample a day.
    rule = PolicyRule.objects.select_for_update().get(pk=rule.pk)
    start = timezone.make_aware(datetime.combine(day, time.min))
    executions = PostActionReview.objects.filter(
        proposal__policy_rule=rule,
        proposal__executed_at__gte=start,
        proposal__executed_at__lt=start + timedelta(days=1),
    )
    shortfall = rule.min_samples_per_day - executions.exclude(state=ReviewState.NOT_SAMPLED).count()
    if shortfall <= 0:
        return 0
    added = 0
    queue = queue_for(rule.queue)
    candidates = executions.filter(state=ReviewState.NOT_SAMPLED).select_related("proposal").order_by("draw", "pk")
    for review in candidates[:shortfall]:
        due_at = sla_deadlines(queue=queue, start=now, sla=sla_of(review.proposal))[1]
        won = PostActionReview.objects.filter(pk=review.pk, state=ReviewState.NOT_SAMPLED).update(
            state=ReviewState.QUEUED, sampled_by=DAILY_MINIMUM, queue=queue, sla_due_at=due_at
        )
        if not won:
            continue
        added += 1
        audit_record(
            action=ProposalEvents.SAMPLED,
            actor=None,
            obj=review.proposal,
            data={
                "draw": repr(review.draw),
                "sample_rate": repr(review.sample_rate),
                "method": TOP_UP_METHOD,
                "message": str(review.proposal_id),
                "key_id": sampling_key_id(),
                "sampled": True,
                "sampled_by": DAILY_MINIMUM,
                "day": day.isoformat(),
                "min_samples_per_day": rule.min_samples_per_day,
                "queue": queue.slug,
            },
        )
    return added
