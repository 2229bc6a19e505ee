"""Control matrix benchmark: every control's evidence for a 30-day period of 100k and 1M decisions.

Each size gets a fresh database seeded as bench_reports seeds it (N pre-approval proposals with
one signed decision each, N/4 autonomous and N/10 post-review proposals, one audit event per
decision in a valid chain, fully verified and checkpointed). Then, in a fresh process, the
baseline of the same run: the report's executive summary of the period (`report_summary`, the
grouped scan every report already pays); then `controls_evaluate` of the period (what the API,
the page and the PDF call). Goal: < 10 s at 1M decisions. Wall and CPU time of this process are
printed: on SQLite the database works inside it, so on a busy machine the CPU time is what a
quiet one would take; on PostgreSQL the server's work is in the wall time only. SQLite always; PostgreSQL too when
BENCH_PG_SERVER (or a postgres DATABASE_URL) names a reachable server.

    .venv/bin/python -m benchmarks controls
    BENCH_CONTROLS_SIZES=10000,100000 .venv/bin/python -m benchmarks controls   # smaller
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = [int(size) for size in os.environ.get("BENCH_CONTROLS_SIZES", "100000,1000000").split(",") if size]
PERIOD_DAYS = 30
GOAL_SECONDS = 10


def main() -> None:
    from benchmarks.databases import postgres_database, postgres_server

    with tempfile.TemporaryDirectory(prefix="bench-controls-") as folder:
        for size in SIZES:
            _measure("SQLite", size, _environment(folder, f"sqlite:///{folder}/db{size}.sqlite3"))
            Path(folder, f"db{size}.sqlite3").unlink(missing_ok=True)
        server = postgres_server()
        if server is None:
            print("PostgreSQL: skipped (set BENCH_PG_SERVER to a reachable server)", flush=True)
            return
        for size in SIZES:
            with postgres_database(server, f"bench_controls_{size}") as url:
                _measure("PostgreSQL", size, _environment(folder, url))


def _measure(vendor: str, size: int, environment: dict) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )
    seeded = _phase(environment, "seed", str(size))
    timed = _phase(environment, "controls")
    verdict = "OK" if timed["controls_seconds"] < GOAL_SECONDS else "NOT MET"
    print(
        f"{vendor:>10} {size:>9,} decisions ({seeded['proposals']:,} proposals, {seeded['events']:,} audit events, "
        f"seeded in {seeded['seconds']:.0f} s): baseline report_summary {timed['baseline_seconds']:.2f} s "
        f"(CPU {timed['baseline_cpu_seconds']:.2f} s); controls_evaluate of {timed['controls']} controls "
        f"{timed['controls_seconds']:.2f} s (CPU {timed['controls_cpu_seconds']:.2f} s) "
        f"({timed['controls_seconds'] / timed['baseline_seconds']:.1f}x baseline), statuses {timed['statuses']} "
        f"[{verdict}: < {GOAL_SECONDS} s]",
        flush=True,
    )


def _environment(folder: str, database_url: str) -> dict:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "MEDIA_ROOT": f"{folder}/media",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"),
        "AUDIT_SIGNING_KEY": os.environ.get("AUDIT_SIGNING_KEY", "42" * 32),
        "LOG_LEVEL": "ERROR",
    }


def _phase(environment: dict, *arguments: str) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--phase", *arguments], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    if output.returncode:
        raise RuntimeError(f"phase {arguments[0]} failed:\n{output.stderr[-4000:]}")
    return json.loads(output.stdout.strip().splitlines()[-1])


# --- phases, each in a process of its own --------------------------------------------------------


def _phase_seed(size: str) -> dict:
    from benchmarks.bench_reports import _phase_seed as seed

    return seed(size)


def _phase_controls() -> dict:
    from datetime import UTC, datetime, timedelta

    from apps.reports.controls import controls_evaluate, controls_summary
    from apps.reports.selectors import report_scope_build, report_summary

    period_end = datetime.now(UTC).date()
    scope = report_scope_build(period_start=period_end - timedelta(days=PERIOD_DAYS - 1), period_end=period_end)
    started, cpu = time.perf_counter(), time.process_time()
    report_summary(scope)
    baseline, baseline_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    results = controls_evaluate(scope)
    seconds, seconds_cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "baseline_seconds": baseline,
        "baseline_cpu_seconds": baseline_cpu,
        "controls_seconds": seconds,
        "controls_cpu_seconds": seconds_cpu,
        "controls": len(results),
        "statuses": controls_summary(results),
    }


PHASES = {"seed": _phase_seed, "controls": _phase_controls}


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--phase":
        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hitlplatform.settings")
        import django

        django.setup()
        print(json.dumps(PHASES[sys.argv[2]](*sys.argv[3:])))
    else:
        main()
