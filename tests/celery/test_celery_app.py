"""The Celery app's configuration: the beat schedule names real tasks, run late-acked with time limits."""

import pytest
from django.conf import settings

from hitlplatform.celery import app as celery_app

MY_BEAT_TASKS = ["escalations.sweep_sla", "notifications.sweep_outbox", "sampling.ensure_daily_minimum"]


@pytest.fixture(scope="module")
def registered():
    celery_app.loader.import_default_modules()  # what a worker does at start
    return celery_app.tasks


@pytest.mark.parametrize("name", [*MY_BEAT_TASKS, "notifications.deliver"])
def test_each_task_is_registered_late_acked_and_time_limited(registered, name):
    task = registered[name]
    assert task.acks_late is True
    assert task.time_limit and task.soft_time_limit and task.soft_time_limit < task.time_limit


def test_the_beat_schedule_names_only_registered_tasks(registered):
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert set(MY_BEAT_TASKS) <= scheduled
    assert {name for name in scheduled if name.split(".")[0] in {"escalations", "notifications", "sampling"}} <= set(
        registered
    )


def test_a_dead_broker_fails_fast_and_the_worker_rejects_lost_tasks():
    assert settings.CELERY_TASK_PUBLISH_RETRY_POLICY["max_retries"] <= 3
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
