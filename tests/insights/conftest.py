"""Fixtures of the insights tests: proposals, decisions, views and post-action reviews written
with known timestamps, so every figure has a known answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.audit.services import audit_record
from apps.proposals.models import Decision, PostActionReview, Proposal
from apps.proposals.payloads import payload_version

NOW_OFFSET = timedelta(minutes=5)


@pytest.fixture
def senior_reviewer(senior_reviewer):
    """QA reviews are scoped to the queues a senior reviews: this one reviews support too."""
    from apps.accounts.services import queue_get_or_create, queue_permission_grant

    queue_permission_grant(queue=queue_get_or_create(slug="support"), user=senior_reviewer)
    return senior_reviewer


@pytest.fixture
def now():
    return timezone.now() + NOW_OFFSET


@pytest.fixture
def rules(policy):
    return {rule.name: rule for rule in policy.rules.all()}


@pytest.fixture
def make_proposal(agent, rules, now):
    """A proposal as the services would leave it, with chosen outcome and timestamps."""

    def make(
        rule="refunds",
        *,
        status="approved",
        approved_by=None,
        created_ago=timedelta(days=1),
        decided_after=None,
        sla=timedelta(minutes=30),
        revised_payload=None,
        confidence=0.8,
        approvals_required=1,
        **fields,
    ):
        policy_rule = rules[rule] if rule else None
        mode = fields.pop("mode", policy_rule.mode if policy_rule else "pre_approval")
        created_at = now - created_ago
        payload = fields.pop("payload", {"order": "A-1", "amount": "500.00"})
        if approved_by is None and status == "approved":
            approved_by = "human" if mode == "pre_approval" else "policy"
        if decided_after is None:
            decided_after = (
                timedelta(minutes=10) if status in ("approved", "rejected", "expired", "cancelled") else None
            )
        if "queue" not in fields and policy_rule is not None and policy_rule.queue:
            from apps.accounts.services import queue_get_or_create

            fields["queue"] = queue_get_or_create(slug=policy_rule.queue)  # reviewers see proposals by queue
        return Proposal.objects.create(
            agent=fields.pop("agent", agent),
            action_type=fields.pop(
                "action_type", policy_rule.action_type.replace("*", "x") if policy_rule else "misc.do"
            ),
            payload=payload,
            revised_payload=revised_payload,
            payload_version=payload_version(revised_payload or payload),
            confidence=confidence,
            status=status,
            mode=mode,
            approved_by=approved_by or "",
            approvals_required=approvals_required,
            policy_version=policy_rule.version if policy_rule else None,
            policy_rule=policy_rule,
            created_at=created_at,
            decided_at=created_at + decided_after if decided_after is not None else None,
            sla_due_at=created_at + sla if mode == "pre_approval" and sla else None,
            **fields,
        )

    return make


@pytest.fixture
def make_decision():
    def make(proposal, reviewer, verdict="approve", *, signed_at=None, rationale="checked", payload=None):
        return Decision.objects.create(
            proposal=proposal,
            reviewer=reviewer,
            verdict=verdict,
            rationale=rationale,
            payload=payload,
            payload_version=proposal.payload_version,
            signer_name=reviewer.username,
            signature_meaning=verdict,
            signed_at=signed_at or proposal.decided_at or timezone.now(),
        )

    return make


@pytest.fixture
def view_then_decide(make_decision):
    """The reviewer's `proposal.viewed` event, then a decision `seconds` later."""

    def make(proposal, reviewer, verdict="approve", *, seconds):
        event = audit_record(action="proposal.viewed", actor=reviewer, obj=proposal)
        return make_decision(proposal, reviewer, verdict, signed_at=event.timestamp + timedelta(seconds=seconds))

    return make


@pytest.fixture
def make_post_review(now):
    def make(proposal, state, *, reviewer=None, reviewed_ago=timedelta(days=1), correction=None, rationale=""):
        reviewed = state in ("confirmed", "flagged")
        return PostActionReview.objects.create(
            proposal=proposal,
            state=state,
            draw=0.01,
            sample_rate=1.0,
            reviewer=reviewer if reviewed else None,
            verdict={"confirmed": "confirm", "flagged": "flag"}.get(state, ""),
            rationale=rationale,
            correction=correction,
            reviewed_at=now - reviewed_ago if reviewed else None,
        )

    return make
