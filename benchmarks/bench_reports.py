"""Compliance report benchmark: the signed PDF of a 30-day period of 10k, 100k and 1M decisions.

Each size gets a fresh SQLite database (in a temporary folder) seeded with bulk inserts: N
pre-approval proposals with one signed decision each, N/4 autonomous and N/10 post-review
proposals (with their sampling draws), and one audit event per decision in a valid chain that
was fully verified and checkpointed beforehand (as the nightly task would). Then the report
(figures, attachments, render, PAdES signature, storage) is generated in a fresh process, whose
wall time, CPU time and peak RSS are the figures (on a busy machine the CPU time is what a quiet
one would take). Baseline, same run: a plain WeasyPrint render of a fixed 500-row table, in a
process of its own. Goal: < 60 s and < 500 MB at 1M decisions. Then both JSONL exports of the
period are streamed and discarded in another process: their peak RSS shows constant memory.

    .venv/bin/python -m benchmarks reports
    BENCH_REPORT_SIZES=2000,10000 .venv/bin/python -m benchmarks reports   # smaller, a few minutes
"""

import os
import random
import resource
import tempfile
import time
from pathlib import Path

from benchmarks.databases import bench_environment, migrate, reviewers_create
from benchmarks.phases import is_phase_process, run_phase, serve_phase

SIZES = [int(size) for size in os.environ.get("BENCH_REPORT_SIZES", "10000,100000,1000000").split(",") if size]
PERIOD_DAYS = 30
BASELINE_ROWS = 500
GOAL_SECONDS, GOAL_MB = 60, 500
CHUNK = 20_000


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as folder:
        environment = _environment(folder, "baseline")
        baseline = _phase(environment, "baseline")
        print(
            f"baseline: plain WeasyPrint table of {BASELINE_ROWS} rows: {baseline['seconds']:.1f} s "
            f"(CPU {baseline['cpu_seconds']:.1f} s), peak RSS {baseline['rss_mb']:.0f} MB",
            flush=True,
        )
        for size in SIZES:
            environment = _environment(folder, f"db{size}")
            migrate(environment)
            seeded = _phase(environment, "seed", str(size))
            report = _phase(environment, "report")
            export = _phase(environment, "export")
            print(
                f"{size:>9,} decisions: streaming exports decisions.jsonl + audit.jsonl "
                f"({export['mb']:.0f} MB) in {export['seconds']:.1f} s, peak RSS {export['rss_mb']:.0f} MB",
                flush=True,
            )
            within = report["seconds"] < GOAL_SECONDS and report["rss_mb"] < GOAL_MB
            verdict = "OK" if within and report["status"] == "ready" else "NOT MET"
            print(
                f"{size:>9,} decisions ({seeded['proposals']:,} proposals, {seeded['events']:,} audit events, "
                f"seeded in {seeded['seconds']:.0f} s): report {report['seconds']:.1f} s, CPU {report['cpu_seconds']:.1f} s "
                f"({report['seconds'] / baseline['seconds']:.1f}x baseline), peak RSS {report['rss_mb']:.0f} MB "
                f"({report['rss_mb'] / baseline['rss_mb']:.1f}x baseline), PDF {report['pdf_mb']:.1f} MB, "
                f"status {report['status']} [{verdict}: < {GOAL_SECONDS} s, < {GOAL_MB} MB]",
                flush=True,
            )
            if report["status"] != "ready":
                print(f"    the report failed: {report['error']}", flush=True)
            Path(folder, f"db{size}.sqlite3").unlink(missing_ok=True)


def _environment(folder: str, name: str) -> dict:
    return bench_environment(
        f"sqlite:///{folder}/{name}.sqlite3",
        MEDIA_ROOT=f"{folder}/media",
        REPORT_DEV_SIGNING_DIR=f"{folder}/signing",
        LOG_LEVEL="ERROR",
    )


def _phase(environment: dict, *arguments: str) -> dict:
    return run_phase(__file__, environment, *arguments)


# --- phases, each in a process of its own --------------------------------------------------------


def _phase_baseline() -> dict:
    from weasyprint import HTML

    rows = "".join(
        f"<tr><td>{index}</td><td>2026-01-01 12:00</td><td>agent-{index % 7}</td><td>payments.refund</td>"
        f"<td>Reviewer {index % 13}</td><td>approve</td></tr>"
        for index in range(BASELINE_ROWS)
    )
    html = f"<table style='font:7pt DejaVu Sans;border-collapse:collapse'>{rows}</table>"
    started = time.perf_counter()
    HTML(string=html).write_pdf()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": time.perf_counter() - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "rss_mb": _peak_rss_mb(),
    }


def _phase_seed(size: str) -> dict:
    from datetime import UTC, datetime, timedelta

    from django.db import transaction

    from apps.agents.models import Agent
    from apps.audit.services import audit_checkpoint_create, audit_verification_record
    from apps.proposals.models import Decision, PostActionReview, Proposal
    from benchmarks.bench_audit import _phase_generate

    started = time.perf_counter()
    decisions = int(size)
    rng = random.Random(7)
    reviewers = reviewers_create(8)
    agents = [Agent.objects.create(name=f"agent-{index}") for index in range(5)]
    period_end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    period_start = period_end - timedelta(days=PERIOD_DAYS - 1)
    span = (PERIOD_DAYS - 1) * 86400
    action_types = ["payments.refund", "crm.update", "support.reply", "contracts.amend"]
    verdicts = (
        [("approve", "approved", "approved")] * 14
        + [("modify", "approved with modifications", "approved")]
        + [("reject", "rejected", "rejected")] * 5
    )
    created = 0
    with transaction.atomic():
        remaining = {"pre_approval": decisions, "autonomous": decisions // 4, "post_review": decisions // 10}
        for mode, count in remaining.items():
            while count:
                batch = min(count, CHUNK)
                count -= batch
                proposals, picks = [], []
                for _ in range(batch):
                    moment = period_start + timedelta(seconds=rng.randrange(span))
                    wait = timedelta(seconds=rng.randrange(30, 7200))
                    pick = rng.choice(verdicts) if mode == "pre_approval" else None
                    proposals.append(
                        Proposal(
                            agent=rng.choice(agents),
                            action_type=rng.choice(action_types),
                            payload={"n": created},
                            payload_version="0" * 64,
                            confidence=round(rng.random(), 3),
                            mode=mode,
                            status=pick[2] if pick else "approved",
                            approved_by="human" if pick and pick[2] == "approved" else ("" if pick else "policy"),
                            revised_payload={"n": -created} if pick and pick[0] == "modify" else None,
                            created_at=moment,
                            decided_at=moment + wait if pick else moment,
                            sla_due_at=moment + timedelta(hours=1) if pick else None,
                            routing={},
                        )
                    )
                    picks.append((pick, moment + wait))
                    created += 1
                Proposal.objects.bulk_create(proposals, batch_size=5000)
                if mode == "pre_approval":
                    Decision.objects.bulk_create(
                        [
                            Decision(
                                proposal=proposal,
                                reviewer=(reviewer := rng.choice(reviewers)),
                                verdict=pick[0],
                                rationale="checked against the policy",
                                payload_version="0" * 64,
                                signer_name=f"{reviewer.first_name} {reviewer.last_name}",
                                signature_meaning=pick[1],
                                signed_at=signed_at,
                            )
                            for proposal, (pick, signed_at) in zip(proposals, picks, strict=True)
                        ],
                        batch_size=5000,
                    )
                elif mode == "post_review":
                    PostActionReview.objects.bulk_create(
                        [
                            PostActionReview(
                                proposal=proposal,
                                state=rng.choice(["not_sampled"] * 8 + ["confirmed", "flagged"]),
                                draw=rng.random(),
                                sample_rate=0.2,
                            )
                            for proposal in proposals
                        ],
                        batch_size=5000,
                    )
    _phase_generate(str(decisions))  # one audit event per decision, a valid chain
    audit_checkpoint_create()
    audit_verification_record()
    return {"seconds": time.perf_counter() - started, "proposals": created, "events": decisions}


def _phase_report() -> dict:
    from datetime import UTC, datetime, timedelta

    from apps.reports.services import report_generate, report_request

    period_end = datetime.now(UTC).date()
    started = time.perf_counter()
    report = report_request(
        requested_by=None,
        period_start=period_end - timedelta(days=PERIOD_DAYS - 1),
        period_end=period_end,
        dispatch=False,
    )
    report = report_generate(report_id=report.pk)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "seconds": time.perf_counter() - started,
        # CPU time of the whole process (Django start-up included): on a busy machine the wall
        # time also counts the waits for a core, this does not.
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "rss_mb": _peak_rss_mb(),
        "status": report.status,
        "pdf_mb": (report.size or 0) / 1e6,
        "error": report.error,
    }


def _phase_export() -> dict:
    """Both JSONL exports of the period read as a client would, through the API's chunking."""
    from datetime import UTC, datetime, timedelta

    from apps.reports.apis import _chunked
    from apps.reports.attachments import audit_jsonl_lines, decision_jsonl_lines
    from apps.reports.selectors import report_scope_build

    period_end = datetime.now(UTC).date()
    scope = report_scope_build(period_start=period_end - timedelta(days=PERIOD_DAYS - 1), period_end=period_end)
    started = time.perf_counter()
    size = sum(
        len(chunk) for lines in (decision_jsonl_lines(scope), audit_jsonl_lines(scope)) for chunk in _chunked(lines)
    )
    return {"seconds": time.perf_counter() - started, "mb": size / 1e6, "rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


PHASES = {"baseline": _phase_baseline, "seed": _phase_seed, "report": _phase_report, "export": _phase_export}


if __name__ == "__main__":
    if is_phase_process():
        serve_phase(PHASES)
    else:
        main()
