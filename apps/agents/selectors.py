"""Reads of the agents app."""

from .models import AgentKey


def agent_key_for(prefix: str) -> AgentKey | None:
    return AgentKey.objects.select_related("agent").filter(prefix=prefix, revoked_at__isnull=True).first()
