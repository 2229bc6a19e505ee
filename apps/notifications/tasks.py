"""Celery tasks of the notifications app: one-line wrappers around its services."""

from celery import shared_task

from .services import outbox_message_deliver, outbox_sweep


@shared_task(name="notifications.deliver", acks_late=True, time_limit=120, soft_time_limit=90)
def deliver(message_id: str) -> str:
    return outbox_message_deliver(message_id=message_id)


@shared_task(name="notifications.sweep_outbox", acks_late=True, time_limit=120, soft_time_limit=90)
def sweep_outbox() -> int:
    return outbox_sweep()
