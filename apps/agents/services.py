"""Writes of the agents app: registration, keys, the suspension kill switch."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import audit_record
from hitlplatform.credentials import AGENT_KEY, credential_issue
from hitlplatform.errors import Conflict

from .events import AgentEvents
from .models import Agent, AgentKey


@transaction.atomic
def agent_create(
    *, name: str, owner=None, callback_url: str = "", description: str = "", actor=None
) -> tuple[Agent, str]:
    """Returns the agent and its API key, which is shown this once and never stored."""
    if Agent.objects.filter(name=name).exists():
        raise Conflict(_("An agent named %(name)s already exists.") % {"name": name})
    agent = Agent(name=name, owner=owner, callback_url=callback_url, description=description)
    agent.full_clean()
    agent.save()
    audit_record(
        action=AgentEvents.CREATED,
        actor=actor,
        obj=agent,
        data={"name": name, "owner": owner.username if owner else None, "callback_url": callback_url},
    )
    return agent, _key_issue(agent=agent, actor=actor)


@transaction.atomic
def agent_key_rotate(*, agent: Agent, actor=None) -> str:
    """Revokes every key of the agent and issues a new one."""
    revoked = AgentKey.objects.filter(agent=agent, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(action=AgentEvents.KEYS_REVOKED, actor=actor, obj=agent, data={"revoked": revoked})
    return _key_issue(agent=agent, actor=actor)


@transaction.atomic
def agent_suspend(*, agent: Agent, reason: str, actor=None) -> Agent:
    """The kill switch (EU AI Act Art. 14(4)(e)): no new submissions, no approvals until resumed."""
    updated = Agent.objects.filter(pk=agent.pk, status=Agent.Status.ACTIVE).update(
        status=Agent.Status.SUSPENDED, suspended_at=timezone.now(), suspension_reason=reason
    )
    if not updated:
        raise Conflict(_("The agent is already suspended."))
    audit_record(action=AgentEvents.SUSPENDED, actor=actor, obj=agent, data={"reason": reason})
    agent.refresh_from_db()
    return agent


@transaction.atomic
def agent_resume(*, agent: Agent, reason: str = "", actor=None) -> Agent:
    updated = Agent.objects.filter(pk=agent.pk, status=Agent.Status.SUSPENDED).update(
        status=Agent.Status.ACTIVE, suspended_at=None, suspension_reason=""
    )
    if not updated:
        raise Conflict(_("The agent is not suspended."))
    audit_record(action=AgentEvents.RESUMED, actor=actor, obj=agent, data={"reason": reason})
    agent.refresh_from_db()
    return agent


def _key_issue(*, agent: Agent, actor) -> str:
    issued = credential_issue(kind=AGENT_KEY)
    AgentKey.objects.create(agent=agent, prefix=issued.prefix, key_hash=issued.key_hash)
    audit_record(action=AgentEvents.KEY_ISSUED, actor=actor, obj=agent, data={"prefix": issued.prefix})
    return issued.key
