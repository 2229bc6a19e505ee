"""The benchmarks' databases: throw-away PostgreSQL databases on the server named by the environment,
the environment a benchmark's Django processes run with, and the migration of a fresh database."""

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def postgres_server(*, default: str | None = None) -> str | None:
    """BENCH_PG_SERVER, else a postgres DATABASE_URL, else ``default`` — if it answers."""
    candidates = (os.environ.get("BENCH_PG_SERVER"), os.environ.get("DATABASE_URL"), default)
    url = next((url for url in candidates if url and url.startswith(("postgres://", "postgresql://"))), None)
    if url is None:
        return None
    try:
        import psycopg

        with psycopg.connect(with_database(url, "postgres"), connect_timeout=5):
            return url
    except Exception as error:  # an unreachable server skips the PostgreSQL part, loudly
        print(f"PostgreSQL at {urlsplit(url).hostname} not reachable ({error})")
        return None


def postgres_server_or_skip(
    benchmark: str, *, default: str | None = None, commands: tuple[str, ...] = ()
) -> str | None:
    """postgres_server(), or None after printing why `benchmark` is skipped: a missing command of
    `commands`, or no reachable PostgreSQL."""
    for command in commands:
        if shutil.which(command) is None:
            print(f"{benchmark}: skipped — needs `{command}` (apt-get install {command})")
            return None
    server = postgres_server(default=default)
    if server is None:
        print(f"{benchmark}: skipped — it needs PostgreSQL: set BENCH_PG_SERVER (or DATABASE_URL=postgres://...)")
    return server


@contextlib.contextmanager
def postgres_database(server: str, name: str, *, keep: bool = False):
    """A fresh database ``name`` for the duration of the block; its URL is yielded."""
    import psycopg

    with psycopg.connect(with_database(server, "postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(server, name)
    finally:
        if not keep:
            with psycopg.connect(with_database(server, "postgres"), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.replace("postgresql", "postgres"), parts.netloc, f"/{name}", parts.query, ""))


def reviewers_create(count: int) -> list:
    """`count` reviewers "Rev Iewer <n>", each with a licence number for the signatures of a seed
    (in a phase process: Django is set up). Their primary keys follow one another."""
    from django.contrib.auth import get_user_model

    from apps.accounts.models import ReviewerProfile

    reviewers = [
        get_user_model().objects.create(username=f"reviewer{index}", first_name="Rev", last_name=f"Iewer {index}")
        for index in range(count)
    ]
    ReviewerProfile.objects.bulk_create(
        [ReviewerProfile(user=user, licence_number=f"LIC-{user.pk:05d}") for user in reviewers]
    )
    return reviewers


def bench_environment(database_url: str, **settings: str) -> dict:
    """This process's environment for a benchmark's Django processes on `database_url`: the project
    importable, the keys Django needs unless they are set, and `settings` over all of it."""
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url}
    environment.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdef")
    environment.setdefault("AUDIT_SIGNING_KEY", "42" * 32)
    return environment | settings


def migrate(environment: dict) -> None:
    """The project's migrations, quietly, on the database of `environment`."""
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )
