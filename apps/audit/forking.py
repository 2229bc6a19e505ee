"""Run functions at once in forked processes that read the caller's database snapshot.

Verification hashes in Python, so one process uses one core; a long chain is walked in segments,
one process each. fork() makes a worker cheap (no second Django start-up), but the child
inherits the parent's open database connection: it must never use or close it (closing would
end the parent's session on the server), so the child keeps it referenced, drops it from
Django's handler and opens a connection of its own.
"""

import gc
import logging
import os
import pickle
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

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
    if not owned or not hasattr(os, "fork"):
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
    gives None. Processes still running when the block ends are killed. Plain os.fork() rather
    than multiprocessing: a Celery pool process is "daemonic", and multiprocessing refuses to
    start children there.
    """
    if not in_processes:
        yield lambda: [job() for job in jobs]
        return
    children: dict[int, int] = {}  # pid -> read end of its pipe, until reaped
    # Frozen objects are left alone by the garbage collectors of parent and children, which would
    # otherwise write to (and so copy) every shared page of the heap while the jobs run.
    gc.freeze()
    try:
        for job in jobs:
            pid, receiver = _fork(job)
            children[pid] = receiver
        yield lambda: [_result(pid, children.pop(pid)) for pid in list(children)]
    finally:
        gc.unfreeze()
        for pid, receiver in children.items():  # not reaped: the block ended early
            os.close(receiver)
            with suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)


def _fork(job: Callable[[], object]) -> tuple[int, int]:
    """(pid, the read end of the pipe the child writes its pickled result to)."""
    receiver, sender = os.pipe()
    pid = os.fork()
    if pid:
        os.close(sender)
        return pid, receiver
    try:  # the child: whatever happens, it leaves by os._exit, running none of the parent's clean-up
        os.close(receiver)
        for inherited in connections.all(initialized_only=True):
            _INHERITED.append(inherited)
            del connections[inherited.alias]
        try:
            result = job()
        except Exception:
            logger.exception("a forked job failed")
            result = None
        with os.fdopen(sender, "wb") as pipe:
            pickle.dump(result, pipe)
        connections.close_all()  # only the child's own connections are left in the handler
    finally:
        os._exit(0)


def _result(pid: int, receiver: int):
    with os.fdopen(receiver, "rb") as pipe:
        data = pipe.read()
    with suppress(ChildProcessError):  # a SIGCHLD handler of the host process may have reaped it
        os.waitpid(pid, 0)
    try:
        return pickle.loads(data)  # noqa: S301 - our own child's output, through a pipe
    except Exception:  # the process died before answering (nothing or half of it written)
        return None
