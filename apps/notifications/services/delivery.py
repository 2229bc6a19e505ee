"""Delivering the outbox: leases, sends, retries with backoff, dead letters, the sweep and resends.

A delivering worker leases the rows with a conditional UPDATE, so a message sent twice by the
broker, or by the outbox sweep, is delivered once. A failed attempt sets the next one with
exponential backoff; the sweep re-dispatches what is due or what the broker lost; after
`NOTIFICATION_RETRY_WINDOW_SECONDS` the message is dead-lettered.
"""

import logging
import secrets
import time
from contextlib import contextmanager
from datetime import timedelta

import requests
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from apps.audit.services import audit_record

from .. import messages
from ..events import NotificationEvents
from ..models import Channel, DeliveryAttempt, OutboxMessage

logger = logging.getLogger(__name__)

ERROR_MAX_CHARS = 2000


def outbox_messages_deliver(*, message_ids) -> dict[str, int]:
    """Deliver a chunk of messages, each once; how many ended which way ("delivered", "retry",
    "dead", or "skipped": not due, leased by another worker, or done).

    The chunk is leased with one conditional UPDATE (a random lease value says which rows are
    ours), sent one by one outside any transaction, and its attempts are logged together.
    """
    now = timezone.now()
    # The lease outlives the chunk's worst case, every send timing out.
    seconds = max(settings.OUTBOX_LEASE_SECONDS, len(message_ids) * settings.WEBHOOK_TIMEOUT_SECONDS + 60)
    lease_until = now + timedelta(seconds=seconds, microseconds=secrets.randbelow(10**6))
    with _bookkeeping():
        claimed = (
            OutboxMessage.objects.filter(
                pk__in=message_ids, state=OutboxMessage.State.PENDING, next_attempt_at__lte=now
            )
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .update(leased_until=lease_until, attempts=F("attempts") + 1)
        )
    outcomes = {"skipped": len(message_ids) - claimed} if claimed < len(message_ids) else {}
    if not claimed:
        return outcomes
    messages = list(
        OutboxMessage.objects.select_related("proposal__agent").filter(pk__in=message_ids, leased_until=lease_until)
    )
    results = []
    for message in messages:
        started_at, started = timezone.now(), time.monotonic()
        status_code, error = _send(message)
        results.append(
            (
                message,
                DeliveryAttempt(
                    message=message,
                    number=message.attempts,
                    started_at=started_at,
                    duration_ms=int((time.monotonic() - started) * 1000),
                    succeeded=not error,
                    status_code=status_code,
                    error=error[:ERROR_MAX_CHARS],
                ),
            )
        )
    with _bookkeeping():
        DeliveryAttempt.objects.bulk_create([attempt for _message, attempt in results])
        delivered = [message.pk for message, attempt in results if attempt.succeeded]
        if delivered:
            OutboxMessage.objects.filter(pk__in=delivered, leased_until=lease_until).update(
                state=OutboxMessage.State.DELIVERED, delivered_at=timezone.now(), leased_until=None, last_error=""
            )
            outcomes["delivered"] = len(delivered)
        for message, attempt in results:
            if not attempt.succeeded:
                outcome = _failed(message, attempt.error, lease_until)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def outbox_message_deliver(*, message_id) -> str:
    """Deliver one message once: "delivered", "retry", "dead" or "skipped" (not due, leased or done)."""
    return next(iter(outbox_messages_deliver(message_ids=[message_id])))


def outbox_sweep(*, now=None, limit: int | None = None) -> int:
    """Dispatch the messages that are due and that no task is known to carry; returns how many."""
    now = now or timezone.now()
    limit = limit or settings.OUTBOX_SWEEP_LIMIT
    lost_after = now - timedelta(seconds=settings.OUTBOX_DISPATCH_GRACE_SECONDS)
    with transaction.atomic():
        due = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(state=OutboxMessage.State.PENDING, next_attempt_at__lte=now)
            .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lt=lost_after))
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .order_by("next_attempt_at")
        )
        message_ids = list(due.values_list("pk", flat=True)[:limit])
        if message_ids:
            OutboxMessage.objects.filter(pk__in=message_ids).update(dispatched_at=now)
            transaction.on_commit(lambda: outbox_dispatch(message_ids=message_ids))
    return len(message_ids)


@transaction.atomic
def outbox_message_resend(*, message: OutboxMessage, actor) -> OutboxMessage:
    """Send a message again from now, whatever became of it (the admin's resend action)."""
    now = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(
        state=OutboxMessage.State.PENDING,
        next_attempt_at=now,
        dispatched_at=now,
        leased_until=None,
        give_up_at=now + timedelta(seconds=settings.NOTIFICATION_RETRY_WINDOW_SECONDS),
    )
    audit_record(
        action=NotificationEvents.RESENT,
        actor=actor,
        obj=message,
        data=_audit_facts(message, previous_state=message.state),
    )
    transaction.on_commit(lambda: outbox_dispatch(message_ids=[message.pk]))
    message.refresh_from_db()
    return message


def outbox_dispatch(*, message_ids) -> None:
    """Hand messages to the broker, in chunks of OUTBOX_DELIVERY_CHUNK a task; what the broker
    refuses is left for the outbox sweep."""
    from ..tasks import deliver  # the task module imports this one

    message_ids = [str(message_id) for message_id in message_ids]
    chunk = settings.OUTBOX_DELIVERY_CHUNK
    for start in range(0, len(message_ids), chunk):
        try:
            deliver.delay(message_ids[start : start + chunk])
        except Exception:  # the broker is down: the API must keep answering; the sweep re-sends
            logger.warning(
                "outbox: the broker refused %d messages; the outbox sweep will re-send them",
                len(message_ids) - start,
                exc_info=True,
            )
            return


def retry_backoff(attempts: int) -> timedelta:
    """Exponential: base, 2 x base, 4 x base ... capped, after the `attempts`-th failure."""
    seconds = settings.NOTIFICATION_RETRY_BASE_SECONDS * 2 ** min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(seconds, settings.NOTIFICATION_RETRY_MAX_INTERVAL_SECONDS))


def _failed(message: OutboxMessage, error: str, lease_until) -> str:
    """Back off exponentially, or dead-letter past the retry window."""
    mine = OutboxMessage.objects.filter(pk=message.pk, leased_until=lease_until, state=OutboxMessage.State.PENDING)
    retry_at = timezone.now() + retry_backoff(message.attempts)
    if retry_at <= message.give_up_at:
        mine.update(next_attempt_at=retry_at, leased_until=None, dispatched_at=None, last_error=error)
        return "retry"
    if mine.update(state=OutboxMessage.State.DEAD, leased_until=None, last_error=error):
        audit_record(
            action=NotificationEvents.DEAD_LETTERED,
            obj=message,
            data=_audit_facts(message, error=error[:200]),
        )
    return "dead"


def _audit_facts(message: OutboxMessage, **more) -> dict:
    return {
        "event_id": str(message.event_id),
        "event_type": message.event_type,
        "channel": message.channel,
        "attempts": message.attempts,
        **more,
    }


@contextmanager
def _bookkeeping():
    """A delivery's own transaction. On PostgreSQL it does not wait for the WAL flush: a lease or a
    "delivered" lost to a database crash means one more delivery, which receivers de-duplicate by
    event id (at-least-once, as every webhook)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        yield


_session = None


def _http():
    # One keep-alive session per worker process.
    global _session
    if _session is None:
        _session = requests.Session()
    return _session


def _send(message: OutboxMessage) -> tuple[int | None, str]:
    """(HTTP status or None, error text or "")."""
    try:
        if message.channel == Channel.EMAIL:
            EmailMessage(
                subject=message.subject,
                body=message.body,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=message.target.split("\n"),
            ).send()
            return None, ""
        body = message.body.encode()
        headers = {"Content-Type": "application/json", "User-Agent": "hitlplatform-webhooks/1"}
        if message.channel == Channel.WEBHOOK:
            headers["X-HITL-Event-Id"] = str(message.event_id)
            headers["X-HITL-Signature"] = messages.webhook_signature(
                secret=message.proposal.agent.webhook_secret, timestamp=int(time.time()), body=body
            )
        response = _http().post(
            message.target, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS, allow_redirects=False
        )
        if 200 <= response.status_code < 300:
            return response.status_code, ""
        return response.status_code, f"HTTP {response.status_code}: {response.text[:500]}"
    except Exception as error:  # every failure is an attempt to log, never a crashed task
        return None, f"{type(error).__name__}: {error}"
