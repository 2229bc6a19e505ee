"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app's tasks.py.

Broker: CELERY_BROKER_URL; redis:// and amqp:// in deployments, `filesystem://` for `make run`
(folders under var/, created here so that `celery -A hitlplatform worker -B` works on a fresh checkout).
"""

import os
from pathlib import Path

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")

app = Celery("hitlplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if str(app.conf.broker_url).startswith("filesystem"):
    for option in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        folder = (app.conf.broker_transport_options or {}).get(option)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)


@worker_process_init.connect
def _leave_the_worker_process_group(**_kwargs):
    """A pool process leaves its worker's process group.

    Supervisors that stop a process group (honcho and foreman under `make run`, `kill -- -PGID`)
    would otherwise send SIGTERM to every pool process too: each dies mid-task and the worker logs
    an ERROR per process instead of finishing its tasks in a warm shutdown. The worker still ends
    its pool itself, and the kernel kills a pool process whose worker dies (celery sets
    PR_SET_PDEATHSIG), so nothing outlives the worker.
    """
    os.setpgid(0, 0)
