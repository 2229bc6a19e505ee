"""The production server (gunicorn with uvicorn workers, as in the Procfile) on the test database,
in its own process group; and a small HTTP client for waiting requests and event streams.

The test database is a file on SQLite and `test_<name>` on PostgreSQL, so the server sees what the
test writes (transactional tests commit).
"""

import asyncio
import http.client
import json
import threading
import time

import pytest

from tests import factories
from tests.conftest import database_url
from tests.processes import WebServer


@pytest.fixture
def start_server(transactional_db, tmp_path, settings):
    """Start the server with `workers` processes and these settings (environment variables) over the
    defaults below."""
    started = []

    def start(*, workers: int = 2, **overrides) -> WebServer:
        environment = {
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "hitlplatform.settings",
            "DEBUG": "0",
            "SECRET_KEY": "test-only-secret-key-0123456789abcdef0123456789abcdef",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "STATIC_MANIFEST": "0",
            "CELERY_TASK_ALWAYS_EAGER": "1",
            "LOG_LEVEL": "WARNING",
            "EVENTS_KEEPALIVE_SECONDS": "1",
            "PROPOSAL_WAIT_POLL_SECONDS": "0.1",
            "WAIT_MAX_PER_AGENT": "1000",
            "AUDIT_DEV_KEY_FILE": settings.AUDIT_DEV_KEY_FILE,
        } | {name: str(value) for name, value in overrides.items()}
        # A graceful timeout longer than the Procfile's: a test of a clean stop tells it from a timed-out one.
        running = WebServer(environment, workers=workers, graceful_timeout=10, log_dir=tmp_path).start()
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def server(start_server):
    return start_server()


def request(server, method: str, path: str, *, key: str | None = None, body=None, headers=None, timeout=90):
    """(status, headers, parsed JSON or text) of one request on a fresh connection."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        sent = dict(headers or {})
        if key:
            sent["Authorization"] = f"Bearer {key}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=sent)
        response = conn.getresponse()
        raw = response.read()
        content_type = response.getheader("Content-Type", "")
        parsed = json.loads(raw) if "json" in content_type and raw else raw.decode()
        return response.status, response.headers, parsed
    finally:
        conn.close()


class EventStream:
    """An SSE client: events as (id, type, data) and comments, read line by line."""

    def __init__(self, server, key: str, *, last_event_id: str | None = None, timeout: float = 30):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
        headers = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", "/api/v1/events/stream/", headers=headers)
        self.response = self.conn.getresponse()
        self.comments = []
        self.ended = False

    def next_event(self) -> tuple[str, str, dict] | None:
        """The next event; None when the stream ended."""
        fields = {}
        while True:
            line = self.response.readline()
            if not line:
                self.ended = True
                return None
            line = line.decode().rstrip("\n")
            if not line:
                if "data" in fields:
                    return fields.get("id"), fields.get("event"), json.loads(fields["data"])
                continue
            if line.startswith(":"):
                self.comments.append(line)
                continue
            name, _sep, value = line.partition(": ")
            fields[name] = value

    def close(self):
        self.conn.close()


@pytest.fixture
def key(agent_and_key):
    return agent_and_key[1]


@pytest.fixture
def decide(submit, reviewer, password):
    """`decide(verdict="approve", **overrides)`: a crm.update submitted with these overrides (`as_agent`
    for another agent's) and decided by the reviewer: one `proposal.decided` event of its agent."""

    def make(verdict="approve", **overrides):
        proposal = submit(action_type="crm.update", **overrides)
        factories.decide(proposal, reviewer, verdict, password=password, rationale="ok")
        return proposal

    return make


class Waiters:
    """`count` requests of `path` on as many connections, sent from one asyncio loop in a thread
    (hundreds of client threads would load this machine more than the server does)."""

    def __init__(self, server, path: str, *, key: str, count: int):
        self.server, self.path, self.key, self.count = server, path, key, count
        self.sent = 0
        self.answers: list[tuple[int, dict]] = []
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.thread.start()

    def wait_sent(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.sent < self.count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.sent == self.count, f"{self.sent} of {self.count} requests sent"

    def result(self, timeout: float = 90) -> list[tuple[int, dict]]:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{len(self.answers)} of {self.count} answered"
        return self.answers

    async def _run(self):
        await asyncio.gather(*(self._one() for _ in range(self.count)))

    async def _one(self):
        reader, writer = await asyncio.open_connection("127.0.0.1", self.server.port)
        writer.write(
            f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.key}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        await writer.drain()
        self.sent += 1
        raw = await reader.read()
        writer.close()
        head, _sep, body = raw.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        if b"chunked" in head.lower():
            body = _unchunk(body)
        self.answers.append((status, json.loads(body)))


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size, _sep, body = body.partition(b"\r\n")
        length = int(size, 16)
        if not length:
            break
        out, body = out + body[:length], body[length + 2 :]
    return out
