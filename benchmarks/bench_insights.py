"""Insights benchmark: the nightly computation (figures for 7/30/90 days, recommendations, the QA
draw) over N human decisions on PostgreSQL, against a baseline measured in the same run: a plain
COUNT(*) GROUP BY agent, action type, rule over the same proposals and decisions for each window.

    BENCH_INSIGHTS_DECISIONS=1000000 .venv/bin/python benchmarks/bench_insights.py   # goal < 60 s

N (BENCH_INSIGHTS_DECISIONS, default 1,000,000) decided pre-approval proposals with one decision
each, plus N/4 post-review proposals (10% of them reviewed), spread over 100 days, are seeded with
bulk_create (and a `proposal.viewed` event, through audit_record, for one decision in a hundred)
into a database of their own
(BENCH_INSIGHTS_DATABASE, default hitl_bench_insights, created and dropped on the server of
BENCH_PG_SERVER or DATABASE_URL, else postgres://postgres@127.0.0.1:5432). Each phase runs in a
fresh process. BENCH_INSIGHTS_KEEP=1 keeps the database afterwards.
"""

import os
import time

from benchmarks.databases import bench_environment, migrate, postgres_database, postgres_server_or_skip
from benchmarks.phases import is_phase_process, run_phase, serve_phase

DECISIONS = int(os.environ.get("BENCH_INSIGHTS_DECISIONS", "1000000"))
DATABASE = os.environ.get("BENCH_INSIGHTS_DATABASE", "hitl_bench_insights")
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
KEEP = os.environ.get("BENCH_INSIGHTS_KEEP") == "1"  # leave the seeded database for a look afterwards
GOAL_SECONDS = 60.0
BATCH = 10_000
DAYS = 100
AGENTS = 20
REVIEWERS = 60
VIEWED_EVERY = 100  # one decision in a hundred has its reviewer's `proposal.viewed` event
POLICY = """
rules:
  - {name: small-refunds, action_type: "payments.refund", when: {max_blast_radius: 1}, mode: autonomous, min_confidence: 0.9}
  - {name: refunds, action_type: "payments.*", mode: pre_approval, approvals_required: 2, queue: finance, sla: 30m}
  - {name: contracts, action_type: "contracts.*", mode: pre_approval, queue: legal, sla: 4h}
  - {name: crm, action_type: "crm.*", mode: pre_approval, queue: support, sla: 4h}
  - {name: replies, action_type: "support.reply", mode: post_review, sample_rate: 0.1, queue: support}
  - {name: notes, action_type: "support.note", mode: post_review, sample_rate: 0.1, queue: support}
"""
PRE_APPROVAL_TYPES = [
    ("payments.refund", "refunds"),
    ("contracts.renew", "contracts"),
    ("crm.update", "crm"),
    ("payments.payout", "refunds"),
]
POST_REVIEW_TYPES = [("support.reply", "replies"), ("support.note", "notes")]


def main() -> None:
    server = postgres_server_or_skip("bench_insights", default=DEFAULT_SERVER)
    if server is None:
        return
    with postgres_database(server, DATABASE, keep=KEEP) as url:
        environment = bench_environment(url)
        migrate(environment)
        started = time.perf_counter()
        seeded = _phase(environment, "seed", str(DECISIONS))
        print(
            f"insights: seeded {seeded['proposals']} proposals, {seeded['decisions']} decisions, "
            f"{seeded['views']} view events by bulk_create in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        baseline = _phase(environment, "baseline")
        nightly = _phase(environment, "nightly")
        print(
            f"  nightly computation over {seeded['decisions']} decisions: {nightly['seconds']:7.2f} s "
            f"(goal < {GOAL_SECONDS:.0f} s: {'met' if nightly['seconds'] < GOAL_SECONDS else 'NOT met'})\n"
            f"    figures 7/30/90 d {nightly['figures']:6.2f} s, recommendations {nightly['recommendations']:5.2f} s, "
            f"QA draw {nightly['qa']:5.2f} s; stored {nightly['result']['figure_sets']} figure sets, "
            f"{nightly['result']['recommendations']} recommendations, {nightly['result']['qa_assignments']} QA assignments\n"
            f"  baseline COUNT(*) GROUP BY over the same rows (3 windows): {baseline['seconds']:7.2f} s   "
            f"ratio {nightly['seconds'] / baseline['seconds']:6.1f}x the baseline",
            flush=True,
        )


def _phase(environment: dict, *arguments: str) -> dict:
    return run_phase(__file__, environment, *arguments)


# --- phases, each in a process of its own ------------------------------------------------------


def _phase_seed(count: str) -> dict:
    import random
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection, transaction
    from django.utils import timezone

    from apps.agents.services import agent_create
    from apps.audit.services import audit_record
    from apps.policies.services import policy_load_yaml
    from apps.proposals.models import Decision, PostActionReview, Proposal

    random.seed(7)
    decisions = int(count)
    now = timezone.now()
    version = policy_load_yaml(text=POLICY, comment="bench", allow_unstaffed=True)  # its reviewers come next
    rules = {rule.name: rule for rule in version.rules.all()}
    agents = [agent_create(name=f"bench-agent-{number}")[0] for number in range(AGENTS)]
    password = make_password("bench-pass-2024")
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"bench-reviewer-{number}", password=password) for number in range(REVIEWERS)
    )
    Group.objects.get_or_create(name="reviewer")[0].user_set.add(*users)
    payload = {"order": "A-1", "amount": "49.90", "currency": "EUR"}
    revised = {"order": "A-1", "amount": "25.00", "currency": "EUR"}
    version_hash = "0" * 64
    totals = {"proposals": 0, "decisions": 0, "views": 0}

    def outcome():
        draw = random.random()
        if draw < 0.85:
            return "approved", "approve"
        if draw < 0.90:
            return "approved", "modify"
        if draw < 0.97:
            return "rejected", "reject"
        return "expired", None

    remaining = decisions
    while remaining > 0:
        size = min(BATCH, remaining)
        with transaction.atomic():
            proposals = []
            for _ in range(size):
                action_type, rule_name = random.choice(PRE_APPROVAL_TYPES)
                created_at = now - timedelta(seconds=random.uniform(0, DAYS * 86400))
                status, verdict = outcome()
                rule = rules[rule_name]
                proposal = Proposal(
                    agent=random.choice(agents),
                    action_type=action_type,
                    payload=payload,
                    revised_payload=revised if verdict == "modify" else None,
                    payload_version=version_hash,
                    confidence=random.betavariate(8, 2),
                    status=status,
                    mode="pre_approval",
                    approved_by="human" if status == "approved" else "",
                    approvals_required=rule.approvals_required,
                    policy_version=version,
                    policy_rule=rule,
                    created_at=created_at,
                    decided_at=created_at + timedelta(seconds=random.expovariate(1 / 900)),
                    sla_due_at=created_at + rule.sla,
                    irreversible=random.random() < 0.1,
                )
                proposal.bench_verdict = verdict
                proposals.append(proposal)
            Proposal.objects.bulk_create(proposals, batch_size=BATCH)
            picked = [(proposal, random.choice(users)) for proposal in proposals if proposal.bench_verdict]
            views = 0
            for proposal, reviewer in picked[::VIEWED_EVERY]:
                # through the one writer of the chain; the decision follows the view by 2 s to 5 min
                event = audit_record(action="proposal.viewed", actor=reviewer, obj=proposal)
                proposal.decided_at = event.timestamp + timedelta(seconds=random.choice((2, 30, 300)))
                views += 1
            Decision.objects.bulk_create(
                (
                    Decision(
                        proposal=proposal,
                        reviewer=reviewer,
                        verdict=proposal.bench_verdict,
                        rationale="checked",
                        payload_version=version_hash,
                        signer_name=reviewer.username,
                        signature_meaning="approved",
                        signed_at=proposal.decided_at,
                    )
                    for proposal, reviewer in picked
                ),
                batch_size=BATCH,
            )
            # a quarter as many post-review actions, a tenth of them reviewed
            executed = []
            for _ in range(size // 4):
                action_type, rule_name = random.choice(POST_REVIEW_TYPES)
                created_at = now - timedelta(seconds=random.uniform(0, DAYS * 86400))
                executed.append(
                    Proposal(
                        agent=random.choice(agents),
                        action_type=action_type,
                        payload=payload,
                        payload_version=version_hash,
                        confidence=random.random(),
                        status="approved",
                        mode="post_review",
                        approved_by="policy",
                        policy_version=version,
                        policy_rule=rules[rule_name],
                        created_at=created_at,
                        decided_at=created_at,
                        irreversible=random.random() < 0.05,
                    )
                )
            Proposal.objects.bulk_create(executed, batch_size=BATCH)
            PostActionReview.objects.bulk_create(
                (
                    PostActionReview(
                        proposal=proposal,
                        draw=random.random(),
                        sample_rate=0.1,
                        state=random.choice(("confirmed",) * 9 + ("flagged",)) if index % 10 == 0 else "not_sampled",
                        reviewed_at=proposal.created_at + timedelta(hours=2) if index % 10 == 0 else None,
                    )
                    for index, proposal in enumerate(executed)
                ),
                batch_size=BATCH,
            )
        totals["proposals"] += len(proposals) + len(executed)
        totals["decisions"] += len(picked)
        totals["views"] += views
        remaining -= len(picked)  # expired proposals have no decision: seed until N decisions exist
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE") if connection.vendor == "postgresql" else None
    return totals


def _phase_baseline() -> dict:
    from datetime import timedelta

    from django.db.models import Count
    from django.utils import timezone

    from apps.proposals.models import Decision, Proposal

    now = timezone.now()
    started = time.perf_counter()
    for days in (7, 30, 90):
        since = now - timedelta(days=days)
        list(
            Proposal.objects.filter(created_at__gte=since)
            .values("agent_id", "action_type", "policy_rule_id")
            .annotate(count=Count("id"))
            .order_by()
        )
        list(
            Decision.objects.filter(proposal__created_at__gte=since)
            .values("proposal__agent_id", "proposal__action_type", "proposal__policy_rule_id")
            .annotate(count=Count("id"))
            .order_by()
        )
    return {"seconds": time.perf_counter() - started}


def _phase_nightly() -> dict:
    from django.utils import timezone

    from apps.insights import services

    now = timezone.now()
    timings = {}
    started = time.perf_counter()
    stored = _timed(timings, "figures", services.figures_store, now=now)
    created = _timed(timings, "recommendations", services.recommendations_compute, now=now)
    assigned = _timed(timings, "qa", services.qa_assignments_sample, now=now)
    return {
        "seconds": time.perf_counter() - started,
        **timings,
        "result": {"figure_sets": stored, "recommendations": len(created), "qa_assignments": assigned},
    }


def _timed(timings: dict, name: str, function, **arguments):
    started = time.perf_counter()
    result = function(**arguments)
    timings[name] = time.perf_counter() - started
    return result


PHASES = {"seed": _phase_seed, "baseline": _phase_baseline, "nightly": _phase_nightly}

if __name__ == "__main__":
    if is_phase_process():
        serve_phase(PHASES)
    else:
        main()
