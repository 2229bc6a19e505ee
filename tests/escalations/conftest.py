"""Fixtures of the SLA tests: policies with expiry choices, and the clock moved past a due time."""

import pytest

from apps.policies.services import policy_load_yaml
from tests.factories import UserFactory

EXPIRY_POLICY = """
rules:
  - name: refunds
    action_type: "payments.*"
    mode: pre_approval
    queue: finance
    sla: 30m
    escalation: [finance-senior, compliance]
  - name: auto-approve-on-expiry
    action_type: "newsletter.*"
    mode: pre_approval
    queue: support
    sla: 1h
    on_expiry: approve
  - name: support-replies
    action_type: "support.reply"
    mode: post_review
    sample_rate: 1.0
    queue: support
    sla: 2h
    escalation: [support-senior]
"""


@pytest.fixture
def expiry_policy(policy):
    return policy_load_yaml(text=EXPIRY_POLICY, comment="expiry test policy", allow_unstaffed=True)


@pytest.fixture
def finance_senior_reviewer(db):
    return UserFactory(
        username="finance_senior", role="senior_reviewer", queues=["finance-senior"], email="senior@example.org"
    )
