"""HTTP intake throughput: gunicorn (2 workers), PostgreSQL, a keep-alive client (wrk) on this machine.

Measures POST /api/v1/proposals/ routed autonomously and to pre_approval, against a bare DRF
create endpoint on a one-table model served by the same gunicorn in the same run.
Goal: each route >= 0.7 of bare. Scale with BENCH_INTAKE_SECONDS (default 10 per run).

To see the request path without the cost of the chain head held through the WAL flush, run with
PGOPTIONS="-c synchronous_commit=off" (it reaches every connection, bare's too).
`python -m benchmarks.profile_intake` shows the same requests in-process: queries, CPU, profile.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.databases import DEFAULT_SERVER, postgres_database, postgres_server

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "hitl_bench_intake"
PORT = int(os.environ.get("BENCH_INTAKE_PORT", "8765"))
SECONDS = int(os.environ.get("BENCH_INTAKE_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_INTAKE_ROUNDS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_INTAKE_CONNECTIONS", "8"))

SETUP = """
from apps.agents.services import agent_create
from apps.policies.services import policy_load_yaml
policy_load_yaml(text=open("demo/policy.yaml").read(), allow_unstaffed=True)  # intake needs no reviewers
agent, key = agent_create(name="bench-bot")
print("KEY=" + key)
"""


def main() -> None:
    if shutil.which("wrk") is None:
        print("bench_intake: skipped — needs `wrk` (apt-get install wrk)")
        return
    server = postgres_server(default=DEFAULT_SERVER)
    if server is None:
        print("bench_intake: skipped — it needs PostgreSQL (BENCH_PG_SERVER)")
        return
    with postgres_database(server, DATABASE) as url:
        _measure(_environment(url))


def _measure(env: dict) -> None:
    _manage(env, "migrate", "--run-syncdb", "--noinput")
    key = re.search(r"KEY=(\S+)", _manage(env, "shell", "-c", SETUP)).group(1)
    _measure_server(env, key)


def _measure_server(env: dict, key: str) -> None:
    load_before = _load_average()
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "hitlplatform.wsgi",
            "--workers",
            "2",
            "--worker-class",
            "gthread",
            "--threads",
            "4",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        _wait_until_up()
        scenarios = {
            "bare DRF create (baseline)": ("/bench/bare/", {"name": "x", "amount": 1}, None),
            "proposal, autonomous route": ("/api/v1/proposals/", _proposal(confidence=0.97, blast_radius=1), key),
            "proposal, pre_approval route": ("/api/v1/proposals/", _proposal(confidence=0.97, blast_radius=5), key),
        }
        results = {name: [] for name in scenarios}
        for _round in range(ROUNDS):
            for name, (path, body, token) in scenarios.items():
                results[name].append(_wrk(path, body, token))
        bare = max(results["bare DRF create (baseline)"])
        settings = ", ".join(f"{name}={env[name]}" for name in ("PGOPTIONS",) if env.get(name))
        print(
            f"intake over {ROUNDS} rounds of {SECONDS}s, {CONNECTIONS} keep-alive connections"
            f"{f' ({settings})' if settings else ''}, best round; load average {load_before} before, {_load_average()} after:"
        )
        for name, rates in results.items():
            best = max(rates)
            print(f"  {name:32s} {best:8.0f} req/s   ratio to bare {best / bare:5.2f}")
        print("  goal: each proposal route >= 0.70 of bare")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def _wrk(path: str, body: dict, token: str | None) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write('wrk.method = "POST"\n')
        script.write(f"wrk.body = {json.dumps(json.dumps(body))}\n")
        script.write('wrk.headers["Content-Type"] = "application/json"\n')
        if token:
            script.write(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
    output = subprocess.run(
        [
            "wrk",
            "-t",
            "2",
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{SECONDS}s",
            "-s",
            script.name,
            f"http://127.0.0.1:{PORT}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(script.name)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{path}: {errors.group(1)} failed responses\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def _proposal(**signals) -> dict:
    return {
        "action_type": "payments.refund",
        "payload": {"order": "A-1001", "amount": "19.90", "currency": "EUR"},
        "summary": "Refund a late parcel",
        "reasoning": "Carrier confirmed the delay.",
        "evidence": [{"type": "tracking", "id": "TR-1"}],
        "irreversible": False,
        "compliance_exposure": "low",
        "expected_impact": "19.90 EUR",
        **signals,
    }


def _environment(database_url: str) -> dict:
    return os.environ | {
        "DJANGO_SETTINGS_MODULE": "benchmarks.settings_bench",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "STATIC_MANIFEST": "0",
        "LOG_LEVEL": "WARNING",
        "AUDIT_DEV_KEY_FILE": str(Path(tempfile.gettempdir()) / "hitl-bench-audit-key"),
        "PYTHONPATH": str(ROOT),
    }


def _manage(env: dict, *args: str) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout


def _wait_until_up() -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/api/v1/schema/", timeout=2)
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


if __name__ == "__main__":
    main()
