"""Real Celery workers for the acceptance tests: a `celery worker -B` subprocess against Redis and
RabbitMQ, on the test database (a file on SQLite, `test_<name>` on PostgreSQL), and a webhook
receiver on 127.0.0.1.

CI exports HITL_TEST_REDIS_URL, HITL_TEST_AMQP_URL and HITL_REQUIRE_SERVICES=1: there a missing
broker fails the test; elsewhere it skips with the reason (tests/requirements.py).
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings
from kombu import Connection, pools

from hitlplatform.celery import app as celery_app
from tests.conftest import database_url
from tests.processes import celery_worker_command, stop_process_group, wait_until
from tests.requirements import require_url

BROKERS = {"redis": "HITL_TEST_REDIS_URL", "amqp": "HITL_TEST_AMQP_URL"}
WORKER_READY_SECONDS = 60


@pytest.fixture(params=sorted(BROKERS))
def broker_url(request):
    return require_url(BROKERS[request.param], f"{request.param} broker")


@pytest.fixture
def dead_broker_url(broker_url):
    """The same kind of broker on a port where nothing listens: the broker is "down"."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    parts = urlsplit(broker_url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host).geturl()


@contextlib.contextmanager
def publishing_to(url: str, queue: str):
    """For the block, this process's Celery app publishes to `queue` on `url` (not eager); then it is
    as before. Left pointed there, every later test of the process (an xdist worker runs many) would
    queue its tasks where no worker reads: a webhook delivered "after commit" would never arrive."""
    saved = {
        name: celery_app.conf[name]
        for name in (
            "broker_url",
            "broker_write_url",
            "task_default_queue",
            "task_always_eager",
            "broker_transport_options",
        )
    }
    use_broker(url, queue)
    try:
        yield
    finally:
        use_broker(saved["broker_url"], saved["task_default_queue"])
        celery_app.conf.update(saved)


def use_broker(url: str, queue: str) -> None:
    """Point this (test) process's Celery app at a broker, not eager, dropping pooled connections."""
    celery_app.conf.update(
        broker_url=url,
        broker_write_url=None,
        task_default_queue=queue,
        task_always_eager=False,
        broker_transport_options={},
    )
    # app.pool is kombu's process-wide pool for the broker URL: closing it alone would leave the
    # closed pool registered, and the next test on that URL could not publish ("Acquire on closed pool").
    pools.reset()
    celery_app._pool = None
    if "amqp" in celery_app.__dict__:
        celery_app.amqp._producer_pool = None


class Worker:
    """`celery -A hitlplatform worker -B`, in its own process group so that kill -9 takes all of it."""

    def __init__(self, *, broker: str, queue: str, log_dir: Path, environment: dict):
        self.broker, self.queue, self.log_dir, self.environment = broker, queue, log_dir, environment
        self.process = None
        self.starts = 0

    def start(self, **extra_environment) -> "Worker":
        self.starts += 1
        self.log = self.log_dir / f"worker-{self.starts}.log"
        env = os.environ | self.environment | {name: str(value) for name, value in extra_environment.items()}
        command = [
            *celery_worker_command(
                self.queue, name=f"{self.queue}-{self.starts}@%h", options=("-B", "--loglevel=INFO", "--concurrency=2")
            ),
            "--schedule",
            str(self.log_dir / f"beat-{self.starts}"),
        ]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=django_settings.BASE_DIR,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        if not wait_until(
            lambda: b" ready." in self.log.read_bytes(), process=self.process, seconds=WORKER_READY_SECONDS
        ):
            self.stop()
            pytest.fail(f"the worker did not start:\n{self.log.read_text()[-4000:]}")
        return self

    def kill9(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.process = None
            return
        stop_process_group(self.process, timeout=20)
        self.process = None

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@pytest.fixture
def worker(transactional_db, broker_url, tmp_path):
    """A worker on its own queue (other engineers share the brokers); the test process publishes there too."""
    queue = f"hitl-test-{uuid.uuid4().hex[:12]}"
    environment = {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "SLA_SWEEP_SECONDS": "1",
        "OUTBOX_SWEEP_SECONDS": "1",
        "OUTBOX_DISPATCH_GRACE_SECONDS": "2",
        "AUDIT_CHECKPOINT_SECONDS": "3600",
        "SAMPLING_TOPUP_SECONDS": "3600",
        "DJANGO_SETTINGS_MODULE": "hitlplatform.settings",
    }
    with publishing_to(broker_url, queue):
        running = Worker(broker=broker_url, queue=queue, log_dir=tmp_path, environment=environment)
        yield running
        running.stop()
    _queue_remove(broker_url, queue)


def _queue_remove(broker_url: str, queue: str) -> None:
    """Leave nothing behind on the shared brokers (a stopping worker may put unacked tasks back)."""
    if broker_url.startswith("redis"):
        import redis

        client = redis.Redis.from_url(broker_url)
        # A worker killed with -9 leaves its tasks in kombu's "unacked" hash, which a later worker
        # would put back into this queue.
        for tag, entry in client.hscan_iter("unacked"):
            if queue.encode() in entry:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)
        client.close()
        return
    with Connection(broker_url, connect_timeout=5) as broker:
        channel = broker.channel()
        channel.queue_delete(queue)
        channel.close()


def wait_for(condition, *, timeout: float, what: str, worker: Worker | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}" + (f"\nworker log:\n{worker.output()}" if worker else ""))
