"""Run by test_concurrent_appends as a separate process: append COUNT events as WORKER.

python tests/audit/concurrent_appender.py WORKER COUNT   (DATABASE_URL picks the database)
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")

import django

django.setup()

from apps.audit.services import audit_record  # noqa: E402


def main(worker: int, count: int) -> None:
    for number in range(count):
        audit_record(action="test.appended", object_type="worker", object_id=str(worker), data={"n": number})


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
