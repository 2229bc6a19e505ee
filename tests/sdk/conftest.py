"""The SDK against a live platform: pytest-django's live server, an agent key, a reviewer's API token.

The SDK blocks while it waits for a decision, so a gated call runs in a worker thread (`in_background`)
while the test decides through the API as a reviewer would (`decide_pending`).
"""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import yaml
from django.utils import timezone

from apps.accounts.services import token_create
from apps.agents.services import agent_create
from apps.escalations.services import sla_sweep
from apps.policies.services import policy_load_yaml
from tests.conftest import TEST_POLICY
from tests.factories import PASSWORD, UserFactory


def sdk_policy() -> str:
    """The suite's refund rules (tests/conftest.py) as the SDK tests need them: one reviewer's
    decision approves (`decide_pending`), and an overdue proposal expires instead of escalating
    (`expire_overdue`)."""
    rules = [rule for rule in yaml.safe_load(TEST_POLICY)["rules"] if rule["action_type"].startswith("payments.")]
    for rule in rules:
        rule.pop("approvals_required", None)
        rule.pop("escalation", None)
    return yaml.safe_dump({"rules": rules}, sort_keys=False)


class ToyRefunds:
    """The payment action behind each framework's `refund` tool: records every run, fails on demand."""

    def __init__(self, fail=False):
        self.runs = []
        self.fail = fail

    def record(self, order_id: str, amount: str) -> None:
        self.runs.append((order_id, amount))
        if self.fail:
            raise RuntimeError("payment provider down")

    def refunded(self, order_id: str, amount: str) -> str:
        self.record(order_id, amount)
        return f"refunded {amount} on {order_id}"


@pytest.fixture
def platform(live_server, transactional_db):
    """The live platform with the SDK's policy, an agent and a reviewer who can decide its proposals."""
    policy_load_yaml(text=sdk_policy(), comment="sdk test policy", allow_unstaffed=True)
    owner = UserFactory(username="agent_owner", role="reviewer")
    agent, agent_key = agent_create(name="sdk-bot", owner=owner)
    reviewer = UserFactory(username="reviewer", role="reviewer", queues=["finance"])
    _token, reviewer_token = token_create(user=reviewer)
    with Platform(url=live_server.url, agent=agent, agent_key=agent_key, reviewer_token=reviewer_token) as live:
        yield live


class Platform:
    """The live platform as the SDK sees it. The HitlClients it hands out are closed when the test ends
    (as a context manager, when the block is left); an AsyncHitlClient belongs to the event loop of
    the test that opens it, which closes it (`async with platform.async_client() as client`)."""

    def __init__(self, *, url, agent, agent_key, reviewer_token):
        self.url = url
        self.agent = agent
        self.agent_key = agent_key
        self.reviewer_token = reviewer_token
        self._opened = []
        self._polling = None
        self._reviewing = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        while self._opened:
            self._opened.pop().close()
        self._polling = self._reviewing = None

    def client(self, **options):
        """A new agent client (a gated call in a worker thread gets its own)."""
        return self._open(self.agent_key, **options)

    def async_client(self, **options):
        from hitlplatform_client import AsyncHitlClient

        return AsyncHitlClient(self.url, self.agent_key, **options)

    def reviewer(self):
        """The reviewer's client, one for the test."""
        if self._reviewing is None:
            self._reviewing = self._open(self.reviewer_token)
        return self._reviewing

    def pending(self, *, count=1, timeout=15.0):
        """The agent's pending proposals once there are `count` of them."""
        if self._polling is None:
            self._polling = self.client()
        until = time.monotonic() + timeout
        while True:
            proposals = self._polling.list(status="pending").results
            if len(proposals) >= count or time.monotonic() > until:
                assert len(proposals) >= count, f"expected {count} pending proposal(s), found {len(proposals)}"
                return proposals
            time.sleep(0.05)

    def decide_pending(self, verdict="approve", rationale="Checked against the order.", **extra):
        """Wait for the one pending proposal and decide it through the API; returns its id."""
        proposal = self.pending()[-1]
        self.reviewer().decide(proposal.id, verdict=verdict, rationale=rationale, password=PASSWORD, **extra)
        return proposal.id

    def expire_overdue(self):
        """Run the SLA sweep (the service Celery beat runs) as if the SLA had passed."""
        self.pending()
        return sla_sweep(now=timezone.now() + timedelta(hours=2))

    def _open(self, key, **options):
        from hitlplatform_client import HitlClient

        client = HitlClient(self.url, key, **options)
        self._opened.append(client)
        return client


@pytest.fixture
def in_background():
    """Run a blocking call in a worker thread: `future = in_background(fn, *args)`."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield pool.submit


@pytest.fixture
def approved_with_async_client(platform, in_background):
    """`approved_with_async_client(run)`: `await run(client)` with an AsyncHitlClient, in a worker
    thread, while the reviewer approves the pending proposal; returns what it returned."""

    def approved(run):
        async def scenario():
            async with platform.async_client() as client:
                return await run(client)

        call = in_background(asyncio.run, scenario())
        platform.decide_pending("approve")
        return call.result(timeout=60)

    return approved
