"""The environment and the database of the HTTP benchmarks' servers (tests.processes.WebServer, the
Procfile's server) and the management commands that prepare that database."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.databases import DEFAULT_SERVER, postgres_database, postgres_server_or_skip

ROOT = Path(__file__).resolve().parents[1]


def server_environment(database_url: str, *, settings: str = "hitlplatform.settings", **extra: str) -> dict:
    """This process's environment with a server's production settings (no debug, no TLS redirect,
    no static manifest) on `database_url`, and `extra` over it."""
    return (
        os.environ
        | {
            "DJANGO_SETTINGS_MODULE": settings,
            "DATABASE_URL": database_url,
            "DEBUG": "0",
            "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "STATIC_MANIFEST": "0",
            "LOG_LEVEL": "WARNING",
            # One bench reviewer signs on several connections at once; each signature in flight holds a
            # place in the signature-failure count (apps/accounts/signatures.py), so the limit is lifted.
            "SIGNATURE_FAILURE_LIMIT": "1000000",
            "AUDIT_DEV_KEY_FILE": str(Path(tempfile.gettempdir()) / "hitl-bench-audit-key"),
            "PYTHONPATH": str(ROOT),
        }
        | extra
    )


def manage(env: dict, *args: str) -> str:
    """The output of `manage.py args` run with `env`."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout


def on_demo_database(benchmark: str, database: str, measure, *, settings: str, **extra: str) -> None:
    """`measure(env, url, key)` on a fresh PostgreSQL database `database`, migrated, under the demo
    policy (its queues may stay unstaffed: intake needs no reviewer), with an agent's `key`; `env` is
    server_environment(url, settings=settings, **extra). Skipped, saying why, without `wrk` or PostgreSQL."""
    server = postgres_server_or_skip(benchmark, default=DEFAULT_SERVER, commands=("wrk",))
    if server is None:
        return
    with postgres_database(server, database) as url:
        env = server_environment(url, settings=settings, **extra)
        manage(env, "migrate", "--run-syncdb", "--noinput")
        manage(env, "load_policies", "demo/policy.yaml", "--allow-unstaffed")
        key = json.loads(manage(env, "create_agent", "bench-bot", "--json"))["key"]
        measure(env, url, key)
