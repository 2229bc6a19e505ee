"""Production settings pass Django's deployment checklist; SQLite runs in WAL mode."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_reports_nothing_with_debug_off_and_a_real_secret_key(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "SECURE_SSL_REDIRECT", "SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    env |= {"SECRET_KEY": "x7!" + "k" * 60 + "Q9z#mP2$", "DEBUG": "0", "ALLOWED_HOSTS": "hitl.example.org"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_off_without_a_secret_key_refuses_to_start():
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode_with_immediate_transactions():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite settings; this pass runs on PostgreSQL")
    from django.conf import settings

    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in settings.DATABASES["default"]["OPTIONS"]["init_command"]


def test_postgres_reuses_connections_from_a_bounded_pool():
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("PostgreSQL settings; this pass runs on SQLite")
    pool = database["OPTIONS"].get("pool")
    if pool:  # the default (DB_POOL=1): connections are kept by the pool, at most max_size per process
        assert database["CONN_MAX_AGE"] == 0 and pool["max_size"] >= 1 and pool["timeout"] > 0
    else:  # DB_POOL=0: persistent connections
        assert database["CONN_MAX_AGE"] > 0
