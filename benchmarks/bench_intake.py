"""HTTP intake throughput: the Procfile's server (2 workers x 4 threads), PostgreSQL, a keep-alive
client (wrk) on this machine.

Measures POST /api/v1/proposals/ routed autonomously and to pre_approval, against a bare DRF
create endpoint on a one-table model served by the same server in the same run.
Goal: each route >= 0.7 of bare. Scale with BENCH_INTAKE_SECONDS (default 10 per run).

To see the request path without the cost of the chain head held through the WAL flush, run with
PGOPTIONS="-c synchronous_commit=off" (it reaches every connection, bare's too).
`python -m benchmarks.profile_intake` shows the same requests in-process: queries, CPU, profile.
"""

import json
import os
import re
import subprocess
import tempfile

from benchmarks.servers import on_demo_database
from tests.processes import WebServer

DATABASE = "hitl_bench_intake"
PORT = int(os.environ.get("BENCH_INTAKE_PORT", "8765"))
SECONDS = int(os.environ.get("BENCH_INTAKE_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_INTAKE_ROUNDS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_INTAKE_CONNECTIONS", "8"))


def main() -> None:
    on_demo_database(
        "bench_intake", DATABASE, lambda env, _url, key: _measure_server(env, key), settings="benchmarks.settings_bench"
    )


def _measure_server(env: dict, key: str) -> None:
    load_before = _load_average()
    with WebServer(env, port=PORT, workers=2, threads=4):
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


if __name__ == "__main__":
    main()
