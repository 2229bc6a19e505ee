"""The agents app's speed trick on the request path: the key lookup every agent request makes.

Written out in SQL because the ORM spends about three times as long composing the select_related
query as the database spends answering it (the intake benchmark, `make bench`, measures the whole
request); the rows become model instances through the public `Model.from_db`."""

from django.db import connection

from .models import Agent, AgentKey

# Every agent request authenticates with this read, so it is written out: the ORM spends about
# three times as long composing a select_related query as the database spends answering it.
# Only columns whose database value is already the Python value are read (no converters needed
# on any backend); the agent's other fields stay deferred and load if something touches them.
# In the model's field order, as Model.from_db expects them.
_AGENT_FIELDS = (
    "id",
    "name",
    "description",
    "owner_id",
    "callback_url",
    "webhook_secret",
    "status",
    "suspension_reason",
)
_AGENT_BY_KEY_PREFIX = (  # noqa: S608 (names from the models' metadata; values are parameters)
    "SELECT agent_key.id, agent_key.key_hash, {agent_columns}"
    " FROM {keys} agent_key INNER JOIN {agents} agent ON agent.id = agent_key.agent_id"
    " WHERE agent_key.prefix = %s AND agent_key.revoked_at IS NULL"
).format(
    agent_columns=", ".join(f"agent.{Agent._meta.get_field(name).column}" for name in _AGENT_FIELDS),
    keys=AgentKey._meta.db_table,
    agents=Agent._meta.db_table,
)


def agent_key_for(prefix: str) -> AgentKey | None:
    """The unrevoked key with this prefix, its agent loaded with it."""
    with connection.cursor() as cursor:
        cursor.execute(_AGENT_BY_KEY_PREFIX, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    key_id, key_hash, *agent_values = row
    agent = Agent.from_db(connection.alias, _AGENT_FIELDS, agent_values)
    key = AgentKey.from_db(
        connection.alias,
        ("id", "agent_id", "prefix", "key_hash", "revoked_at"),
        (key_id, agent.pk, prefix, key_hash, None),
    )
    AgentKey.agent.field.set_cached_value(key, agent)
    return key
