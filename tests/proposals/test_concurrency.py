"""Eight processes submitting and deciding at once on PostgreSQL: one chain, one effective decision;
eight reviewers claiming one proposal at once: one claim."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.models import Count

from apps.audit.models import AuditEvent
from apps.proposals.events import ProposalEvents
from apps.proposals.models import Decision, Proposal
from apps.proposals.services import proposal_claim
from hitlplatform.errors import Conflict
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8


@pytest.mark.django_db(transaction=True)
def test_eight_processes_leave_a_valid_chain_and_one_decision_each(submit, password):
    if connection.vendor != "postgresql":
        pytest.skip("multi-process concurrency runs in the PostgreSQL pass (DATABASE_URL=postgres://...)")
    # given: proposals needing one approval, and eight reviewers of their queue
    shared = [submit(action_type="crm.update", payload={"shared": n}).pk for n in range(40)]
    reviewers = [
        UserFactory(username=f"racer{n}", role="reviewer", queues=["support"]).username for n in range(PROCESSES)
    ]
    agent_id = Proposal.objects.get(pk=shared[0]).agent_id
    database = connection.settings_dict
    env = os.environ | {
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}",
    }

    # when
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "tests/proposals/concurrent_reviewer.py",
                username,
                str(agent_id),
                ",".join(map(str, shared)),
                "10",
                password,
            ],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for username in reviewers
    ]
    for worker in workers:
        _out, errors = worker.communicate(timeout=300)
        assert worker.returncode == 0, errors

    # then
    per_proposal = Decision.objects.filter(proposal_id__in=shared).values("proposal").annotate(n=Count("id"))
    assert {row["n"] for row in per_proposal} == {1}
    assert Proposal.objects.filter(pk__in=shared, status="pending").count() == 0
    assert Proposal.objects.filter(action_type="crm.update").count() == len(shared) + PROCESSES * 10
    call_command("verify_audit")  # raises SystemExit(1) on a broken chain


@pytest.mark.django_db(transaction=True)
def test_eight_reviewers_claiming_at_once_one_wins(submit):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent claims need separate connections racing on one row: the PostgreSQL pass")
    # given: a pending proposal and eight reviewers of its queue, each on its own connection
    proposal = submit(action_type="crm.update", payload={"contested": True})
    reviewers = [UserFactory(username=f"claimer{n}", role="reviewer", queues=["support"]) for n in range(PROCESSES)]
    start = threading.Barrier(PROCESSES)
    outcomes = {}

    def race(reviewer):
        try:
            start.wait()
            proposal_claim(proposal_id=proposal.pk, reviewer=reviewer)
            outcomes[reviewer.username] = "won"
        except Conflict as refused:
            outcomes[reviewer.username] = refused.code
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=race, args=(reviewer,)) for reviewer in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then
    winners = [name for name, outcome in outcomes.items() if outcome == "won"]
    assert len(outcomes) == PROCESSES and len(winners) == 1, outcomes
    assert set(outcomes.values()) == {"won", "claimed"}
    assert Proposal.objects.get(pk=proposal.pk).claimed_by.username == winners[0]
    assert AuditEvent.objects.filter(action=ProposalEvents.CLAIMED).count() == 1
    call_command("verify_audit")
