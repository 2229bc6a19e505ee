"""Celery tasks of the escalations app: one-line wrappers around its services."""

from celery import shared_task

from .services import sla_sweep


@shared_task(name="escalations.sweep_sla", acks_late=True, time_limit=120, soft_time_limit=90)
def sweep_sla() -> dict:
    return sla_sweep().as_dict()
