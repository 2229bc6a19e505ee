"""sla_sweep: reminders at 80 %, escalation tier by tier, expiry at the last tier, exactly once."""

import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.escalations.services import proposal_sla_lapse, sla_sweep
from apps.notifications.models import Channel, OutboxMessage
from apps.proposals.models import PostActionReview, Proposal, Status
from apps.proposals.selectors import proposals_visible_to

pytestmark = pytest.mark.django_db


def events(proposal, action):
    return AuditEvent.objects.filter(object_type="proposals.proposal", object_id=str(proposal.pk), action=action)


def test_an_overdue_proposal_is_escalated_to_the_next_tier(submit, senior_reviewer, finance_senior_reviewer):
    # given a refund (30m SLA, tiers finance-senior then compliance) whose SLA ran out
    refund = submit(blast_radius=5)
    later = refund.created_at + timedelta(minutes=31)

    # when
    result = sla_sweep(now=later)

    # then it moved to the first tier, with a new due time and its reviewers notified
    refund.refresh_from_db()
    assert result.escalated == 1
    assert (refund.status, refund.escalation_level, refund.queue.slug) == ("pending", 1, "finance-senior")
    assert refund.sla_due_at == later + timedelta(minutes=30)
    assert refund.reminded_at is None
    assert proposals_visible_to(senior_reviewer).filter(pk=refund.pk).exists()
    escalated = events(refund, "proposal.escalated").get()
    assert escalated.actor_type == "system"
    email = OutboxMessage.objects.get(proposal=refund, event_type="proposal.escalated", channel=Channel.EMAIL)
    assert email.target == "senior@example.org"
    webhook = json.loads(
        OutboxMessage.objects.get(proposal=refund, event_type="proposal.escalated", channel=Channel.WEBHOOK).body
    )
    assert (webhook["type"], webhook["proposal"]["escalation_level"], webhook["proposal"]["queue"]) == (
        "proposal.escalated",
        1,
        "finance-senior",
    )


def test_a_second_sweep_does_not_escalate_again(submit):
    refund = submit(blast_radius=5)
    later = refund.created_at + timedelta(minutes=31)
    sla_sweep(now=later)

    result = sla_sweep(now=later + timedelta(seconds=5))

    refund.refresh_from_db()
    assert result.escalated == 0 and refund.escalation_level == 1
    assert events(refund, "proposal.escalated").count() == 1


def test_a_worker_acting_on_a_stale_read_loses_the_race(submit):
    # given two sweepers that both read the overdue proposal at level 0
    refund = submit(blast_radius=5)
    later = refund.created_at + timedelta(minutes=31)
    first_read = Proposal.objects.select_related("policy_rule", "queue", "agent").get(pk=refund.pk)
    second_read = Proposal.objects.select_related("policy_rule", "queue", "agent").get(pk=refund.pk)

    # when both act
    outcomes = [proposal_sla_lapse(proposal=first_read, now=later), proposal_sla_lapse(proposal=second_read, now=later)]

    # then the conditional update let only one of them escalate
    assert outcomes == ["escalated", None]
    assert Proposal.objects.get(pk=refund.pk).escalation_level == 1
    assert events(refund, "proposal.escalated").count() == 1


def test_at_the_last_tier_the_proposal_expires_fail_closed(submit):
    # given a refund escalated through both of its tiers
    refund = submit(blast_radius=5, callback_url="https://hooks.example.invalid/hitl")
    now = refund.created_at
    for _tier in range(2):
        now += timedelta(minutes=31)
        sla_sweep(now=now)

    # when the last tier's SLA runs out too
    result = sla_sweep(now=now + timedelta(minutes=31))

    # then
    refund.refresh_from_db()
    assert result.expired == 1
    assert (refund.status, refund.escalation_level, refund.approved_by) == (Status.EXPIRED, 2, "")
    assert refund.decided_at is not None
    assert events(refund, "proposal.expired").count() == 1
    webhook = OutboxMessage.objects.get(proposal=refund, event_type="proposal.expired", channel=Channel.WEBHOOK)
    assert webhook.target == "https://hooks.example.invalid/hitl"
    assert json.loads(webhook.body)["proposal"]["status"] == "expired"


def test_on_expiry_approve_is_recorded_as_approved_by_policy_on_expiry(expiry_policy, submit, agent_client):
    # given a rule with on_expiry approve and no escalation tier
    newsletter = submit(action_type="newsletter.send")
    assert newsletter.status == "pending"

    # when its SLA runs out
    result = sla_sweep(now=newsletter.created_at + timedelta(hours=1, seconds=1))

    # then it is approved by policy, and says it was on expiry everywhere
    newsletter.refresh_from_db()
    assert result.approved_on_expiry == 1
    assert (newsletter.status, newsletter.approved_by, newsletter.approved_on_expiry) == ("approved", "policy", True)
    assert newsletter.final_payload == newsletter.payload
    expired = events(newsletter, "proposal.expired").get()
    assert expired.action == "proposal.expired"
    body = agent_client.get(f"/api/v1/proposals/{newsletter.pk}/").json()
    assert (body["status"], body["approved_by"], body["approved_on_expiry"]) == ("approved", "policy", True)


def test_on_expiry_approve_fails_closed_for_a_suspended_agent(expiry_policy, submit, agent):
    newsletter = submit(action_type="newsletter.send")
    agent.status = agent.Status.SUSPENDED
    agent.save()

    sla_sweep(now=newsletter.created_at + timedelta(hours=2))

    newsletter.refresh_from_db()
    assert (newsletter.status, newsletter.approved_on_expiry) == ("expired", False)


def test_a_reminder_goes_out_once_at_80_percent_of_the_sla(submit):
    # given a refund with a 30 minute SLA
    refund = submit(blast_radius=5)
    assert refund.remind_at == refund.created_at + timedelta(minutes=24)

    # when the sweep runs before and after 24 minutes, twice
    before = sla_sweep(now=refund.created_at + timedelta(minutes=23))
    first = sla_sweep(now=refund.created_at + timedelta(minutes=25))
    again = sla_sweep(now=refund.created_at + timedelta(minutes=26))

    # then one reminder, audited
    refund.refresh_from_db()
    assert (before.reminded, first.reminded, again.reminded) == (0, 1, 0)
    assert refund.reminded_at is not None and refund.escalation_level == 0
    assert events(refund, "proposal.reminded").count() == 1


def test_decided_proposals_are_left_alone(submit, reviewer, second_reviewer, password):
    from apps.proposals.services import proposal_decide

    refund = submit(blast_radius=5)
    proposal_decide(proposal_id=refund.pk, reviewer=reviewer, verdict="reject", rationale="no", password=password)

    result = sla_sweep(now=refund.created_at + timedelta(days=3))

    refund.refresh_from_db()
    assert result.escalated == result.expired == 0
    assert refund.status == "rejected"


def test_a_sampled_execution_waiting_too_long_escalates_and_then_breaches_once(expiry_policy, submit, agent):
    from apps.proposals.services import proposal_report_execution

    # given an executed support reply, sampled (rate 1.0) for review with a 2h SLA and one tier
    reply = submit(action_type="support.reply", payload={"ticket": "T-1"})
    proposal_report_execution(proposal_id=reply.pk, agent=agent, status="succeeded", detail={})
    review = PostActionReview.objects.get(proposal=reply)
    now = review.sla_due_at + timedelta(seconds=1)

    # when the sweep runs past the due time, and past the tier's due time, twice
    first = sla_sweep(now=now)
    review.refresh_from_db()
    at_last_tier = (review.queue.slug, review.escalation_level)
    second = sla_sweep(now=review.sla_due_at + timedelta(seconds=1))
    third = sla_sweep(now=review.sla_due_at + timedelta(hours=5))

    # then
    review.refresh_from_db()
    assert first.reviews_escalated == 1 and at_last_tier == ("support-senior", 1)
    assert (second.reviews_overdue, third.reviews_overdue) == (1, 0)
    assert review.state == "queued" and review.sla_due_at is None
    assert events(reply, "review.escalated").count() == 1
    assert events(reply, "review.sla_breached").count() == 1


def test_sweep_sla_command_runs_the_same_service(submit):
    refund = submit(blast_radius=5)
    Proposal.objects.filter(pk=refund.pk).update(sla_due_at=timezone.now() - timedelta(seconds=1))
    out = StringIO()

    call_command("sweep_sla", "--json", stdout=out)

    assert json.loads(out.getvalue())["escalated"] == 1
    assert Proposal.objects.get(pk=refund.pk).escalation_level == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_escalate_each_proposal_once(submit):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:memorydb", ":memory:")):
        pytest.skip("needs a database shared between threads")
    # given 40 overdue refunds
    refunds = [submit(blast_radius=5, external_id=f"R-{n}") for n in range(40)]
    later = max(refund.created_at for refund in refunds) + timedelta(minutes=31)
    errors = []

    def sweep():
        try:
            sla_sweep(now=later, batch_size=7)
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    # when two sweepers run together
    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then each refund was escalated exactly once
    assert errors == []
    assert set(Proposal.objects.filter(pk__in=[r.pk for r in refunds]).values_list("escalation_level", flat=True)) == {
        1
    }
    assert AuditEvent.objects.filter(action="proposal.escalated").count() == 40


def test_in_a_batch_only_the_proposals_nobody_moved_since_the_read_are_escalated(submit, reviewer, password):
    from apps.notifications.messages import proposals_for_webhooks
    from apps.proposals.services import proposal_decide, proposals_escalate_overdue

    # given a sweeper's read of three overdue refunds, one of which a reviewer then rejects
    refunds = [submit(blast_radius=5, external_id=f"R-{n}") for n in range(3)]
    later = max(refund.created_at for refund in refunds) + timedelta(minutes=31)
    batch = list(proposals_for_webhooks(Proposal.objects).filter(pk__in=[r.pk for r in refunds]).order_by("pk"))
    proposal_decide(proposal_id=refunds[1].pk, reviewer=reviewer, verdict="reject", rationale="no", password=password)

    # when the batch is escalated, and the same stale read is escalated again (a second sweeper)
    escalated = proposals_escalate_overdue(proposals=batch, now=later, queues={})
    stale = list(proposals_for_webhooks(Proposal.objects).filter(pk__in=[r.pk for r in refunds]).order_by("pk"))
    for proposal in stale:
        proposal.escalation_level = 0
    again = proposals_escalate_overdue(proposals=stale, now=later, queues={})

    # then the compare-and-set decided per row: the rejected one and the second pass lost
    assert [proposal.pk for proposal in escalated] == [refunds[0].pk, refunds[2].pk]
    assert again == []
    levels = dict(Proposal.objects.filter(pk__in=[r.pk for r in refunds]).values_list("pk", "escalation_level"))
    assert levels == {refunds[0].pk: 1, refunds[1].pk: 0, refunds[2].pk: 1}
    assert Proposal.objects.get(pk=refunds[1].pk).status == "rejected"
    assert [events(refund, "proposal.escalated").count() for refund in refunds] == [1, 0, 1]
    assert OutboxMessage.objects.filter(event_type="proposal.escalated", channel=Channel.WEBHOOK).count() == 2


def test_one_sweep_escalates_and_expires_proposals_of_different_tiers_each_once(submit):
    from apps.accounts.models import Queue

    # given overdue refunds at the first queue, at the first tier, and at the last tier
    fresh, first_tier, last_tier = (submit(blast_radius=5, external_id=f"R-{n}") for n in range(3))
    Proposal.objects.filter(pk=first_tier.pk).update(escalation_level=1, queue=Queue.objects.get(slug="finance-senior"))
    Proposal.objects.filter(pk=last_tier.pk).update(escalation_level=2, queue=Queue.objects.get(slug="compliance"))
    later = last_tier.created_at + timedelta(minutes=31)

    # when
    result = sla_sweep(now=later)

    # then each moved one step: the one escalated onto the last tier waits there, it does not expire too
    state = {
        proposal.pk: (proposal.status, proposal.escalation_level, proposal.queue.slug, proposal.sla_due_at)
        for proposal in Proposal.objects.select_related("queue")
    }
    assert (result.escalated, result.expired) == (2, 1)
    assert state[fresh.pk] == ("pending", 1, "finance-senior", later + timedelta(minutes=30))
    assert state[first_tier.pk] == ("pending", 2, "compliance", later + timedelta(minutes=30))
    assert state[last_tier.pk][:2] == ("expired", 2)
    assert [events(proposal, "proposal.escalated").count() for proposal in (fresh, first_tier, last_tier)] == [1, 1, 0]
    assert [events(proposal, "proposal.expired").count() for proposal in (fresh, first_tier, last_tier)] == [0, 0, 1]
    assert json.loads(events(first_tier, "proposal.escalated").get().data_record.canonical_data) == {
        "by": "sla",
        "from_queue": "finance-senior",
        "level": 2,
        "reason": f"SLA overdue since {first_tier.sla_due_at.isoformat()}",
        "sla_due_at": (later + timedelta(minutes=30)).isoformat(),
        "to_queue": "compliance",
        # nobody in this test may decide at the last tier: the event says so (the admins hear of it)
        "unstaffed": "no active user has the review permission of this queue",
    }
