"""Throw-away PostgreSQL databases for the benchmarks, on the server named by the environment."""

import contextlib
import os
from urllib.parse import urlsplit, urlunsplit

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
