"""Report generation runs on its own queue ("reports", see CELERY_TASK_ROUTES) with a hard time
limit. Rendering is memory-hungry, so run its workers with a fresh child per task:

    celery -A hitlplatform worker -Q reports --max-tasks-per-child 1 --concurrency 1
"""

from celery import shared_task
from django.conf import settings

from .services import report_generate


@shared_task(
    name="reports.generate",
    acks_late=True,
    time_limit=settings.REPORT_TIME_LIMIT,
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
)
def report_generate_task(report_id: int) -> None:
    report_generate(report_id=report_id)
