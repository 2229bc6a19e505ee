import json

import pytest
from django.core.management import CommandError, call_command

from apps.agents.models import Agent, AgentKey
from apps.audit.models import AuditEvent
from hitlplatform.credentials import credential_hash

pytestmark = pytest.mark.django_db


def test_create_agent_json_prints_the_key_once_and_stores_only_its_hash(capsys, agent_owner):
    call_command(
        "create_agent", "mail-bot", "--owner", "agent_owner", "--callback-url", "https://example.invalid/h", "--json"
    )
    result = json.loads(capsys.readouterr().out)

    assert set(result) == {"id", "name", "key", "webhook_secret"}
    agent = Agent.objects.get(pk=result["id"])
    assert agent.owner == agent_owner and agent.callback_url == "https://example.invalid/h"
    stored = AgentKey.objects.get(agent=agent)
    assert result["key"].startswith(f"hitl_ak_{stored.prefix}_")
    assert stored.key_hash == credential_hash(result["key"])
    assert result["key"] not in stored.key_hash
    assert AuditEvent.objects.filter(action="agent.created", object_id=str(agent.pk)).exists()


def test_create_agent_refuses_a_duplicate_name(agent):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_agent", agent.name)


def test_create_agent_refuses_an_unknown_owner():
    with pytest.raises(CommandError, match="No user"):
        call_command("create_agent", "x-bot", "--owner", "nobody")
