"""Reads of the notifications app: a queue's channels and reviewers, a message's attempts, an agent's events."""

import functools
from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models import Q

from apps.accounts.models import Queue, QueueGroupObjectPermission, QueueUserObjectPermission, Role
from apps.accounts.selectors import REVIEW_QUEUE_PERMISSION

from .models import AgentEvent, QueueChannel

_REVIEW_CODENAME = REVIEW_QUEUE_PERMISSION.split(".", 1)[1]
_batch_cache: ContextVar[dict | None] = ContextVar("notification_lookups", default=None)


def agent_event_position(*, agent_id: int, event_id) -> int | None:
    """Where the agent's stream stands after its event `event_id` (None: no such event of this agent)."""
    return AgentEvent.objects.filter(agent_id=agent_id, event_id=event_id).values_list("id", flat=True).first()


def agent_events_after(*, agent_id: int, position: int, limit: int) -> list[tuple[int, str, str, str]]:
    """The agent's events after `position`, oldest first: (position, event id, type, body)."""
    events = AgentEvent.objects.filter(agent_id=agent_id, id__gt=position).order_by("id")
    return [
        (position, str(event_id), event_type, body)
        for position, event_id, event_type, body in events.values_list("id", "event_id", "event_type", "body")[:limit]
    ]


@contextmanager
def queue_lookups_cached():
    """Within one batch transaction (the SLA sweep), read each queue's channels and reviewers once."""
    token = _batch_cache.set({})
    try:
        yield
    finally:
        _batch_cache.reset(token)


def queue_channel_of(queue) -> QueueChannel | None:
    if Queue.channel.is_cached(queue):  # read with the queue
        return getattr(queue, "channel", None)
    return _cached(("channel", queue.pk), lambda: QueueChannel.objects.filter(queue=queue).first())


def queue_reviewer_emails(queue) -> list[str]:
    return _cached(("emails", queue.pk), lambda: _queue_reviewer_emails(queue))


def admin_emails() -> list[str]:
    """Active administrators' addresses (the admin role or superusers); read once per batch."""
    return _cached(("admin_emails",), _admin_emails)


def overseer_emails() -> list[str]:
    """Active administrators' and compliance officers' addresses (security alerts)."""
    return _role_emails(Role.ADMIN, Role.COMPLIANCE_OFFICER)


def _admin_emails() -> list[str]:
    return _role_emails(Role.ADMIN)


def _role_emails(*roles: str) -> list[str]:
    """Active users with an address who hold one of `roles`, or are superusers."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    users = users.filter(Q(is_superuser=True) | Q(groups__name__in=[str(role) for role in roles]))
    return sorted(set(users.values_list("email", flat=True)))


def _cached(key, read):
    cache = _batch_cache.get()
    if cache is None:
        return read()
    if key not in cache:
        cache[key] = read()
    return cache[key]


def _queue_reviewer_emails(queue) -> list[str]:
    """Active users holding the review permission on the queue, directly or through a group.

    Every submission routed to a queue reads this; written out, it costs a tenth of what the ORM
    spends composing the same joins."""
    with connection.cursor() as cursor:
        cursor.execute(_reviewer_emails_sql(), [queue.pk, _REVIEW_CODENAME, queue.pk, _REVIEW_CODENAME])
        return [email for (email,) in cursor.fetchall()]


@functools.cache
def _reviewer_emails_sql() -> str:
    users = get_user_model()
    return _REVIEWER_EMAILS_SQL.format(
        users=users._meta.db_table,
        memberships=users.groups.through._meta.db_table,
        user_grants=QueueUserObjectPermission._meta.db_table,
        group_grants=QueueGroupObjectPermission._meta.db_table,
        permissions=Permission._meta.db_table,
    )


_REVIEWER_EMAILS_SQL = """
SELECT DISTINCT reviewer.email FROM {users} reviewer
WHERE reviewer.is_active AND reviewer.email <> '' AND (
    reviewer.id IN (
        SELECT granted.user_id FROM {user_grants} granted
        INNER JOIN {permissions} permission ON permission.id = granted.permission_id
        WHERE granted.content_object_id = %s AND permission.codename = %s)
    OR reviewer.id IN (
        SELECT membership.user_id FROM {memberships} membership
        INNER JOIN {group_grants} granted ON granted.group_id = membership.group_id
        INNER JOIN {permissions} permission ON permission.id = granted.permission_id
        WHERE granted.content_object_id = %s AND permission.codename = %s))
ORDER BY reviewer.email
"""
