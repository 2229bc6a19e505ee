"""Batch signing benchmark: server time of one batch decision of 100 proposals (goal < 3 s).

    .venv/bin/python -m benchmarks batch

A fresh SQLite database of its own; the project's real password hasher (deliberately slow). The
batch is POSTed to /review/batch/ in-process through django.test.Client, so the figure is the
server's time for the whole request (wall, and the process's CPU time, which other processes on a
shared machine do not inflate). Baselines in the same run: one password verification, and
the batch as it was signed before (the password verified once for the batch and again for each
proposal, N + 1 verifications), measured on BENCH_BATCH_BEFORE_SAMPLE proposals (default 10) of the
same kind and scaled to the batch size.
"""

import json
import os
import sys
import tempfile
import time

from benchmarks.databases import bench_environment, migrate
from benchmarks.phases import run_script

SIZE = int(os.environ.get("BENCH_BATCH_SIZE", "100"))
# The old way costs a verification per proposal (minutes for 100): measured on a sample, scaled.
BEFORE_SAMPLE = int(os.environ.get("BENCH_BATCH_BEFORE_SAMPLE", "10"))
GOAL_SECONDS = 3.0
PASSWORD = "bench-batch-passphrase-1"
POLICY = """
rules:
  - {name: crm, action_type: "crm.*", mode: pre_approval, queue: crm, sla: 4h}
"""


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as folder:
        environment = bench_environment(f"sqlite:///{folder}/bench.sqlite3")
        environment.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
        migrate(environment)
        result = run_script(__file__, environment, "--run")
    verdict = "met" if result["batch"] < GOAL_SECONDS else "NOT met"
    print(f"batch signing (SQLite, {result['hasher']}): {SIZE} proposals per batch", flush=True)
    print(f"  one password verification            {result['verification'] * 1000:8.1f} ms", flush=True)
    print(
        f"  before: N + 1 verifications          {result['before']:8.2f} s  (measured on {result['before_decided']}, "
        f"scaled to {SIZE})",
        flush=True,
    )
    print(
        f"  after: POST /review/batch/           {result['batch']:8.2f} s  ({result['decided']} decided, "
        f"{result['verifications']} verification, CPU {result['batch_cpu']:.2f} s)  ratio {result['before'] / result['batch']:5.1f}x faster  "
        f"(goal < {GOAL_SECONDS:.0f} s: {verdict})",
        flush=True,
    )


def _run() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import get_hasher
    from django.test import Client
    from django.test.utils import override_settings

    from apps.accounts.services import user_create
    from apps.agents.services import agent_create
    from apps.policies.services import policy_load_yaml
    from apps.proposals.models import Decision, Proposal
    from apps.proposals.services import proposal_decide, proposal_submit, signature_verify

    with override_settings(SECURE_SSL_REDIRECT=False, ALLOWED_HOSTS=["testserver"]):
        reviewer = user_create(username="batcher", password=PASSWORD, role="reviewer", queues=["crm"], validate=False)
        policy_load_yaml(text=POLICY, comment="bench")
        agent, _key = agent_create(name="bench-bot")
        ids = [
            proposal_submit(
                agent=agent, fields={"action_type": "crm.update", "payload": {"n": n}, "confidence": 0.5}
            ).proposal.pk
            for n in range(BEFORE_SAMPLE + SIZE)
        ]
        before_ids, batch_ids = ids[:BEFORE_SAMPLE], ids[BEFORE_SAMPLE:]

        started = time.perf_counter()
        signature_verify(user=reviewer, password=PASSWORD)
        verification = time.perf_counter() - started

        # The batch as it was signed before: one verification for the batch, one per proposal.
        started = time.perf_counter()
        signature_verify(user=reviewer, password=PASSWORD)
        for proposal_id in before_ids:
            proposal_decide(
                proposal_id=proposal_id, reviewer=reviewer, verdict="approve", rationale="checked", password=PASSWORD
            )
        before = (time.perf_counter() - started - verification) * SIZE / BEFORE_SAMPLE + verification

        verifications = []
        check_password = type(reviewer).check_password

        def counted(user, raw):
            verifications.append(user.pk)
            return check_password(user, raw)

        type(reviewer).check_password = counted
        client = Client()
        client.force_login(reviewer)
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.post(
            "/review/batch/",
            {
                "proposals": batch_ids,
                "verdict": "approve",
                "rationale": "all checked",
                "username": "batcher",
                "password": PASSWORD,
            },
        )
        batch, batch_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        assert response.status_code == 302, response.status_code
    return {
        "hasher": get_hasher("default").algorithm,
        "verification": verification,
        "before": before,
        "before_decided": Decision.objects.filter(proposal_id__in=before_ids).count(),
        "batch": batch,
        "batch_cpu": batch_cpu,
        "decided": Proposal.objects.filter(pk__in=batch_ids, status="approved").count(),
        "verifications": len(verifications),
    }


if __name__ == "__main__":
    if "--run" in sys.argv:
        print(json.dumps(_run()))
    else:
        main()
