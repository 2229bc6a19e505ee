"""The read behind every agent request: the unrevoked key by its prefix, with its agent."""

import pytest
from django.utils import timezone

from apps.agents.fast_paths import agent_key_for
from apps.agents.models import Agent, AgentKey
from apps.agents.services import agent_key_rotate, agent_suspend
from hitlplatform.credentials import credential_matches, credential_parse

pytestmark = pytest.mark.django_db


def test_the_key_comes_with_its_agent_as_stored(agent_and_key, agent_owner, django_assert_num_queries):
    agent, key = agent_and_key
    prefix = credential_parse(key)[1]

    with django_assert_num_queries(1):
        found = agent_key_for(prefix)
        assert credential_matches(key, found.key_hash) and found.prefix == prefix
        assert (found.agent.pk, found.agent.name, found.agent.owner_id, found.agent.callback_url) == (
            agent.pk,
            "refund-bot",
            agent_owner.pk,
            "https://example.invalid/hook",
        )
        assert found.agent.webhook_secret == agent.webhook_secret and not found.agent.is_suspended
    assert found.pk == AgentKey.objects.get(prefix=prefix).pk


def test_fields_not_read_with_the_key_still_load_when_touched(agent_and_key):
    agent, key = agent_and_key
    found = agent_key_for(credential_parse(key)[1])
    stored = Agent.objects.get(pk=agent.pk)
    assert found.agent.created_at == stored.created_at and timezone.is_aware(found.agent.created_at)
    assert found.created_at == AgentKey.objects.get(pk=found.pk).created_at


def test_a_suspension_shows_on_the_next_read(agent_and_key, admin):
    agent, key = agent_and_key
    agent_suspend(agent=agent, reason="incident", actor=admin)
    found = agent_key_for(credential_parse(key)[1])
    assert found.agent.is_suspended and found.agent.suspension_reason == "incident"


def test_a_revoked_or_unknown_prefix_finds_nothing(agent_and_key):
    agent, key = agent_and_key
    agent_key_rotate(agent=agent)
    assert agent_key_for(credential_parse(key)[1]) is None
    assert agent_key_for("000000000000") is None
