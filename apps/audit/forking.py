"""Run functions at once in forked processes that read the caller's database snapshot.

Verification hashes in Python, so one process uses one core; a long chain is walked in segments,
one process each. fork() makes a worker cheap (no second Django start-up), but the child
inherits the parent's open database connection: it must never use or close it (closing would
end the parent's session on the server), so the child keeps it referenced, drops it from
Django's handler and opens a connection of its own.
"""

import logging
import multiprocessing
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, connections

logger = logging.getLogger(__name__)

_INHERITED = []  # in a child: the parent's connections, referenced so they are never closed from here


def shareable_snapshot(*, owned: bool) -> str | None:
    """What another process needs to read the snapshot the caller reads; None when it cannot.

    `owned`: the snapshot is a read transaction the caller opened for this (not a transaction of
    its caller, whose uncommitted rows no other process can see). PostgreSQL exports it by id; a
    SQLite file gives "" (the rows verification reads never change, so a fresh read transaction
    sees the same). An in-memory SQLite database, or a platform without fork(), cannot share.
    """
    if not owned or "fork" not in multiprocessing.get_all_start_methods():
        return None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            return cursor.fetchone()[0]
    if connection.vendor == "sqlite" and not connection.is_in_memory_db():
        return ""
    return None


@contextmanager
def running(jobs: list[Callable[[], object]], *, in_processes: bool) -> Iterator[Callable[[], list]]:
    """Start `jobs`, each in a forked process (or, without `in_processes`, lazily in this one).

    Yields a function returning their results in order; a job that raised or whose process died
    gives None. Processes still running when the block ends are killed.
    """
    if not in_processes:
        yield lambda: [job() for job in jobs]
        return
    context = multiprocessing.get_context("fork")
    started = []
    try:
        for job in jobs:
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_run_in_child, args=(job, sender), daemon=True)
            process.start()
            sender.close()
            started.append((process, receiver))
        yield lambda: [_result(receiver) for _process, receiver in started]
    finally:
        for process, receiver in started:
            if process.is_alive():
                process.kill()
            process.join()
            receiver.close()


def _run_in_child(job: Callable[[], object], sender) -> None:
    for inherited in connections.all(initialized_only=True):
        _INHERITED.append(inherited)
        del connections[inherited.alias]
    try:
        result = job()
    except Exception:
        logger.exception("a forked job failed")
        result = None
    try:
        sender.send(result)
    finally:
        connections.close_all()  # only the child's own connections are left in the handler


def _result(receiver):
    try:
        return receiver.recv()
    except EOFError:  # the process died before answering
        return None
