"""Celery tasks of the notifications app: one-line wrappers around its services."""

from celery import shared_task

from .services import outbox_messages_deliver, outbox_sweep


# A chunk of OUTBOX_DELIVERY_CHUNK messages, each bounded by WEBHOOK_TIMEOUT_SECONDS.
@shared_task(name="notifications.deliver", acks_late=True, time_limit=300, soft_time_limit=240)
def deliver(message_ids: list[str]) -> dict:
    return outbox_messages_deliver(message_ids=message_ids)


@shared_task(name="notifications.sweep_outbox", acks_late=True, time_limit=120, soft_time_limit=90)
def sweep_outbox() -> int:
    return outbox_sweep()
