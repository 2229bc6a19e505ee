"""A database that refuses connections, for real: this process's connection settings point nowhere."""

import copy
from contextlib import contextmanager

from django.db import connection


@contextmanager
def database_unreachable():
    """Within the block, this process's connections fail as against a server that is down."""
    saved = _database_down()
    try:
        yield
    finally:
        _database_up(saved)


def _database_down() -> dict:
    saved = copy.deepcopy(connection.settings_dict)
    _close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-dir/hitl/db.sqlite3"
    else:
        connection.settings_dict["PORT"] = "1"
        pool = connection.settings_dict.get("OPTIONS", {}).get("pool")
        if isinstance(pool, dict):
            pool["timeout"] = 1.0  # the pool waits this long for a connection that never comes
    return saved


def _database_up(saved: dict) -> None:
    _close()
    connection.settings_dict.clear()
    connection.settings_dict.update(saved)


def _close() -> None:
    connection.close()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()  # a new pool is made from the settings at the next connection
