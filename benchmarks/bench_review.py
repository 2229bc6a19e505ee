"""Reviewer web app benchmark: server time of the queue and detail pages, p50 and p95.

    BENCH_REVIEW_PROPOSALS=100000 .venv/bin/python -m benchmarks review   # goal < 100 ms p95 each

N proposals (BENCH_REVIEW_PROPOSALS, default 100,000; half pending) across 20 queues, 200 reviewers
holding 3 queues each (some through a group), 10 agents and N/5 decisions are seeded with
bulk_create (no services) into a database of its own: a fresh SQLite file, or on PostgreSQL when
BENCH_REVIEW_POSTGRES names a server (e.g. postgres://postgres@127.0.0.1:5432/postgres; the
database hitl_bench_review is created and dropped). Each page is requested
BENCH_REVIEW_REQUESTS times (default 200) in-process through django.test.Client by random
reviewers, after a warm-up; wall time and the process's CPU time (which the other processes on a
shared machine do not inflate) are reported. Baselines in the same run: the sign-in page (the whole middleware
stack and a template, no query) and a plain SELECT of one page of pending proposals.
"""

import contextlib
import json
import os
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

from benchmarks.databases import bench_environment, migrate
from benchmarks.phases import run_script

PROPOSALS = int(os.environ.get("BENCH_REVIEW_PROPOSALS", "100000"))
REQUESTS = int(os.environ.get("BENCH_REVIEW_REQUESTS", "200"))
POSTGRES = os.environ.get("BENCH_REVIEW_POSTGRES", "")
DATABASE = "hitl_bench_review"
QUEUES = 20
REVIEWERS = 200
QUEUES_PER_REVIEWER = 3
AGENTS = 10
GOAL_MS = 100.0
BATCH = 5_000
POLICY = """
rules:
  - {name: refunds, action_type: "payments.*", mode: pre_approval, approvals_required: 2, queue: q00, sla: 30m}
  - {name: crm, action_type: "crm.*", mode: pre_approval, queue: q01, sla: 4h}
  - {name: contracts, action_type: "contracts.*", mode: pre_approval, queue: q02, sla: 4h}
"""
ACTION_TYPES = [
    ("payments.refund", "refunds"),
    ("crm.update", "crm"),
    ("contracts.renew", "contracts"),
    ("payments.payout", "refunds"),
]


def main() -> None:
    with _database() as url:
        environment = bench_environment(url)
        migrate(environment)
        result = run_script(__file__, environment, "--run")
    _report(result, "PostgreSQL" if POSTGRES else "SQLite")


def _report(result: dict, engine: str) -> None:
    seed = result["seed"]
    print(
        f"review ({engine}): seeded {seed['proposals']} proposals ({seed['pending']} pending), {seed['decisions']} decisions, "
        f"{QUEUES} queues, {REVIEWERS} reviewers in {seed['seconds']:.1f} s; {REQUESTS} requests per page",
        flush=True,
    )
    baseline = result["baseline_page"]["p95"]
    for name, label in [
        ("queue", "queue /review/"),
        ("queue_filtered", "queue, filtered + search"),
        ("detail", "detail /review/<id>/"),
        ("baseline_page", "baseline: sign-in page"),
        ("baseline_select", "baseline: SELECT one page"),
    ]:
        figures = result[name]
        goal = ""
        if name in ("queue", "queue_filtered", "detail"):
            goal = f"  ratio {figures['p95'] / baseline:5.1f}x sign-in p95  (goal p95 < {GOAL_MS:.0f} ms: {'met' if figures['p95'] < GOAL_MS else 'NOT met'})"
        print(
            f"  {label:28s} p50 {figures['p50']:7.2f} ms  p95 {figures['p95']:7.2f} ms  "
            f"(CPU p50 {figures['cpu_p50']:6.2f} ms, {figures['queries']} queries){goal}",
            flush=True,
        )


@contextlib.contextmanager
def _database():
    if not POSTGRES:
        with tempfile.TemporaryDirectory(prefix="bench-review-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    import psycopg

    parts = urlsplit(POSTGRES)
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    try:
        yield urlunsplit(parts._replace(path=f"/{DATABASE}"))
    finally:
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


# --- the measuring process ------------------------------------------------------------------


def _run() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")
    import django

    django.setup()
    from django.test.utils import override_settings

    with override_settings(
        STORAGES={
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        },
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        SECURE_SSL_REDIRECT=False,
    ):
        started = time.perf_counter()
        seed = _seed()
        seed["seconds"] = time.perf_counter() - started
        return {"seed": seed, **_measure(seed)}


def _seed() -> dict:
    import random
    from datetime import timedelta

    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, Permission, User
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import Queue, QueueGroupObjectPermission, QueueUserObjectPermission, ReviewerProfile
    from apps.agents.models import Agent
    from apps.policies.models import PolicyRule
    from apps.policies.services import policy_load_yaml
    from apps.proposals.models import Decision, Proposal
    from apps.proposals.payloads import payload_version

    rng = random.Random(7)
    now = timezone.now()
    version = policy_load_yaml(text=POLICY, comment="bench", allow_unstaffed=True)  # its reviewers come next
    rules = {rule.name: rule for rule in PolicyRule.objects.filter(version=version)}
    queues = Queue.objects.bulk_create(
        [Queue(slug=f"q{n:02d}", name=f"Queue {n:02d}") for n in range(QUEUES)], ignore_conflicts=True
    )
    queues = list(Queue.objects.filter(slug__in=[f"q{n:02d}" for n in range(QUEUES)]).order_by("slug"))
    agents = Agent.objects.bulk_create([Agent(name=f"agent-{n}") for n in range(AGENTS)])
    group = Group.objects.get_or_create(name="reviewer")[0]
    password = make_password("bench-password")
    users = User.objects.bulk_create(
        [
            User(username=f"reviewer{n:03d}", password=password, first_name="Re", last_name=f"Viewer {n}")
            for n in range(REVIEWERS)
        ]
    )
    User.groups.through.objects.bulk_create([User.groups.through(user_id=user.pk, group_id=group.pk) for user in users])
    ReviewerProfile.objects.bulk_create([ReviewerProfile(user=user, authorization_level=2) for user in users])
    permission = Permission.objects.get(codename="review_queue", content_type__app_label="accounts")
    holdings, team_grants = [], []
    teams = [Group.objects.create(name=f"team-{n}") for n in range(QUEUES)]
    for index, user in enumerate(users):
        for k in range(QUEUES_PER_REVIEWER):
            queue = queues[(index + k * 7) % QUEUES]
            if k == 2:  # one of the three through a group
                User.groups.through.objects.get_or_create(user_id=user.pk, group_id=teams[queue.pk % QUEUES].pk)
                team_grants.append((teams[queue.pk % QUEUES], queue))
            else:
                holdings.append(QueueUserObjectPermission(user=user, permission=permission, content_object=queue))
    QueueUserObjectPermission.objects.bulk_create(holdings)
    QueueGroupObjectPermission.objects.bulk_create(
        [
            QueueGroupObjectPermission(group=team, permission=permission, content_object=queue)
            for team, queue in set(team_grants)
        ],
        ignore_conflicts=True,
    )

    pending = decided = 0
    decisions = []
    for start in range(0, PROPOSALS, BATCH):
        batch = []
        for n in range(start, min(start + BATCH, PROPOSALS)):
            action_type, rule_name = ACTION_TYPES[n % len(ACTION_TYPES)]
            payload = {"order": f"A-{n}", "amount": f"{rng.randint(1, 5000)}.00", "lines": [{"sku": "X", "qty": 1}]}
            is_pending = n % 2 == 0
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 30))
            status = "pending" if is_pending else rng.choice(["approved", "approved", "rejected"])
            batch.append(
                Proposal(
                    agent=agents[n % AGENTS],
                    action_type=action_type,
                    payload=payload,
                    payload_version=payload_version(payload),
                    summary=f"{action_type} for order A-{n}",
                    reasoning="The customer reported a problem.",
                    evidence=[{"type": "ticket", "id": f"T-{n}"}],
                    confidence=rng.random(),
                    irreversible=n % 11 == 0,
                    blast_radius=rng.choice([1, 1, 2, 5, 150]),
                    compliance_exposure=rng.choice(["none", "low", "high"]),
                    status=status,
                    mode="pre_approval",
                    approved_by="" if is_pending or status == "rejected" else "human",
                    approvals_required=rules[rule_name].approvals_required,
                    policy_version=version,
                    policy_rule=rules[rule_name],
                    routing={
                        "rule": rule_name,
                        "mode": "pre_approval",
                        "reason": f"rule {rule_name!r} matched",
                        "evaluated": [],
                    },
                    queue=queues[n % QUEUES],
                    sla_due_at=created + timedelta(hours=rng.randint(1, 48)),
                    created_at=created,
                    decided_at=None if is_pending else created + timedelta(minutes=5),
                )
            )
        created_rows = Proposal.objects.bulk_create(batch)
        for proposal in created_rows:
            if proposal.status == "pending":
                pending += 1
                if proposal.pk % 10 == 0:  # some pending ones have a first approval
                    decisions.append(_decision(Decision, proposal, users[proposal.pk % REVIEWERS], "approve"))
            else:
                decided += 1
                verdict = "approve" if proposal.status == "approved" else "reject"
                if proposal.pk % 3 == 0:
                    decisions.append(_decision(Decision, proposal, users[proposal.pk % REVIEWERS], verdict))
        if len(decisions) >= BATCH:
            Decision.objects.bulk_create(decisions)
            decisions = []
    Decision.objects.bulk_create(decisions)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # what autovacuum does after a bulk load: statistics, visibility map
    return {"proposals": PROPOSALS, "pending": pending, "decisions": Decision.objects.count()}


def _decision(model, proposal, reviewer, verdict):
    return model(
        proposal=proposal,
        reviewer=reviewer,
        verdict=verdict,
        rationale="checked",
        payload_version=proposal.payload_version,
        signer_name=reviewer.get_full_name(),
        signature_meaning="approved" if verdict == "approve" else "rejected",
    )


def _measure(seed: dict) -> dict:
    import random

    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    from apps.proposals.models import Proposal
    from apps.review.selectors import review_queue_proposals, review_queues_of

    rng = random.Random(11)
    reviewers = list(User.objects.filter(username__startswith="reviewer").order_by("username")[:20])
    clients = []
    for reviewer in reviewers:
        client = Client()
        client.force_login(reviewer)
        queues = review_queues_of(reviewer)
        ids = list(review_queue_proposals(user=reviewer, queues=queues).values_list("id", flat=True)[:50])
        clients.append((client, ids))
    anonymous = Client()

    def first(choices):
        return choices[0]

    def timed(request) -> dict:
        for _ in range(5):
            request(rng.choice)  # warm-up: caches, compiled templates, the session rows
        # The queries of one fixed request seen before (a random one may be a first view, which writes):
        # the same figure on every run.
        request(first)
        statements = []
        with connection.execute_wrapper(
            lambda execute, sql, params, many, context: statements.append(sql) or execute(sql, params, many, context)
        ):
            request(first)
        wall, cpu = [], []
        for _ in range(REQUESTS):
            began, began_cpu = time.perf_counter(), time.process_time()
            request(rng.choice)
            wall.append((time.perf_counter() - began) * 1000)
            cpu.append((time.process_time() - began_cpu) * 1000)
        wall.sort()
        cpu.sort()
        return {
            "p50": wall[len(wall) // 2],
            "p95": wall[int(len(wall) * 0.95) - 1],
            "cpu_p50": cpu[len(cpu) // 2],
            "queries": len(statements),
        }

    def get(client, url):
        response = client.get(url, secure=True)
        assert response.status_code == 200, (url, response.status_code)

    def queue_page(choose):
        client, _ids = choose(clients)
        get(client, "/review/")

    def queue_filtered(choose):
        client, _ids = choose(clients)
        get(client, f"/review/?risk=high_exposure&due_soon=on&q=order&page={choose((1, 2, 3))}")

    def detail_page(choose):
        client, ids = choose(clients)
        get(client, f"/review/{choose(ids)}/")

    def sign_in_page(choose):
        get(anonymous, "/accounts/login/")

    def select_page(choose):
        list(Proposal.objects.filter(status="pending", queue_id__in=[1, 2, 3]).order_by("sla_due_at", "id")[:25])

    return {
        "queue": timed(queue_page),
        "queue_filtered": timed(queue_filtered),
        "detail": timed(detail_page),
        "baseline_page": timed(sign_in_page),
        "baseline_select": timed(select_page),
    }


if __name__ == "__main__":
    if sys.argv[1:] == ["--run"]:
        print(json.dumps(_run()))
    else:
        main()
