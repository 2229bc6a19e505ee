"""Fixtures of the notification tests: a receiver on 127.0.0.1, queue channels, reviewers with email."""

import pytest

from apps.accounts.models import Queue
from apps.notifications.models import QueueChannel
from tests.factories import UserFactory


@pytest.fixture
def finance_channels(policy):
    """The finance queue posts to Slack and Teams, and two reviewers of it have email addresses."""
    UserFactory(username="fiona", role="reviewer", queues=["finance"], email="fiona@example.org")
    UserFactory(username="frank", role="reviewer", queues=["finance"], email="frank@example.org")
    return QueueChannel.objects.create(
        queue=Queue.objects.get(slug="finance"),
        slack_webhook_url="https://hooks.slack.example.invalid/services/T/B/X",
        teams_webhook_url="https://teams.example.invalid/webhook/abc",
    )
