"""Concurrent writers never fork the chain: PostgreSQL (row lock) and a SQLite file (BEGIN IMMEDIATE)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from apps.audit.models import AuditEvent
from apps.audit.verification import audit_verify

ROOT = Path(settings.BASE_DIR)
APPENDER = Path(__file__).with_name("concurrent_appender.py")


def run_appenders(database_url: str, workers: int, count: int) -> None:
    environment = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    processes = [
        subprocess.Popen(
            [sys.executable, str(APPENDER), str(worker), str(count)],
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for worker in range(workers)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr.decode()[-3000:]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: set DATABASE_URL=postgres://... (CI runs the suite once on each database)",
)
def test_eight_postgresql_writers_of_500_events_leave_one_gapless_linear_chain():
    # given
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD'] or ''}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    # when
    run_appenders(url, workers=8, count=500)
    # then
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 4001))
    assert AuditEvent.objects.values("prev_hash").distinct().count() == 4000
    verification = audit_verify()
    assert verification.ok, verification.reason
    assert verification.events_checked == 4000
    per_worker = {worker: AuditEvent.objects.filter(object_id=str(worker)).count() for worker in range(8)}
    assert set(per_worker.values()) == {500}


@pytest.mark.slow
def test_four_sqlite_writers_of_200_events_leave_one_gapless_linear_chain(tmp_path):
    # given: a SQLite file of its own, migrated
    url = f"sqlite:///{tmp_path / 'chain.sqlite3'}"
    environment = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=environment, check=True, capture_output=True)
    # when
    run_appenders(url, workers=4, count=200)
    # then
    verified = subprocess.run([*manage, "verify_audit", "--json"], env=environment, capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    summary = json.loads(verified.stdout)
    assert summary["ok"] is True
    assert summary["events_checked"] == summary["head_seq"] >= 800
    counted = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from apps.audit.models import AuditEvent as E; s=list(E.objects.order_by('seq').values_list('seq', flat=True));"
            "print(s == list(range(1, len(s) + 1)), E.objects.filter(action='test.appended').count(),"
            " E.objects.values('prev_hash').distinct().count() == len(s))",
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert counted.stdout.splitlines()[-1].split() == ["True", "800", "True"]
