"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app's tasks.py.

Broker: CELERY_BROKER_URL; redis:// and amqp:// in deployments, `filesystem://` for `make run`
(folders under var/, created here so that `celery -A hitlplatform worker -B` works on a fresh checkout).
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")

app = Celery("hitlplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

if str(app.conf.broker_url).startswith("filesystem"):
    for option in ("data_folder_in", "data_folder_out", "processed_folder"):
        folder = (app.conf.broker_transport_options or {}).get(option)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
