"""Prometheus metrics (prometheus-client).

Two kinds, so that any number of processes can serve /metrics and agree:
- request counts and latencies, counted by each process (with PROMETHEUS_MULTIPROC_DIR set, every
  gunicorn worker writes them to shared files and a scrape adds them up);
- the state of the platform (pending work, SLA breaches, webhooks, the audit chain), read from the
  database at scrape time, so it is the same whichever process answers.
"""

import os

from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter("hitl_http_requests_total", "HTTP requests answered.", ["method", "route", "status"])
LATENCY = Histogram(
    "hitl_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)


def request_observe(*, method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def metrics_text() -> bytes:
    """The exposition text of one scrape."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    platform = CollectorRegistry()
    platform.register(PlatformCollector())
    return generate_latest(processes) + generate_latest(platform)


class PlatformCollector:
    """Gauges computed from the database at each scrape."""

    def collect(self):
        up = GaugeMetricFamily("hitl_metrics_database_up", "1 when the database answered this scrape.")
        try:
            families = list(_platform_families(timezone.now()))
        except Exception:  # a scrape during an outage still answers, and says so
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families


def _platform_families(now):
    from apps.audit.models import ChainHead, Checkpoint, VerificationRun
    from apps.notifications.models import Channel, OutboxMessage
    from apps.proposals.models import Proposal, Status

    pending = GaugeMetricFamily("hitl_proposals_pending", "Proposals waiting for a human decision.", labels=["queue"])
    breached = GaugeMetricFamily(
        "hitl_proposals_sla_breached", "Pending proposals past their SLA due time.", labels=["queue"]
    )
    oldest = GaugeMetricFamily(
        "hitl_oldest_pending_age_seconds", "Age of the oldest pending proposal.", labels=["queue"]
    )
    rows = (
        Proposal.objects.filter(status=Status.PENDING)
        .order_by()  # the model's ordering would join the GROUP BY
        .values("queue__slug")
        .annotate(count=Count("id"), overdue=Count("id", filter=Q(sla_due_at__lt=now)), oldest=Min("created_at"))
    )
    for row in rows:
        queue = row["queue__slug"] or ""
        pending.add_metric([queue], row["count"])
        breached.add_metric([queue], row["overdue"])
        oldest.add_metric([queue], max(0.0, (now - row["oldest"]).total_seconds()) if row["oldest"] else 0.0)
    yield from (pending, breached, oldest)

    expired = GaugeMetricFamily("hitl_proposals_expired", "Proposals that expired unreviewed (SLA breaches, all time).")
    expired.add_metric([], Proposal.objects.filter(status=Status.EXPIRED).count())
    yield expired

    webhooks = GaugeMetricFamily(
        "hitl_webhook_deliveries", "Integrator webhook messages in the outbox, by state.", labels=["state"]
    )
    counts = dict(
        OutboxMessage.objects.filter(channel=Channel.WEBHOOK)
        .order_by()
        .values("state")
        .annotate(count=Count("id"))
        .values_list("state", "count")
    )
    for state in OutboxMessage.State.values:
        webhooks.add_metric([state], counts.get(state, 0))
    yield webhooks
    dead = GaugeMetricFamily("hitl_outbox_dead_letters", "Outbox messages given up on (all channels).")
    dead.add_metric([], OutboxMessage.objects.filter(state=OutboxMessage.State.DEAD).count())
    yield dead

    chain = GaugeMetricFamily("hitl_audit_chain_length", "Events in the audit chain.")
    chain.add_metric([], ChainHead.objects.values_list("seq", flat=True).first() or 0)
    yield chain
    checkpoint_age = GaugeMetricFamily(
        "hitl_audit_last_checkpoint_age_seconds", "Seconds since the last signed checkpoint (-1: none yet)."
    )
    last_checkpoint = Checkpoint.objects.order_by("-tree_size").values_list("timestamp", flat=True).first()
    checkpoint_age.add_metric([], (now - last_checkpoint).total_seconds() if last_checkpoint else -1.0)
    yield checkpoint_age
    verified = GaugeMetricFamily(
        "hitl_audit_last_full_verification_ok",
        "1 when the last full verification passed, 0 when it failed, -1 none yet.",
    )
    verified_at = GaugeMetricFamily(
        "hitl_audit_last_full_verification_timestamp_seconds", "When the last full verification finished (Unix time)."
    )
    run = VerificationRun.objects.filter(kind=VerificationRun.Kind.FULL).order_by("-finished_at", "-id").first()
    verified.add_metric([], -1 if run is None else int(run.ok))
    verified_at.add_metric([], run.finished_at.timestamp() if run else 0.0)
    yield verified
    yield verified_at
