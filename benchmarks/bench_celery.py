"""Celery-side benchmarks, each against a baseline measured in the same run.

- SLA sweep: N overdue pending proposals (BENCH_CELERY_PROPOSALS, default 100,000) escalated by
  `sla_sweep` on PostgreSQL: escalations/s including the audit event and the outbox row
  (webhook `proposal.escalated`) of each, in batches (BENCH_CELERY_BATCH, default 500) locked
  with SKIP LOCKED; a batch is one compare-and-set UPDATE, one append of its audit events to the
  chain and one insert of its outbox rows.
  Baselines: the same rows, locked the same way, moved by per-row conditional UPDATEs in
  committed batches of the same size (no audit, no outbox), and by one plain bulk UPDATE.
  Each of the three starts from the same table, vacuumed and analyzed as autovacuum leaves it.
  Goal: >= 1,000 escalations/s.
- Webhook delivery: M outbox messages (BENCH_CELERY_WEBHOOKS, default 5,000) delivered by a real
  `celery worker --concurrency 2` over Redis (BENCH_CELERY_BROKER_URL, default
  redis://127.0.0.1:6379/14) to a receiver on 127.0.0.1: deliveries/s, each signed, leased,
  logged as a DeliveryAttempt. Baseline: 2 processes POSTing the same bodies straight to the
  receiver. Goal: >= 500 deliveries/s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python benchmarks/bench_celery.py

PostgreSQL: the server of DATABASE_URL (or BENCH_PG_SERVER); the benchmark creates and drops a
database of its own there. Every measurement runs in a process of its own.
"""

import contextlib
import json
import os
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from benchmarks.databases import bench_environment, migrate, postgres_database, postgres_server_or_skip
from benchmarks.phases import is_phase_process, run_phase, serve_phase
from tests.processes import celery_worker_command, reachable, stop_process_group

ROOT = Path(__file__).resolve().parents[1]
PROPOSALS = int(os.environ.get("BENCH_CELERY_PROPOSALS", "100000"))
WEBHOOKS = int(os.environ.get("BENCH_CELERY_WEBHOOKS", "5000"))
BATCH = int(os.environ.get("BENCH_CELERY_BATCH", "500"))
BROKER_URL = os.environ.get("BENCH_CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
POLICY = """
rules:
  - name: refunds
    action_type: "payments.*"
    mode: pre_approval
    queue: finance
    sla: 30m
    escalation: [finance-senior, compliance]
"""


def main() -> None:
    server = postgres_server_or_skip("celery")
    if server is None:
        return
    with postgres_database(server, f"bench_celery_{os.getpid()}") as url:
        environment = bench_environment(
            url, CELERY_TASK_ALWAYS_EAGER="0", CELERY_BROKER_URL="memory://", LOG_LEVEL="WARNING"
        )
        migrate(environment)
        _bench_sweep(environment)
        _bench_webhooks(environment)


def _bench_sweep(environment: dict) -> None:
    _phase(environment, "seed", str(PROPOSALS))
    row = _phase(environment, "baseline-rows")
    _phase(environment, "reset")
    bulk = _phase(environment, "baseline-bulk")
    _phase(environment, "reset")
    sweep = _phase(environment, "sweep")
    rate = sweep["escalated"] / sweep["seconds"]
    print(
        f"  SLA sweep of {PROPOSALS} overdue proposals on PostgreSQL (batches of {BATCH}): "
        f"{rate:7.0f} escalations/s incl. {sweep['audit_events']} audit events and {sweep['outbox']} outbox rows "
        f"({sweep['seconds']:.1f} s, each escalated once: {sweep['each_once']})   (goal >= 1000/s)\n"
        f"    baseline per-row conditional UPDATE, committed per batch: {row['rate']:8.0f} rows/s   ratio "
        f"{rate / row['rate']:5.3f}\n"
        f"    baseline one bulk UPDATE:                                  {bulk['rate']:8.0f} rows/s   ratio "
        f"{rate / bulk['rate']:5.3f}",
        flush=True,
    )


def _bench_webhooks(environment: dict) -> None:
    with _receiver() as receiver:
        queue = f"bench-{uuid.uuid4().hex[:10]}"
        worker_environment = {**environment, "CELERY_BROKER_URL": BROKER_URL, "CELERY_TASK_DEFAULT_QUEUE": queue}
        if not reachable(BROKER_URL):
            print(f"  webhooks: skipped — no broker at {BROKER_URL} (BENCH_CELERY_BROKER_URL)")
            return
        _phase(worker_environment, "seed-webhooks", receiver.url, str(WEBHOOKS))
        worker = subprocess.Popen(
            celery_worker_command(queue, name=f"{queue}@%h", options=("--concurrency=2", "--loglevel=WARNING")),
            cwd=ROOT,
            env=worker_environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        try:
            _phase(worker_environment, "wait-worker", queue)
            delivered = _phase(worker_environment, "dispatch-and-wait", str(WEBHOOKS))
        finally:
            stop_process_group(worker, timeout=30)
            _purge(BROKER_URL, queue)
        received = receiver.count
        receiver.count = 0
        baseline = _phase(environment, "baseline-posts", receiver.url, str(WEBHOOKS))
        rate = delivered["delivered"] / delivered["seconds"]
        print(
            f"  webhooks: {delivered['delivered']} deliveries by a worker of 2 processes over {urlsplit(BROKER_URL).scheme}"
            f": {rate:6.0f} deliveries/s (signed, leased, attempt logged; receiver saw {received})   (goal >= 500/s)\n"
            f"    baseline 2 processes POSTing the same bodies directly: {baseline['rate']:6.0f} requests/s   ratio "
            f"{rate / baseline['rate']:5.2f}",
            flush=True,
        )


# --- phases, each in a process of its own ------------------------------------------------------


def _phase_seed(count: str) -> dict:
    from apps.accounts.models import Queue
    from apps.agents.services import agent_create
    from apps.policies.services import policy_load_yaml
    from apps.proposals.models import Proposal
    from tests.factories import overdue_refunds

    version = policy_load_yaml(text=POLICY, comment="bench", allow_unstaffed=True)  # its reviewers come next
    agent, _key = agent_create(name="bench-bot", callback_url="http://127.0.0.1:9/hitl-webhook")
    finance = Queue.objects.get(slug="finance")
    total = int(count)
    for start in range(0, total, 10_000):
        numbers = range(start, min(start + 10_000, total))
        Proposal.objects.bulk_create(
            overdue_refunds(numbers, agent=agent, version=version, queue=finance, reminded=True)
        )
    _vacuum_analyze(Proposal)
    return {"proposals": total}


def _phase_reset() -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import Queue
    from apps.proposals.models import Proposal

    overdue = timezone.now() - timedelta(minutes=1)
    Proposal.objects.update(
        escalation_level=0, queue=Queue.objects.get(slug="finance"), sla_due_at=overdue, status="pending"
    )
    _vacuum_analyze(Proposal)
    return {}


def _vacuum_analyze(model) -> None:
    """What autovacuum does after a bulk load or update: statistics, no dead rows. Every measured
    phase starts from the same table; without statistics the planner scans all pending rows to
    update a batch of 500 by id."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def _phase_baseline_rows() -> dict:
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from apps.accounts.models import Queue
    from apps.proposals.models import Proposal

    senior = Queue.objects.get(slug="finance-senior")
    started = time.perf_counter()
    moved = 0
    while True:
        now = timezone.now()
        with transaction.atomic():
            # locked as the sweep locks its batches (apps/escalations/services.py, _locked_batch)
            batch = list(
                Proposal.objects.select_for_update(skip_locked=True)
                .filter(status="pending", sla_due_at__lte=now)
                .order_by("sla_due_at")
                .values_list("pk", "escalation_level")[:BATCH]
            )
            for pk, level in batch:
                moved += Proposal.objects.filter(pk=pk, status="pending", escalation_level=level).update(
                    queue=senior, escalation_level=level + 1, sla_due_at=now + timedelta(minutes=30)
                )
        if len(batch) < BATCH:
            break
    return {"rate": moved / (time.perf_counter() - started)}


def _phase_baseline_bulk() -> dict:
    from datetime import timedelta

    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone

    from apps.accounts.models import Queue
    from apps.proposals.models import Proposal

    senior = Queue.objects.get(slug="finance-senior")
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        moved = Proposal.objects.filter(status="pending", sla_due_at__lte=now).update(
            queue=senior, escalation_level=F("escalation_level") + 1, sla_due_at=now + timedelta(minutes=30)
        )
    return {"rate": moved / (time.perf_counter() - started)}


def _phase_sweep() -> dict:
    from django.db.models import Count

    from apps.audit.models import AuditEvent
    from apps.escalations.services import sla_sweep
    from apps.notifications.models import OutboxMessage
    from apps.proposals.models import Proposal

    events_before = AuditEvent.objects.count()
    started = time.perf_counter()
    result = sla_sweep(batch_size=BATCH, max_seconds=float("inf"))
    seconds = time.perf_counter() - started
    levels = set(Proposal.objects.values_list("escalation_level", flat=True))
    per_proposal = set(
        AuditEvent.objects.filter(action="proposal.escalated")
        .values("object_id")
        .annotate(n=Count("seq"))
        .values_list("n", flat=True)
    )
    return {
        "escalated": result.escalated,
        "seconds": seconds,
        "audit_events": AuditEvent.objects.count() - events_before,
        "outbox": OutboxMessage.objects.filter(event_type="proposal.escalated").count(),
        "each_once": levels == {1} and per_proposal == {1},
    }


def _phase_seed_webhooks(url: str, count: str) -> dict:
    from datetime import timedelta

    from django.utils import timezone

    from apps.notifications.messages import webhook_body
    from apps.notifications.models import Channel, OutboxMessage
    from apps.proposals.models import Proposal

    OutboxMessage.objects.all().delete()
    proposals = list(Proposal.objects.select_related("agent").order_by("pk")[:100])
    now = timezone.now()
    bodies = {}
    messages = []
    for n in range(int(count)):
        proposal = proposals[n % len(proposals)]
        event_id = uuid.uuid4()
        if proposal.pk not in bodies:
            bodies[proposal.pk] = webhook_body(event_id=event_id, event_type="proposal.escalated", proposal=proposal)
        body = bodies[proposal.pk].replace(json.loads(bodies[proposal.pk])["id"], str(event_id))
        messages.append(
            OutboxMessage(
                event_id=event_id,
                event_type="proposal.escalated",
                channel=Channel.WEBHOOK,
                proposal=proposal,
                target=url,
                body=body,
                next_attempt_at=now,
                dispatched_at=now,
                give_up_at=now + timedelta(days=1),
            )
        )
    OutboxMessage.objects.bulk_create(messages, batch_size=2000)
    return {"messages": len(messages), "body_bytes": len(messages[0].body)}


def _phase_wait_worker(queue: str) -> dict:
    from hitlplatform.celery import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if app.control.ping(destination=[f"{queue}@{os.uname().nodename}"], timeout=1):
            return {}
    raise RuntimeError("the worker did not answer")


def _phase_dispatch_and_wait(count: str) -> dict:
    from apps.notifications.models import OutboxMessage
    from apps.notifications.services import outbox_dispatch

    ids = list(OutboxMessage.objects.values_list("pk", flat=True))
    started = time.perf_counter()
    outbox_dispatch(message_ids=ids)
    deadline = time.monotonic() + 1800
    delivered = 0
    while time.monotonic() < deadline:
        delivered = OutboxMessage.objects.filter(state="delivered").count()
        if delivered >= int(count):
            break
        time.sleep(0.1)
    return {"delivered": delivered, "seconds": time.perf_counter() - started}


def _phase_baseline_posts(url: str, count: str) -> dict:
    from multiprocessing import get_context

    from apps.notifications.models import OutboxMessage

    bodies = list(OutboxMessage.objects.values_list("body", flat=True)[: int(count)])
    halves = [bodies[0::2], bodies[1::2]]
    context = get_context("fork")
    started = time.perf_counter()
    with context.Pool(2) as pool:
        pool.starmap(_post_all, [(url, half) for half in halves])
    return {"rate": len(bodies) / (time.perf_counter() - started)}


def _post_all(url: str, bodies: list[str]) -> None:
    import requests

    session = requests.Session()
    for body in bodies:
        session.post(url, data=body.encode(), headers={"Content-Type": "application/json"}, timeout=10)


PHASES = {
    "seed": _phase_seed,
    "reset": _phase_reset,
    "baseline-rows": _phase_baseline_rows,
    "baseline-bulk": _phase_baseline_bulk,
    "sweep": _phase_sweep,
    "seed-webhooks": _phase_seed_webhooks,
    "wait-worker": _phase_wait_worker,
    "dispatch-and-wait": _phase_dispatch_and_wait,
    "baseline-posts": _phase_baseline_posts,
}


# --- helpers -------------------------------------------------------------------------------------


def _phase(environment: dict, *arguments: str) -> dict:
    return run_phase(__file__, environment, *arguments)


@contextlib.contextmanager
def _receiver():
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            server.count += 1
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.count = 0
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _purge(url: str, queue: str) -> None:
    from kombu import Connection

    with contextlib.suppress(Exception):
        if url.startswith("redis"):
            import redis

            client = redis.Redis.from_url(url)
            for key in client.scan_iter(match=f"*{queue}*"):
                client.delete(key)
            return
        with Connection(url, connect_timeout=5) as broker:
            broker.channel().queue_delete(queue)


if __name__ == "__main__":
    if is_phase_process():
        serve_phase(PHASES)
    else:
        main()
