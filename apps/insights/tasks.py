"""The nightly beat task (hitlplatform.settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import insights_nightly_compute


@shared_task(name="insights.compute_recommendations")
def compute_recommendations() -> None:
    insights_nightly_compute()
