"""The authorization matrix (issue 12, acceptance): every API endpoint x every identity, against
objects that belong to someone else, with the expected status in the table below. No 5xx anywhere.

Identities: no credentials, a garbage token, the agent that owns the objects, another agent, a
suspended agent, a reviewer of the objects' queues, a reviewer of another queue, a senior reviewer,
a compliance officer, an admin, and the user who owns the agent. Each request runs in a savepoint
that is rolled back, so every cell sees the same world.
"""

import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.test import APIClient

from apps.audit.services import audit_checkpoint_create
from apps.insights.services import qa_assign
from apps.proposals.models import Decision
from tests.conftest import proposal_body

pytestmark = pytest.mark.django_db

IDENTITIES = (
    "none", "garbage", "agent", "other_agent", "suspended_agent",
    "reviewer", "other_queue", "senior", "officer", "admin", "owner",
)  # fmt: skip
AGENTS = ("agent", "other_agent", "suspended_agent")
USERS = ("reviewer", "other_queue", "senior", "officer", "admin", "owner")


def expect(default: int, **cells: int) -> dict[str, int]:
    """The row of one endpoint: `default` for every identity not named; no credentials are 401."""
    row = dict.fromkeys(IDENTITIES, default)
    row.update(none=401, garbage=401)
    row.update(cells)
    return row


def officers(ok: int = 200, **cells) -> dict[str, int]:
    return expect(403, officer=ok, admin=ok, **cells)


# Targets: {pending} is the agent's pending refund in the finance queue (two approvals needed, one
# given), {sampled} its sampled support reply awaiting post-action review, {qa} a QA assignment of
# the finance decision; 999999 ids exist nowhere.
MATRIX = [
    ("GET", "/api/v1/proposals/", None, expect(200)),
    ("POST", "/api/v1/proposals/", "submission", expect(403, agent=201, other_agent=201)),
    ("GET", "/api/v1/proposals/{pending}/", None,
     expect(200, other_agent=404, suspended_agent=404, other_queue=404)),
    ("GET", "/api/v1/proposals/{pending}/wait/?timeout=0", None,
     expect(200, other_agent=404, suspended_agent=404, other_queue=404)),
    ("GET", "/api/v1/proposals/999999/", None, expect(404)),
    ("POST", "/api/v1/proposals/{pending}/cancel/", {}, expect(403, agent=200, other_agent=404, suspended_agent=404)),
    ("POST", "/api/v1/proposals/{pending}/execution/", {"status": "succeeded", "detail": {}},
     expect(403, agent=409, other_agent=404, suspended_agent=404)),
    ("POST", "/api/v1/proposals/{pending}/decisions/", "approval",
     expect(403, reviewer=201, senior=201, other_queue=404)),
    ("POST", "/api/v1/proposals/{sampled}/review/", "confirmation",
     expect(403, reviewer=200, other_queue=404, senior=404)),
    ("POST", "/api/v1/policies/simulate/", "submission", expect(403, agent=200, other_agent=200, admin=200)),
    ("GET", "/api/v1/audit/events/", None, officers()),
    ("GET", "/api/v1/audit/events/1/proof/", None, officers()),
    ("POST", "/api/v1/audit/events/1/redact/", {"reason": "matrix"}, expect(403, admin=201)),
    ("GET", "/api/v1/audit/verify/", None, officers()),
    ("GET", "/api/v1/audit/checkpoints/", None, officers()),
    ("GET", "/api/v1/audit/checkpoints/latest/", None, expect(200)),
    ("GET", "/api/v1/audit/checkpoints/consistency/?first=1&second=1", None, officers()),
    ("GET", "/api/v1/reports/", None, officers()),
    ("POST", "/api/v1/reports/", {"period_start": "2026-01-01", "period_end": "2026-01-31"}, officers(202)),
    ("GET", "/api/v1/reports/999999/", None, officers(404)),
    ("GET", "/api/v1/reports/999999/download/", None, officers(404)),
    ("GET", "/api/v1/exports/decisions.csv?period_start=2026-01-01&period_end=2026-01-31", None, officers()),
    ("GET", "/api/v1/exports/decisions.jsonl?period_start=2026-01-01&period_end=2026-01-31", None, officers()),
    ("GET", "/api/v1/exports/audit.jsonl?period_start=2026-01-01&period_end=2026-01-31", None, officers()),
    ("GET", "/api/v1/insights/figures/", None, officers()),
    ("GET", "/api/v1/insights/recommendations/", None, officers()),
    # accepting and activating are for admins only, checked before the lookup
    ("POST", "/api/v1/insights/recommendations/999999/accept/", {}, expect(403, admin=404)),
    ("POST", "/api/v1/insights/recommendations/999999/activate/", {}, expect(403, admin=404)),
    ("POST", "/api/v1/insights/recommendations/999999/dismiss/", {"note": "x"}, officers(404)),
    ("GET", "/api/v1/insights/qa/", None, officers()),
    ("POST", "/api/v1/insights/qa/", "qa_request", officers(409)),
    ("GET", "/api/v1/insights/qa/open/", None, expect(403, senior=200)),
    ("GET", "/api/v1/insights/qa/agreement/", None, officers()),
    ("GET", "/api/v1/insights/qa/{qa}/review/", None, expect(403, senior=200)),
    ("POST", "/api/v1/insights/qa/{qa}/review/", "qa_review", expect(403, senior=200)),
    ("GET", "/api/v1/insights/corrections/", None, officers()),
    # the reviewer workflow (issue 16): a revision needs a changes_requested proposal of one's own
    ("POST", "/api/v1/proposals/{pending}/revisions/", "submission",
     expect(403, agent=409, other_agent=404, suspended_agent=404)),
    ("POST", "/api/v1/proposals/{pending}/claim/", {},
     expect(403, reviewer=200, senior=200, other_queue=404)),
    # nobody holds a claim here: releasing is a no-op for whoever sees the proposal
    ("DELETE", "/api/v1/proposals/{pending}/claim/", None,
     expect(403, reviewer=200, senior=200, officer=200, admin=200, owner=200, other_queue=404)),
    ("POST", "/api/v1/proposals/{pending}/reassign/", {"queue": "finance-senior", "note": "matrix"},
     expect(403, senior=200, admin=200)),
    # the agents' events (issue 14); the stream is checked against a live server in tests/waits
    ("GET", "/api/v1/events/?timeout=0", None, expect(403, agent=200, other_agent=200, suspended_agent=200)),
    # the control matrix (issue 18)
    ("GET", "/api/v1/compliance/controls/?period_start=2026-01-01&period_end=2026-01-31", None, officers()),
]  # fmt: skip


def bodies(stage):
    password = stage["password"]
    return {
        "submission": proposal_body(external_id="matrix"),
        "approval": {"verdict": "approve", "rationale": "matrix check", "password": password},
        "confirmation": {"verdict": "confirm", "rationale": "matrix check", "password": password},
        "qa_request": {"decision": stage["decision"].pk},
        "qa_review": {"verdict": "approve", "rationale": "matrix check", "password": password},
    }


@pytest.fixture
def matrix_stage(stage):
    decision = Decision.objects.get(proposal=stage["proposals"]["foreign"])
    audit_checkpoint_create()
    officer = get_user_model().objects.get(username="officer")
    stage["decision"] = decision
    stage["qa"] = qa_assign(decision_id=decision.pk, actor=officer)
    return stage


def call(stage, identity, method, path, body):
    client = APIClient()
    if identity == "garbage":
        client.credentials(HTTP_AUTHORIZATION="Bearer hitl_ak_garbagegarbage_0123456789abcdef")
    elif identity != "none":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {stage['keys'][identity]}")
    path = path.format(
        pending=stage["proposals"]["pending"].pk,
        sampled=stage["proposals"]["sampled"].pk,
        qa=stage["qa"].pk,
    )
    if isinstance(body, str):
        body = bodies(stage)[body]
    with transaction.atomic():
        response = client.generic(method, path, data=_json(body), content_type="application/json")
        transaction.set_rollback(True)
    return response


def _json(body) -> str:
    return json.dumps(body) if body is not None else ""


def test_every_endpoint_answers_every_identity_as_the_table_says(matrix_stage, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a report request is queued, not generated inline
    settings.CELERY_BROKER_URL = "memory://"
    mismatches, server_errors = [], []
    for method, path, body, row in MATRIX:
        for identity in IDENTITIES:
            status = call(matrix_stage, identity, method, path, body).status_code
            if status >= 500:
                server_errors.append(f"{method} {path} as {identity}: {status}")
            if status != row[identity]:
                mismatches.append(f"{method} {path} as {identity}: {status}, expected {row[identity]}")
    assert server_errors == []
    assert mismatches == [], "\n".join(mismatches)


def test_the_table_covers_every_api_route():
    from django.urls import get_resolver

    def routes(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern)

    # the docs, and the event stream (it never ends; tests/waits/test_events_stream_api.py covers it live)
    documented = {"api/v1/schema/", "api/v1/docs/", "api/v1/redoc/", "api/v1/events/stream/"}
    api_routes = {route for route in routes(get_resolver().url_patterns) if route.startswith("api/v1/")} - documented
    covered = {path.split("?")[0] for _method, path, _body, _row in MATRIX}

    def matches(route: str) -> bool:
        pattern = "^/" + re.sub(r"<[^>]+>", "[^/]+", route) + "$"
        return any(re.match(pattern, path) for path in covered)

    assert sorted(route for route in api_routes if not matches(route)) == []
