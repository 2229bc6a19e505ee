"""Starting, watching and stopping the processes a test or a benchmark runs beside itself: the web
server, Celery workers, `make run`. Plain functions on the standard library, so that the benchmarks
(which have no pytest around them) use them too; callers decide whether a failure skips, fails
or raises.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
HTTP_STATUS_TIMEOUT = 2
WEB_SERVER_PORTS = range(21440, 21520)
WEB_SERVER_START_SECONDS = 60


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


class WebServer:
    """The web server as the Procfile starts it (web_server_command) on 127.0.0.1, in a process group
    of its own, with `environment` over this process's; `threads` is each worker process's pool for
    the synchronous views (WEB_THREADS). Its output, access log included, is appended to a file in
    `log_dir`; without one, to a temporary file removed when the server stops.

    `start` returns once /healthz answers and raises with the tail of the server's output when it
    does not; `start` after `stop` or `kill9` starts it again on the same port. A `with` block
    starts and stops it. Without `port` it takes a free one of WEB_SERVER_PORTS when made: start it
    before making the next."""

    def __init__(
        self,
        environment: dict,
        *,
        port: int | None = None,
        workers: int = 2,
        threads: int | None = None,
        graceful_timeout: float = 3,
        log_dir: Path | None = None,
        wsgi: bool = False,
    ):
        self.port = port if port is not None else free_port(WEB_SERVER_PORTS)
        if self.port is None:
            raise RuntimeError(f"no free port in {WEB_SERVER_PORTS.start}-{WEB_SERVER_PORTS.stop - 1}")
        self.command = web_server_command(
            port=self.port, workers=workers, graceful_timeout=graceful_timeout, wsgi_threads=threads if wsgi else None
        )
        self.environment = os.environ | environment
        if threads is not None and not wsgi:
            self.environment["WEB_THREADS"] = str(threads)
        self.log_dir = log_dir
        self.log: Path | None = None
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "WebServer":
        log_dir = self.log_dir or Path(tempfile.mkdtemp(prefix="hitl-web-"))
        self.log = log_dir / f"web-{self.port}.log"
        with open(self.log, "ab") as log:
            started_at = log.tell()
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        healthz = f"{self.url}/healthz"
        if wait_until(lambda: http_status(healthz) == 200, process=self.process, seconds=WEB_SERVER_START_SECONDS):
            return self
        with open(self.log, "rb") as log:
            log.seek(started_at)
            output = log.read().decode(errors="replace")[-4000:]
        self.stop()
        raise RuntimeError(f"the web server on port {self.port} did not start; its output ends:\n{output}")

    def stop(self, *, timeout: float = 30) -> float:
        """SIGTERM, as a deployment stops it (SIGKILL after `timeout`); how many seconds it took to exit."""
        started = time.monotonic()
        if self.process is not None and self.process.poll() is None:
            stop_process_group(self.process, timeout=timeout)
        stopped_in = time.monotonic() - started
        if self.log_dir is None and self.log is not None:
            shutil.rmtree(self.log.parent, ignore_errors=True)
            self.log = None
        return stopped_in

    def kill9(self) -> None:
        """SIGKILL to the whole process group: a crash, no shutdown."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def __enter__(self) -> "WebServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def web_server_command(
    *, port: int, workers: int, graceful_timeout: float = 3, wsgi_threads: int | None = None
) -> list[str]:
    """The Procfile's `web` command line on 127.0.0.1:`port` with `workers` processes: gunicorn with
    uvicorn workers on hitlplatform.asgi. With `wsgi_threads`, the server it replaced instead
    (hitlplatform.wsgi in gunicorn's threaded workers): only a benchmark's baseline runs that."""
    if wsgi_threads is None:
        application = ["hitlplatform.asgi", "--worker-class", "uvicorn_worker.UvicornWorker"]
    else:
        application = ["hitlplatform.wsgi", "--worker-class", "gthread", "--threads", str(wsgi_threads)]
    return [
        sys.executable,
        "-m",
        "gunicorn",
        *application,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--timeout",
        "120",
        "--graceful-timeout",
        f"{graceful_timeout:g}",
        "--access-logfile",
        "-",
    ]
