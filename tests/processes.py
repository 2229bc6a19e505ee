"""Starting, watching and stopping the processes a test or a benchmark runs beside itself: servers,
Celery workers, `make run`. Plain functions on the standard library, so that the benchmarks
(which have no pytest around them) use them too; callers decide whether a failure skips, fails
or raises.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

HTTP_STATUS_TIMEOUT = 2


def free_port(ports: range) -> int | None:
    """The first port of `ports` nothing listens on at 127.0.0.1, or None.

    Under pytest-xdist each worker probes its own share of `ports`: two workers probing the same
    free port at once would both take it, and one's requests would reach the other's server."""
    for port in _share_of_this_worker(ports):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    return None


def _share_of_this_worker(ports: range) -> range:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    share = len(ports) // max(workers, 1)
    return ports[worker * share : (worker + 1) * share] if share else ports


def reachable(url: str) -> bool:
    """Whether something accepts a connection at the host and port of `url` (a broker's, say)."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2):
            return True
    except OSError:
        return False


def http_status(url: str, *, timeout: float = HTTP_STATUS_TIMEOUT) -> int | None:
    """The status a GET of `url` answers, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def wait_until(condition, *, seconds: float, process: subprocess.Popen | None = None, interval: float = 0.2) -> bool:
    """Poll `condition` until it holds (True); False once `process` has exited or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while not condition():
        if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def celery_worker_command(queue: str, *, name: str, options: tuple[str, ...] = ()) -> list[str]:
    """`celery worker` for the project on a queue of its own, named `name` (`%h` is the host), without
    the cluster chatter (gossip, mingle, heartbeat) that other workers on a shared broker would answer."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "hitlplatform",
        "worker",
        *options,
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-Q",
        queue,
        "-n",
        name,
    ]


def stop_process_group(process: subprocess.Popen, *, timeout: float) -> None:
    """SIGTERM to the process group `process` leads (started with start_new_session=True), SIGKILL
    if it has not exited within `timeout` seconds."""
    with contextlib.suppress(ProcessLookupError):  # the whole group has exited already
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
