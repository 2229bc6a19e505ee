"""Reads of the notifications app: a queue's channels and reviewers, a message's attempts."""

from contextlib import contextmanager
from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.db.models import Q

from apps.accounts.selectors import REVIEW_QUEUE_PERMISSION

from .models import QueueChannel

_REVIEW_CODENAME = REVIEW_QUEUE_PERMISSION.split(".", 1)[1]
_batch_cache: ContextVar[dict | None] = ContextVar("notification_lookups", default=None)


@contextmanager
def queue_lookups_cached():
    """Within one batch transaction (the SLA sweep), read each queue's channels and reviewers once."""
    token = _batch_cache.set({})
    try:
        yield
    finally:
        _batch_cache.reset(token)


def queue_channel_of(queue) -> QueueChannel | None:
    return _cached(("channel", queue.pk), lambda: QueueChannel.objects.filter(queue=queue).first())


def queue_reviewer_emails(queue) -> list[str]:
    return _cached(("emails", queue.pk), lambda: _queue_reviewer_emails(queue))


def _cached(key, read):
    cache = _batch_cache.get()
    if cache is None:
        return read()
    if key not in cache:
        cache[key] = read()
    return cache[key]


def _queue_reviewer_emails(queue) -> list[str]:
    """Active users holding the review permission on the queue, directly or through a group."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    direct = Q(queueuserobjectpermission__content_object=queue,
               queueuserobjectpermission__permission__codename=_REVIEW_CODENAME)
    by_group = Q(groups__queuegroupobjectpermission__content_object=queue,
                 groups__queuegroupobjectpermission__permission__codename=_REVIEW_CODENAME)
    return sorted(set(users.filter(direct | by_group).values_list("email", flat=True)))
