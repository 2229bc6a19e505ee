"""Celery beat sweeps of the audit trail (hitlplatform.settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import audit_checkpoint_create, audit_verification_record


@shared_task(name="audit.checkpoint")
def checkpoint() -> None:
    audit_checkpoint_create()


@shared_task(name="audit.verify_full")
def verify_full() -> None:
    audit_verification_record()
