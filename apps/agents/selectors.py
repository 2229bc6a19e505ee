"""Reads of the agents app."""

from .models import Agent, AgentKey

# Every agent request authenticates with this read, so it is written out rather than built by the
# ORM, which spends about three times as long composing a select_related query as running it.
# A raw queryset still converts each agent column as the ORM does.
_AGENT_BY_KEY_PREFIX = (
    "SELECT agents_agent.*, agents_agentkey.id AS key_id, agents_agentkey.key_hash AS key_hash "
    "FROM agents_agentkey INNER JOIN agents_agent ON agents_agent.id = agents_agentkey.agent_id "
    "WHERE agents_agentkey.prefix = %s AND agents_agentkey.revoked_at IS NULL"
)


def agent_key_for(prefix: str) -> AgentKey | None:
    """The unrevoked key with this prefix, its agent loaded with it."""
    agent = next(iter(Agent.objects.raw(_AGENT_BY_KEY_PREFIX, [prefix])), None)
    if agent is None:
        return None
    key_id, key_hash = agent.__dict__.pop("key_id"), agent.__dict__.pop("key_hash")
    # created_at stays deferred: nothing on the request path reads it.
    key = AgentKey.from_db(None, ["id", "agent_id", "prefix", "key_hash", "revoked_at"],
                           (key_id, agent.pk, prefix, key_hash, None))
    AgentKey.agent.field.set_cached_value(key, agent)
    return key
