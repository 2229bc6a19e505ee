"""Fixtures of the sampling tests: a policy with a configurable rate and a daily minimum, executions."""

import pytest

from apps.policies.services import policy_load_yaml
from apps.proposals.services import proposal_report_execution

SAMPLING_POLICY = """
rules:
  - name: support-replies
    action_type: "support.reply"
    mode: post_review
    sample_rate: {rate}
    min_samples_per_day: {minimum}
    queue: support
    sla: 8h
"""


@pytest.fixture
def sampling_policy(policy):
    def load(*, rate: float, minimum: int = 0):
        return policy_load_yaml(
            text=SAMPLING_POLICY.format(rate=rate, minimum=minimum), comment="sampling", allow_unstaffed=True
        )

    return load


@pytest.fixture
def executed(submit, agent):
    """`count` support replies, executed and reported; returns the proposals."""

    def make(count: int):
        replies = []
        for number in range(count):
            reply = submit(action_type="support.reply", payload={"ticket": f"T-{number}"}, external_id=f"T-{number}")
            proposal_report_execution(proposal_id=reply.pk, agent=agent, status="succeeded", detail={})
            replies.append(reply)
        return replies

    return make
