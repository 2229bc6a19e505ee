import pytest
from django.core.management import call_command

from apps.agents.models import Agent
from apps.audit.models import AuditEvent
from apps.policies.models import PolicyVersion
from apps.proposals.models import Proposal

pytestmark = pytest.mark.django_db


def test_seed_demo_loads_proposals_in_each_state_and_is_idempotent():
    call_command("seed_demo")
    statuses = set(Proposal.objects.values_list("status", flat=True))
    assert {"pending", "approved", "rejected", "cancelled"} <= statuses
    assert Proposal.objects.filter(execution_status="succeeded").exists()
    counts = Proposal.objects.count(), Agent.objects.count(), AuditEvent.objects.count()

    call_command("seed_demo")

    assert (Proposal.objects.count(), Agent.objects.count(), AuditEvent.objects.count()) == counts


def test_every_tier_of_every_demo_rule_has_a_demo_user_who_may_decide_it():
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Queue
    from apps.policies.selectors import policy_staffing_gaps
    from apps.proposals.management.commands.seed_demo import USERS
    from apps.proposals.services import ensure_may_decide

    call_command("seed_demo")  # refuses an unstaffed policy: loading it proves the selector's answer
    policy = PolicyVersion.objects.get(status="active")
    assert policy_staffing_gaps(policy.rules.all()) == []
    demo_users = list(get_user_model().objects.filter(username__in=[user[0] for user in USERS]))
    pending = Proposal.objects.filter(status="pending").first()
    walked = []
    for rule in policy.rules.order_by("priority"):
        if rule.mode != "pre_approval" and not rule.sample_rate:
            continue
        for tier, slug in enumerate([rule.queue, *rule.escalation]):
            # the proposal as it would stand at this tier of this rule
            pending.policy_rule, pending.queue, pending.escalation_level = rule, Queue.objects.get(slug=slug), tier
            deciders = [user.username for user in demo_users if _may_decide(ensure_may_decide, pending, user)]
            assert deciders, f"nobody may decide rule {rule.name} at tier {tier} ({slug})"
            walked.append((rule.name, slug))
    assert ("refunds", "compliance") in walked and ("record-changes", "support-senior") in walked


def _may_decide(ensure_may_decide, proposal, user) -> bool:
    try:
        ensure_may_decide(proposal=proposal, reviewer=user)
    except Exception:
        return False
    return True


def test_the_demo_has_a_redirected_proposal_and_its_revision():
    call_command("seed_demo")
    redirected = Proposal.objects.get(status="changes_requested")
    assert redirected.instructions and redirected.revised_by.revision_of_id == redirected.pk
