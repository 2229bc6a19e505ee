"""Celery tasks of the sampling app: one-line wrappers around its services."""

from celery import shared_task

from .services import sampling_ensure_daily_minimum


@shared_task(name="sampling.ensure_daily_minimum", acks_late=True, time_limit=300, soft_time_limit=240)
def ensure_daily_minimum() -> int:
    return sampling_ensure_daily_minimum()
