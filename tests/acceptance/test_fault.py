"""Fault test with real processes on PostgreSQL (issue 12, acceptance).

Two gunicorn processes and two Celery workers on Redis serve a steady mix of submissions,
decisions and waits from client threads that retry with their Idempotency-Key. Mid-run one web
process and one worker are killed with -9, then the database has an outage: it refuses new
connections and every open one is cut (what a restart does to clients; the shared PostgreSQL
server itself is not restarted, other suites use it). Afterwards nothing acknowledged is lost,
nothing is created twice, every decision's webhook is delivered, `verify_audit` passes, and
/readyz reported the outage while it lasted.

Needs PostgreSQL (DATABASE_URL) and Redis (HITL_TEST_REDIS_URL); skipped without them.
"""

import contextlib
import os
import random
import subprocess
import sys
import threading
import time
import uuid

import psycopg
import pytest
import requests
from django.conf import global_settings
from django.conf import settings as django_settings
from django.db import connection
from django.test import override_settings

from apps.accounts.services import token_create
from apps.agents.services import agent_create
from apps.policies.services import policy_load_yaml
from apps.proposals.models import IdempotencyRecord, Proposal, Status
from tests.celery.conftest import Worker, _queue_remove, database_url, publishing_to
from tests.factories import PASSWORD, UserFactory
from tests.notifications.receiver import Receiver
from tests.processes import WebServer
from tests.requirements import require_url

pytestmark = [pytest.mark.slow, pytest.mark.worker]

SERVERS = 2
CLIENTS = 4
POLICY = """
rules:
  - name: record-changes
    action_type: "crm.*"
    mode: pre_approval
    queue: support
    sla: 4h
"""


class Clients:
    """Client threads: submit (retrying with the same Idempotency-Key), decide (retrying), wait."""

    def __init__(self, servers, agent_key: str, reviewer_token: str):
        self.servers, self.agent_key, self.reviewer_token = servers, agent_key, reviewer_token
        self.stop = threading.Event()
        self.acknowledged: dict[str, int] = {}  # Idempotency-Key -> proposal id
        self.decided: set[int] = set()
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(index,), daemon=True) for index in range(CLIENTS)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=180)

    def _run(self, index: int) -> None:
        try:
            self._loop(index)
        except Exception as error:  # reported by the test, not lost in a thread
            with self.lock:
                self.errors.append(f"client {index}: {error}")

    def _loop(self, index: int) -> None:
        session = requests.Session()
        number = 0
        while not self.stop.is_set():
            number += 1
            key = f"client-{index}-{number}-{uuid.uuid4().hex[:6]}"
            body = {"action_type": "crm.update", "payload": {"customer": key}, "summary": key, "confidence": 0.7}
            submitted = self._retry(session, "POST", "/proposals/", self.agent_key, json=body,
                                    headers={"Idempotency-Key": key}, done=(201, 200))  # fmt: skip
            if submitted is None:
                continue
            proposal_id = submitted.json()["id"]
            with self.lock:
                self.acknowledged[key] = proposal_id
            decision = {"verdict": "approve", "rationale": "fault test", "password": PASSWORD}
            # a retried decision whose first attempt was recorded answers 409 (already final)
            decided = self._retry(session, "POST", f"/proposals/{proposal_id}/decisions/", self.reviewer_token,
                                  json=decision, done=(201, 409))  # fmt: skip
            if decided is not None:
                with self.lock:
                    self.decided.add(proposal_id)
            self._retry(session, "GET", f"/proposals/{proposal_id}/wait/?timeout=1", self.agent_key, done=(200,))

    def _retry(self, session, method, path, token, *, done, headers=None, **kwargs):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            server = random.choice(self.servers)
            try:
                response = session.request(
                    method, f"{server.url}/api/v1{path}", timeout=30,
                    headers={"Authorization": f"Bearer {token}", **(headers or {})}, **kwargs,
                )  # fmt: skip
            except requests.RequestException:
                time.sleep(0.3)
                continue
            if response.status_code in done:
                return response
            if response.status_code == 429 and int(response.headers.get("Retry-After", "0")) <= 5:
                # one reviewer signs on every client thread: past the signatures in flight, "in a moment"
                time.sleep(int(response.headers["Retry-After"]))
                continue
            if response.status_code < 500:
                raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:300]}")
            time.sleep(0.3)  # 503 while the database is away: retry
        return None


def test_kill_9_and_a_database_outage_lose_nothing_and_create_nothing_twice(transactional_db, tmp_path, request):
    if connection.vendor != "postgresql":
        pytest.skip("the fault test runs in the PostgreSQL pass (DATABASE_URL=postgres://...)")
    broker = require_url("HITL_TEST_REDIS_URL", "redis broker for the fault test")
    queue = f"hitl-fault-{uuid.uuid4().hex[:10]}"
    celery_config = contextlib.ExitStack()  # restored whatever happens: later tests here rely on eager tasks
    request.addfinalizer(celery_config.close)
    celery_config.enter_context(publishing_to(broker, queue))
    receiver = Receiver()
    receiver.thread.start()
    policy_load_yaml(text=POLICY, comment="fault test", allow_unstaffed=True)
    _agent, agent_key = agent_create(name="fault-bot", callback_url=receiver.url)
    reviewer = UserFactory(username="fault_reviewer", role="reviewer", queues=["support"])
    with override_settings(PASSWORD_HASHERS=global_settings.PASSWORD_HASHERS):  # the servers' hashers
        reviewer.set_password(PASSWORD)
        reviewer.save(update_fields=["password"])
    reviewer_token = token_create(user=reviewer)[1]
    environment = {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        "STATIC_MANIFEST": "0",
        "DB_POOL_TIMEOUT": "2",
        "OUTBOX_SWEEP_SECONDS": "1",
        "OUTBOX_DISPATCH_GRACE_SECONDS": "2",
        "OUTBOX_LEASE_SECONDS": "5",
        "NOTIFICATION_RETRY_BASE_SECONDS": "1",
        "SLA_SWEEP_SECONDS": "3600",
        "AUDIT_CHECKPOINT_SECONDS": "3600",
        "SAMPLING_TOPUP_SECONDS": "3600",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "hitlplatform.settings",
    }
    servers = [WebServer(environment, workers=1, threads=4, log_dir=tmp_path).start() for _ in range(SERVERS)]
    workers = [Worker(broker=broker, queue=queue, log_dir=tmp_path, environment=environment) for _ in range(2)]
    for worker in workers:
        worker.start()
    clients = Clients(servers, agent_key, reviewer_token)
    readiness_during_outage = []
    try:
        clients.start()
        time.sleep(6)
        servers[0].kill9()
        workers[0].kill9()
        time.sleep(2)
        with _database_outage(connection.settings_dict["NAME"]):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and 503 not in readiness_during_outage:
                with contextlib.suppress(requests.RequestException):
                    readiness_during_outage.append(requests.get(f"{servers[1].url}/readyz", timeout=5).status_code)
                time.sleep(0.3)
            time.sleep(2)
        servers[0].start()
        time.sleep(6)
        clients.finish()
        _reconnect()
        # then: nothing acknowledged is lost, nothing is created twice
        assert clients.errors == []
        keys = clients.acknowledged
        assert len(keys) >= CLIENTS
        stored = dict(IdempotencyRecord.objects.values_list("key", "proposal_id"))
        assert {key: stored.get(key) for key in keys} == keys
        assert Proposal.objects.count() == len(stored)
        assert Proposal.objects.filter(summary__startswith="client-").values("summary").distinct().count() == len(
            stored
        )
        # every decision's webhook arrives (the dead worker's are re-sent by the outbox sweep)
        approved = set(Proposal.objects.filter(status=Status.APPROVED).values_list("pk", flat=True))
        assert clients.decided <= approved

        def delivered() -> set[int]:
            import json

            return {json.loads(request["body"])["proposal"]["id"] for request in receiver.accepted()}

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not approved <= delivered():
            time.sleep(1)
        assert approved <= delivered(), f"webhooks missing for {sorted(approved - delivered())}"
        verify = subprocess.run(
            [sys.executable, "manage.py", "verify_audit"],
            cwd=django_settings.BASE_DIR, env=os.environ | environment, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert 503 in readiness_during_outage
    finally:
        clients.stop.set()
        for server in servers:
            server.stop()
        for worker in workers:
            worker.stop()
        receiver.server.shutdown()
        receiver.server.server_close()
        _reconnect()
        _queue_remove(broker, queue)


class _database_outage:
    """The test database refuses new connections and every open one is cut, for the block."""

    def __init__(self, name: str):
        self.name = name
        self.admin_url = database_url().rsplit("/", 1)[0] + "/postgres"

    def __enter__(self):
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [self.name],
            )
        return self

    def __exit__(self, *exc):
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')
        return False


def _reconnect() -> None:
    """This process's connections were cut with the others."""
    connection.close()
    if getattr(connection, "pool", None) is not None:
        connection.close_pool()
