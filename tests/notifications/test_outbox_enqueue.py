"""Which events write which outbox messages, in the business transaction, and what they carry."""

import json

import pytest

from apps.notifications.models import Channel, OutboxMessage
from apps.proposals.services import proposal_decide, proposal_post_review, proposal_report_execution

pytestmark = pytest.mark.django_db


def test_a_proposal_waiting_for_approval_notifies_its_queue_by_email_slack_and_teams(finance_channels, submit):
    # when a refund is submitted for pre-approval in the finance queue
    refund = submit(blast_radius=5, payload={"order": "A-77", "iban": "DE-SECRET-IBAN"})

    # then one message per channel, for the same event
    created = OutboxMessage.objects.filter(proposal=refund, event_type="proposal.created")
    assert sorted(created.values_list("channel", flat=True)) == [Channel.EMAIL, Channel.SLACK, Channel.TEAMS]
    assert len(set(created.values_list("event_id", flat=True))) == 1
    email = created.get(channel=Channel.EMAIL)
    assert email.target.split("\n") == ["fiona@example.org", "frank@example.org"]


def test_reviewer_channels_get_summary_risk_due_and_link_but_never_the_payload(finance_channels, submit, settings):
    settings.SITE_URL = "https://hitl.example.org"
    refund = submit(blast_radius=5, summary="Refund order A-77", payload={"order": "A-77", "iban": "DE-SECRET-IBAN"})

    for message in OutboxMessage.objects.filter(proposal=refund, event_type="proposal.created"):
        text = message.subject + message.body
        assert "DE-SECRET-IBAN" not in text and "iban" not in text
        assert "Refund order A-77" in text
        assert "payments.refund" in text
        assert "blast radius 5" in text
        assert refund.sla_due_at.strftime("%Y-%m-%d %H:%M") in text
        assert f"https://hitl.example.org/review/{refund.pk}/" in text
    teams = OutboxMessage.objects.get(proposal=refund, channel=Channel.TEAMS)
    assert json.loads(teams.body)["@type"] == "MessageCard"
    assert "text" in json.loads(OutboxMessage.objects.get(proposal=refund, channel=Channel.SLACK).body)


def test_an_autonomous_action_notifies_nobody(finance_channels, submit):
    small = submit(confidence=0.95)
    assert small.status == "approved"
    assert not OutboxMessage.objects.filter(proposal=small).exists()


def test_a_decision_writes_a_signed_webhook_in_the_design_format(submit, reviewer, password):
    # given a record change whose proposal names its own callback URL
    change = submit(action_type="crm.update", callback_url="https://agent.example.invalid/hitl")

    # when it is rejected
    proposal_decide(
        proposal_id=change.pk, reviewer=reviewer, verdict="reject", rationale="wrong customer", password=password
    )

    # then
    webhook = OutboxMessage.objects.get(proposal=change, channel=Channel.WEBHOOK)
    document = json.loads(webhook.body)
    assert webhook.event_type == "proposal.decided"
    assert webhook.target == "https://agent.example.invalid/hitl"
    assert set(document) == {"id", "type", "proposal"}
    assert document["id"] == str(webhook.event_id) and document["type"] == "proposal.decided"
    assert document["proposal"]["status"] == "rejected"
    assert document["proposal"]["decisions"][0]["rationale"] == "wrong customer"


def test_without_a_proposal_callback_the_agents_url_is_used(submit, reviewer, password, agent):
    change = submit(action_type="crm.update")
    proposal_decide(proposal_id=change.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=password)
    assert OutboxMessage.objects.get(proposal=change, channel=Channel.WEBHOOK).target == agent.callback_url


def test_an_approval_still_short_of_four_eyes_sends_no_decided_webhook(submit, reviewer, password):
    refund = submit(blast_radius=5)
    proposal_decide(proposal_id=refund.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=password)
    assert not OutboxMessage.objects.filter(proposal=refund, event_type="proposal.decided").exists()


def test_a_flagged_execution_notifies_the_integrator(submit, agent, reviewer, password):
    reply = submit(action_type="support.reply", payload={"ticket": "T-9"})
    proposal_report_execution(proposal_id=reply.pk, agent=agent, status="succeeded", detail={})

    proposal_post_review(
        proposal_id=reply.pk,
        reviewer=reviewer,
        verdict="flag",
        rationale="wrong tone",
        password=password,
        correction={"body": "Sorry!"},
    )

    flagged = OutboxMessage.objects.get(proposal=reply, event_type="proposal.flagged", channel=Channel.WEBHOOK)
    assert json.loads(flagged.body)["proposal"]["review"]["state"] == "flagged"


def test_a_rejected_request_writes_no_message(submit, outsider, password):
    from hitlplatform.errors import NotFound

    change = submit(action_type="crm.update")
    with pytest.raises(NotFound):
        proposal_decide(proposal_id=change.pk, reviewer=outsider, verdict="approve", rationale="ok", password=password)
    assert not OutboxMessage.objects.filter(proposal=change, event_type="proposal.decided").exists()


def test_messages_are_handed_to_the_broker_only_after_commit(
    submit, reviewer, password, receiver, django_capture_on_commit_callbacks
):
    integrator = receiver()
    change = submit(action_type="crm.update", callback_url=integrator.url)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        proposal_decide(proposal_id=change.pk, reviewer=reviewer, verdict="approve", rationale="ok", password=password)
    assert callbacks and integrator.requests == []

    for callback in callbacks:
        callback()
    assert [request["status"] for request in integrator.requests] == [200]
