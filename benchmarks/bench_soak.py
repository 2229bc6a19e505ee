"""Soak: a steady mix of submissions, decisions and waits against real server processes.

Two web servers as the Procfile starts them (one worker, BENCH_SOAK_THREADS threads each) on a
database of their own on PostgreSQL, with a Celery worker on Redis when BENCH_SOAK_BROKER_URL answers
(else tasks run inline), are driven by BENCH_SOAK_CLIENTS client threads for BENCH_SOAK_SECONDS
(default 30; 600 for the real figure), under the demo policy. Each client loop: an agent submits
(with an Idempotency-Key) a refund that needs two approvals, two reviewers approve it with their
e-signatures, the agent waits for the outcome.

Reported: requests/s, p50/p99 latency, the count of 5xx (goal 0), and each process's memory (RSS)
growth from the end of warm-up (the first fifth) to the end (goal < 10 %).
Baseline, measured in the same run: the same clients calling /healthz (the cheapest request).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x BENCH_SOAK_SECONDS=600 .venv/bin/python -m benchmarks soak
"""

import contextlib
import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path

import requests

from benchmarks.databases import bench_environment, migrate, postgres_database, postgres_server_or_skip
from benchmarks.servers import manage
from tests.processes import WebServer, celery_worker_command, reachable, stop_process_group

ROOT = Path(__file__).resolve().parents[1]
SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "30"))
CLIENTS = int(os.environ.get("BENCH_SOAK_CLIENTS", "6"))
THREADS = int(os.environ.get("BENCH_SOAK_THREADS", "4"))
BROKER_URL = os.environ.get("BENCH_SOAK_BROKER_URL", "redis://127.0.0.1:6379/12")
PORTS = (int(os.environ.get("BENCH_SOAK_PORT", "21250")), int(os.environ.get("BENCH_SOAK_PORT", "21250")) + 1)
PASSWORD = "soak-pass-2024-long"


def main() -> None:
    server = postgres_server_or_skip("soak")
    if server is None:
        return
    with postgres_database(server, f"bench_soak_{os.getpid()}") as url, contextlib.ExitStack() as running:
        environment = _environment(url)
        credentials = _prepare(environment)
        processes = _start(environment, running)
        bases = [f"http://127.0.0.1:{port}" for port in PORTS]
        baseline = _drive(lambda session, base: _healthz(session, base), bases, seconds=min(10.0, SECONDS / 3))
        soak = _drive(lambda session, base: _mix(session, base, credentials), bases, seconds=SECONDS, sample=processes)
    _report(baseline, soak)


def _environment(url: str) -> dict:
    environment = bench_environment(
        url,
        LOG_LEVEL="WARNING",
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        STATIC_MANIFEST="0",
        DB_POOL_MAX_SIZE=str(THREADS + 1),  # and the waiting views' database thread (hitlplatform/asgi.py)
    )
    if reachable(BROKER_URL):
        # A queue of its own, so that no other worker on the broker takes the soak's tasks.
        environment.update(
            CELERY_BROKER_URL=BROKER_URL, CELERY_TASK_ALWAYS_EAGER="0", CELERY_TASK_DEFAULT_QUEUE=f"soak-{os.getpid()}"
        )
    else:
        environment.update(CELERY_TASK_ALWAYS_EAGER="1")
    return environment


def _prepare(environment: dict) -> dict:
    migrate(environment)
    manage(environment, "load_policies", "demo/policy.yaml", "--allow-unstaffed")
    agent = json.loads(manage(environment, "create_agent", "soak-bot", "--json"))
    reviewers = [
        json.loads(manage(environment, "create_user", name, "--password", PASSWORD, "--role", "reviewer",
                          "--queue", "finance", "--token", "--json"))["token"]
        for name in ("soak_first", "soak_second")
    ]  # fmt: skip
    return {"agent": agent["key"], "reviewers": reviewers}


def _start(environment: dict, running: contextlib.ExitStack) -> dict:
    """The web servers and the worker, stopped when `running` closes; raises if a server does not start."""
    processes = {}
    for port in PORTS:
        web = running.enter_context(WebServer(environment, port=port, workers=1, threads=THREADS))
        processes[f"web:{port}"] = web.process
    if environment.get("CELERY_TASK_ALWAYS_EAGER") == "0":
        queue = environment["CELERY_TASK_DEFAULT_QUEUE"]
        worker = subprocess.Popen(
            celery_worker_command(queue, name=f"{queue}@%h", options=("--concurrency=1", "--pool=solo", "--loglevel=WARNING")),
            cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        running.callback(stop_process_group, worker, timeout=30)
        processes["worker"] = worker
    return processes


def _healthz(session, base) -> list[tuple[float, int]]:
    started = time.perf_counter()
    status = session.get(f"{base}/healthz", timeout=30).status_code
    return [(time.perf_counter() - started, status)]


def _mix(session, base, credentials) -> list[tuple[float, int]]:
    timings = []

    def timed(method, path, token, **kwargs):
        started = time.perf_counter()
        response = session.request(
            method, f"{base}/api/v1{path}", headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})},
            timeout=90, **kwargs,
        )  # fmt: skip
        timings.append((time.perf_counter() - started, response.status_code))
        return response

    body = {
        "action_type": "payments.refund", "payload": {"order": uuid.uuid4().hex[:8], "amount": "12.00"},
        "summary": "soak", "confidence": 0.8, "blast_radius": 3,
    }  # fmt: skip
    submitted = timed("POST", "/proposals/", credentials["agent"], json=body,
                      headers={"Idempotency-Key": uuid.uuid4().hex})  # fmt: skip
    if submitted.status_code != 201:
        return timings
    proposal = submitted.json()["id"]
    for token in credentials["reviewers"]:
        timed("POST", f"/proposals/{proposal}/decisions/", token,
              json={"verdict": "approve", "rationale": "soak check", "password": PASSWORD})  # fmt: skip
    timed("GET", f"/proposals/{proposal}/wait/?timeout=1", credentials["agent"])
    return timings


def _drive(step, bases, *, seconds: float, sample: dict | None = None) -> dict:
    timings: list[tuple[float, int]] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    warm_until = time.monotonic() + seconds / 5
    memory = {}

    def client(index: int) -> None:
        session = requests.Session()
        base = bases[index % len(bases)]
        while time.monotonic() < stop:
            try:
                done = step(session, base)
            except requests.RequestException:
                done = [(0.0, 599)]  # a refused or dropped connection counts as a server error
            with lock:
                timings.extend(done)

    threads = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(CLIENTS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    if sample:
        while time.monotonic() < warm_until:
            time.sleep(0.2)
        memory = {name: [_rss(_serving_pid(process.pid))] for name, process in sample.items()}
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    for name, process in (sample or {}).items():
        memory[name].append(_rss(_serving_pid(process.pid)))
    return {"timings": timings, "elapsed": elapsed, "memory": memory}


def _report(baseline: dict, soak: dict) -> None:
    def figures(run):
        latencies = sorted(seconds for seconds, _status in run["timings"])
        count = len(latencies)
        return {
            "requests": count,
            "per_second": count / run["elapsed"],
            "p50_ms": 1000 * latencies[count // 2] if count else 0.0,
            "p99_ms": 1000 * latencies[min(count - 1, int(count * 0.99))] if count else 0.0,
            "server_errors": sum(1 for _seconds, status in run["timings"] if status >= 500),
        }

    base, mix = figures(baseline), figures(soak)
    print(f"soak: {SECONDS:.0f} s, {CLIENTS} clients, 2 web processes x {THREADS} threads")
    print(
        f"  baseline /healthz  {base['per_second']:8.1f} req/s  p50 {base['p50_ms']:7.1f} ms  p99 {base['p99_ms']:7.1f} ms"
    )
    print(
        f"  mix                {mix['per_second']:8.1f} req/s  p50 {mix['p50_ms']:7.1f} ms  p99 {mix['p99_ms']:7.1f} ms"
    )
    print(f"  mix / baseline     {mix['per_second'] / max(base['per_second'], 1e-9):8.3f} x throughput")
    print(f"  5xx                {mix['server_errors']} of {mix['requests']} requests (goal: 0)")
    for name, (warm, end) in soak["memory"].items():
        growth = 100.0 * (end - warm) / warm if warm else 0.0
        print(f"  memory {name:12s} {warm / 1024:7.1f} -> {end / 1024:7.1f} MB  ({growth:+.1f} %, goal < 10 %)")


def _serving_pid(pid: int) -> int:
    """gunicorn's worker (the master's child) serves the requests; other processes serve themselves."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pid
    return int(children[0]) if children else pid


def _rss(pid: int) -> int:
    """Resident set size in KiB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main()
