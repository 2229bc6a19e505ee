"""Control matrix benchmark: every control's evidence for a 30-day period of 100k and 1M decisions.

Each size gets a fresh database seeded like bench_reports' (N pre-approval proposals with one
signed decision each, N/4 autonomous and N/10 post-review proposals, one audit event per
decision in a valid chain, verified and checkpointed), by INSERT ... SELECT (see _phase_seed). Then, in a fresh process, the
baseline of the same run: the report's executive summary of the period (`report_summary`, the
grouped scan every report already pays); then `controls_evaluate` of the period (what the API,
the page and the PDF call). Goal: < 10 s at 1M decisions. Wall and CPU time of this process are
printed: on SQLite the database works inside it, so on a busy machine the CPU time is what a
quiet one would take; on PostgreSQL the server's work is in the wall time only. SQLite always; PostgreSQL too when
BENCH_PG_SERVER (or a postgres DATABASE_URL) names a reachable server.

    .venv/bin/python -m benchmarks controls
    BENCH_CONTROLS_SIZES=10000,100000 .venv/bin/python -m benchmarks controls   # smaller
"""

import os
import tempfile
import time
from pathlib import Path

from benchmarks.databases import bench_environment, migrate, postgres_database, postgres_server, reviewers_create
from benchmarks.phases import is_phase_process, run_phase, serve_phase

SIZES = [int(size) for size in os.environ.get("BENCH_CONTROLS_SIZES", "100000,1000000").split(",") if size]
PERIOD_DAYS = 30
GOAL_SECONDS = 10


def main() -> None:
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
    migrate(environment)
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
    return bench_environment(database_url, MEDIA_ROOT=f"{folder}/media", LOG_LEVEL="ERROR")


def _phase(environment: dict, *arguments: str) -> dict:
    return run_phase(__file__, environment, *arguments)


# --- phases, each in a process of its own --------------------------------------------------------


def _phase_seed(size: str) -> dict:
    """N pre-approval proposals with one decision each, N/4 autonomous and N/10 post-review ones,
    inserted by the database itself (INSERT ... SELECT over a generated series: a Python object
    per row would take most of an hour at 1M on a shared machine), then N audit events in a valid
    chain (bench_audit's generator), a checkpoint, and the full verification the nightly task
    would record (from the chain head the generator built, instead of re-hashing N events)."""
    import json as json_module
    from datetime import UTC, datetime, timedelta

    from django.db import connection, transaction

    from apps.agents.models import Agent
    from apps.audit.models import ChainHead, VerificationRun
    from apps.audit.services import audit_checkpoint_create
    from apps.proposals.models import Proposal
    from benchmarks.bench_audit import _phase_generate

    started = time.perf_counter()
    decisions = int(size)
    reviewers = reviewers_create(8)
    agents = [Agent.objects.create(name=f"agent-{index}") for index in range(5)]
    period_end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    period_start = period_end - timedelta(days=PERIOD_DAYS - 1)
    sql = _SeedSql(connection.vendor, period_start, span=(PERIOD_DAYS - 1) * 86400)
    with transaction.atomic(), connection.cursor() as cursor:
        for mode, count in (
            ("pre_approval", decisions),
            ("autonomous", decisions // 4),
            ("post_review", decisions // 10),
        ):
            cursor.execute(sql.proposals(mode, count, first_agent=agents[0].pk))
        cursor.execute(sql.decisions(first_reviewer=reviewers[0].pk))
        cursor.execute(sql.post_reviews())
    _phase_generate(str(decisions))  # one audit event per decision, a valid chain
    head = ChainHead.objects.get(pk=1)
    now = datetime.now(UTC)
    VerificationRun.objects.create(
        kind=VerificationRun.Kind.FULL,
        started_at=now,
        finished_at=now,
        ok=True,
        events_checked=head.seq,
        head_seq=head.seq,
        head_hash=head.hash,
        frontier=head.frontier or json_module.dumps([]),
    )
    audit_checkpoint_create()
    return {"seconds": time.perf_counter() - started, "proposals": Proposal.objects.count(), "events": head.seq}


class _SeedSql:
    """The seed's INSERT ... SELECT statements for SQLite or PostgreSQL (constants only)."""

    def __init__(self, vendor: str, period_start, *, span: int):
        self.postgres = vendor == "postgresql"
        self.start = period_start.strftime("%Y-%m-%d %H:%M:%S")
        self.span = span

    def proposals(self, mode: str, count: int, *, first_agent: int) -> str:
        pre = mode == "pre_approval"
        created = self._moment("(i * 7919) % " + str(self.span))
        decided = self._moment(f"(i * 7919) % {self.span} + 30 + (i * 31) % 7170")
        status = "CASE WHEN i % 20 < 15 THEN 'approved' ELSE 'rejected' END" if pre else "'approved'"
        approved_by = "CASE WHEN i % 20 < 15 THEN 'human' ELSE '' END" if pre else "'policy'"
        json = "::jsonb" if self.postgres else ""
        revised = f"CASE WHEN i % 20 = 14 THEN '{{\"n\": -1}}'{json} ELSE NULL END" if pre else "NULL"
        due = self._moment(f"(i * 7919) % {self.span} + 3600") if pre else "NULL"
        false = "FALSE" if self.postgres else "0"
        return f"""
            INSERT INTO proposals_proposal (
                external_id, action_type, payload, revised_payload, payload_version, summary, reasoning,
                evidence, confidence, irreversible, blast_radius, compliance_exposure, expected_impact,
                callback_url, status, mode, approved_by, approvals_required, routing, escalation_level,
                sla_due_at, created_at, decided_at, execution_status, agent_id, approved_on_expiry, instructions,
                revision)
            WITH RECURSIVE series(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM series WHERE i < {count})
            SELECT '', CASE i % 4 WHEN 0 THEN 'payments.refund' WHEN 1 THEN 'crm.update'
                       WHEN 2 THEN 'support.reply' ELSE 'contracts.amend' END,
                   '{{"n": 1}}', {revised}, '{"0" * 64}', 'a proposal', 'checked against the policy',
                   '[]', (i % 1000) / 1000.0, {false}, 1, 'low', '', '', {status}, '{mode}', {approved_by}, 1,
                   '{{"reason": "rule"}}', 0, {due}, {created}, {decided}, '', {first_agent} + i % 5, {false}, '', 0
            FROM series"""

    def decisions(self, *, first_reviewer: int) -> str:
        verdict = (
            "CASE WHEN status = 'rejected' THEN 'reject' WHEN revised_payload IS NULL THEN 'approve' ELSE 'modify' END"
        )
        meaning = (
            "CASE WHEN status = 'rejected' THEN 'rejected' WHEN revised_payload IS NULL THEN 'approved' "
            "ELSE 'approved with modifications' END"
        )
        return f"""
            INSERT INTO proposals_decision (
                verdict, rationale, payload, payload_version, escalation_level, signer_name, signature_meaning,
                signed_at, reviewer_id, proposal_id, instructions)
            SELECT {verdict}, 'checked against the policy', revised_payload, payload_version, 0,
                   'Rev Iewer ' || (id % 8), {meaning}, decided_at, {first_reviewer} + id % 8, id, ''
            FROM proposals_proposal WHERE mode = 'pre_approval'"""

    def post_reviews(self) -> str:
        state = "CASE id % 10 WHEN 0 THEN 'confirmed' WHEN 1 THEN 'flagged' ELSE 'not_sampled' END"
        return f"""
            INSERT INTO proposals_postactionreview (
                state, draw, sample_rate, sampled_by, escalation_level, created_at, verdict, rationale,
                signer_name, signature_meaning, proposal_id)
            SELECT {state}, (id % 100) / 100.0, 0.2, '', 0, created_at, '', '', '', '', id
            FROM proposals_proposal WHERE mode = 'post_review'"""

    def _moment(self, seconds: str) -> str:
        if self.postgres:
            return f"(TIMESTAMPTZ '{self.start}+00' + ({seconds}) * INTERVAL '1 second')"
        return f"strftime('%Y-%m-%d %H:%M:%f', '{self.start}', '+' || ({seconds}) || ' seconds')"


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
    if is_phase_process():
        serve_phase(PHASES)
    else:
        main()
