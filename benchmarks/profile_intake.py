"""The intake request path in-process, without the HTTP server: queries per request and a profile.

    python -m benchmarks.profile_intake [--requests N] [--profile] [--route autonomous|pre_approval|bare]

Runs against a throw-away PostgreSQL database (BENCH_PG_SERVER, default the local server) with the
benchmark settings, through Django's test client (the whole middleware stack), so the figures are
those of the request path alone: no gunicorn, no client, no competing writers on the chain head.
"""

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from benchmarks.bench_intake import _proposal
from benchmarks.databases import DEFAULT_SERVER, postgres_database, postgres_server

DATABASE = "hitl_profile_intake"
ROUTES = {
    "autonomous": ("/api/v1/proposals/", _proposal(confidence=0.97, blast_radius=1)),
    "pre_approval": ("/api/v1/proposals/", _proposal(confidence=0.97, blast_radius=5)),
    "bare": ("/bench/bare/", {"name": "x", "amount": 1}),
}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--route", choices=[*ROUTES, "all"], default="all")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of each route")
    parser.add_argument("--queries", action="store_true", help="print the SQL of one request of each route")
    parser.add_argument("--stages", action="store_true", help="CPU per request of each stage of the path")
    options = parser.parse_args(argv)
    server = postgres_server(default=DEFAULT_SERVER)
    if server is None:
        sys.exit("profile_intake needs PostgreSQL (BENCH_PG_SERVER)")
    with postgres_database(server, DATABASE) as url:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="benchmarks.settings_bench",
            DATABASE_URL=url,
            DEBUG="0",
            SECRET_KEY="bench-only-secret-key-" + "x" * 40,
            ALLOWED_HOSTS="testserver",
            SECURE_SSL_REDIRECT="0",
            STATIC_MANIFEST="0",
            LOG_LEVEL="WARNING",
            AUDIT_DEV_KEY_FILE=str(Path(tempfile.gettempdir()) / "hitl-bench-audit-key"),
        )
        import django

        django.setup()
        _run(options)
        from django.db import connections

        connections.close_all()


def _run(options) -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from apps.agents.services import agent_create
    from apps.policies.services import policy_load_yaml

    call_command("migrate", "--run-syncdb", "--noinput", verbosity=0)
    policy_load_yaml(text=(Path(__file__).resolve().parents[1] / "demo/policy.yaml").read_text(), allow_unstaffed=True)
    _agent, key = agent_create(name="bench-bot")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    routes = ROUTES if options.route == "all" else {options.route: ROUTES[options.route]}
    for name, (path, body) in routes.items():
        _post(client, path, body)  # warm: first-use caches (policy snapshot, queue, serializers)
        with CaptureQueriesContext(connection) as queries:
            _post(client, path, body)
        print(
            f"{name:13s} {len(queries.captured_queries):3d} queries per request: "
            + ", ".join(f"{verb} {count}" for verb, count in _verbs(queries.captured_queries).items())
        )
        if options.queries:
            for query in queries.captured_queries:
                print("    " + query["sql"][:200])
        started, cpu_started, server_started = time.perf_counter(), time.process_time(), _server_cpu(connection)
        for _ in range(options.requests):
            _post(client, path, body)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        server = _server_cpu(connection) - server_started
        print(
            f"{'':13s} {elapsed / options.requests * 1000:6.2f} ms per request in-process: "
            f"{cpu / options.requests * 1000:5.2f} ms Python CPU, {server / options.requests * 1000:5.2f} ms PostgreSQL CPU"
        )
        if options.stages:
            _print_stages(client, path, body, options.requests)
        if options.profile:
            profile = cProfile.Profile(time.process_time)  # CPU, not time spent waiting for the server
            profile.enable()
            for _ in range(options.requests):
                _post(client, path, body)
            profile.disable()
            stats = pstats.Stats(profile)
            _print_by_package(stats, options.requests)
            stats.sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(
                int(os.environ.get("PROFILE_LINES", "45"))
            )


def _post(client, path: str, body: dict) -> None:
    response = client.post(path, body, content_type="application/json")
    if response.status_code != 201:
        raise RuntimeError(f"{path}: {response.status_code} {response.content[:500]!r}")


STAGES = {
    # (module, function): label; each wrapped to add up the CPU of its calls (nested ones included)
    ("hitlplatform.api.authentication", "BearerAuthentication.authenticate"): "authentication",
    ("apps.proposals.apis", "proposal_input_validate"): "input validation",
    ("apps.proposals.services", "policy_active"): "active policy",
    ("apps.proposals.services", "route"): "routing",
    ("apps.proposals.services", "queue_for"): "queue",
    ("apps.proposals.services", "sla_deadlines"): "SLA deadlines",
    ("apps.proposals.services", "outbox_enqueue_proposal_event"): "outbox",
    ("apps.proposals.models", "Proposal.save"): "proposal INSERT",
    ("apps.proposals.services", "audit_record"): "audit append",
    ("apps.proposals.services", "_proposal_create"): "proposal_create (all of it)",
    ("apps.proposals.services", "proposal_submit"): "proposal_submit (with BEGIN/COMMIT)",
    ("apps.proposals.apis", "proposal_representation"): "output",
    ("rest_framework.views", "APIView.dispatch"): "DRF dispatch (all of it)",
}


def _print_stages(client, path: str, body: dict, requests: int) -> None:
    import importlib

    totals = Counter()
    originals = []
    for (module_name, qualified), label in STAGES.items():
        module = importlib.import_module(module_name)
        owner, name = (
            (module, qualified)
            if "." not in qualified
            else (getattr(module, qualified.split(".")[0]), qualified.split(".")[1])
        )
        original = getattr(owner, name, None)
        if original is None:  # a stage this version of the code does not have
            continue
        originals.append((owner, name, original))
        setattr(owner, name, _timed(original, label, totals))
    try:
        started = time.process_time()
        for _ in range(requests):
            _post(client, path, body)
        total = time.process_time() - started
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
    print(f"    {total / requests * 1000:6.3f} ms  whole request (Python CPU)")
    for label in STAGES.values():
        if totals[label]:
            print(f"    {totals[label] / requests * 1000:6.3f} ms  {label}")


def _timed(function, label: str, totals: Counter):
    def timed(*args, **kwargs):
        started = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            totals[label] += time.process_time() - started

    return timed


def _print_by_package(stats, requests: int) -> None:
    """Own time (profiled, so inflated) per request by where the code lives."""
    by_package = Counter()
    for (filename, _line, _name), (_calls, _primitive, own, _cumulative, _callers) in stats.stats.items():
        path = filename.split("site-packages/", 1)[-1]
        parts = path.replace(str(Path(__file__).resolve().parents[1]) + "/", "").split("/")
        by_package["/".join(parts[:3] if parts[0] == "django" else parts[:2]) if len(parts) > 1 else path] += own
    for package, own in by_package.most_common(25):
        print(f"    {own / requests * 1000:6.3f} ms  {package}")


def _server_cpu(connection) -> float:
    """CPU seconds of this connection's PostgreSQL backend (a local server: its /proc entry)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _verbs(queries) -> Counter:
    return Counter(query["sql"].split(None, 1)[0].upper() for query in queries)


if __name__ == "__main__":
    main(sys.argv[1:])
