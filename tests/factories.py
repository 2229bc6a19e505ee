from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from apps.accounts.models import Queue, ReviewerProfile
from apps.accounts.selectors import REVIEW_QUEUE_PERMISSION
from apps.proposals.models import Proposal
from apps.proposals.services import proposal_decide

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def role(user, create, role, **kwargs):
        if role:
            user.groups.add(Group.objects.get_or_create(name=role)[0])

    @factory.post_generation
    def queues(user, create, queues, **kwargs):
        from guardian.shortcuts import assign_perm

        for slug in queues or ():
            assign_perm(REVIEW_QUEUE_PERMISSION, user, QueueFactory(slug=slug))

    @factory.post_generation
    def profile(user, create, profile, **kwargs):
        ReviewerProfile.objects.get_or_create(
            user=user, defaults={"licence_number": f"LIC-{user.pk}", "authorization_level": kwargs.get("level", 2)}
        )


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"queue-{n}")
    name = factory.LazyAttribute(lambda queue: queue.slug.title())


def decide(proposal, reviewer, verdict="approve", password=PASSWORD, **extra):
    """A decision signed through the service, as a reviewer of the tests signs it."""
    return proposal_decide(
        proposal_id=proposal.pk,
        reviewer=reviewer,
        verdict=verdict,
        rationale=extra.pop("rationale", "checked"),
        password=password,
        **extra,
    )


def overdue_refunds(numbers: range, *, agent, version, queue: Queue, reminded: bool = False) -> list[Proposal]:
    """Unsaved pending refunds B-<n> under the refunds rule of `version`, in `queue`, their SLA a minute
    overdue: what the SLA sweep escalates. `reminded`: their 80 % reminder already sent (no reminder work)."""
    rule = version.rules.get(name="refunds")
    overdue = timezone.now() - timedelta(minutes=1)
    return [
        Proposal(
            agent=agent,
            action_type="payments.refund",
            payload={"order": f"B-{n}", "amount": "12.00"},
            payload_version=f"{n:064d}",
            summary=f"Refund B-{n}",
            confidence=0.7,
            mode="pre_approval",
            status="pending",
            policy_version=version,
            policy_rule=rule,
            queue=queue,
            sla_due_at=overdue,
            remind_at=overdue,
            reminded_at=overdue if reminded else None,
        )
        for n in numbers
    ]
