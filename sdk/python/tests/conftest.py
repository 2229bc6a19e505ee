"""Offline fixtures: a scripted platform behind httpx's MockTransport, the platform's answers, and
`require_module` for the framework extras.

This suite is the SDK's own: it imports nothing of the server's `tests` package, and its modules get
what they share from here as fixtures (never `from conftest import ...`, which works only while
pytest puts this folder on sys.path).
"""

import importlib
import json
import os

import httpx
import pytest
from hitlplatform_client import AsyncHitlClient, HitlClient

BASE = "http://hitl.test"


@pytest.fixture
def proposal_json():
    """`proposal_json(**fields)`: a proposal as the platform answers it (pending, unless `fields` say otherwise)."""
    return _proposal_json


@pytest.fixture
def error_json():
    """`error_json(status, code, message, fields)`: the platform's one error shape."""
    return _error_json


@pytest.fixture
def sent_back(proposal_json):
    """Proposal 3, which a reviewer sent back with instructions (`changes_requested`)."""
    return proposal_json(
        id=3,
        status="changes_requested",
        instructions="Refund the shipping only (4.90).",
        decisions=[{"id": 1, "verdict": "request_changes", "rationale": "Too much.", "reviewer": "rita"}],
    )


@pytest.fixture
def require_module():
    """`require_module(name)`: the optional module `name` (a framework of an extra), or a skip naming
    it; a failure where HITL_REQUIRE_SERVICES=1 (CI and `make test-all`, where every extra installs),
    the same rule as the server suite's tests/requirements.py."""
    return _require_module


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def client_with(sleeps):
    def make(*answers, **options):
        script = Script(*answers)
        client = HitlClient(BASE, "agent-key", transport=httpx.MockTransport(script), **options)
        client._sleep = sleeps.append
        return client, script

    return make


@pytest.fixture
def async_client_with(sleeps):
    def make(*answers, **options):
        script = Script(*answers)

        async def record(seconds):
            sleeps.append(seconds)

        client = AsyncHitlClient(BASE, "agent-key", transport=httpx.MockTransport(script), **options)
        client._sleep = record
        return client, script

    return make


class Script:
    """Answers requests from a list of (status, body, headers) and records every request."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        status, body, *rest = answer
        headers = rest[0] if rest else {}
        return httpx.Response(status, json=body, headers=headers)

    def bodies(self):
        return [json.loads(request.content) if request.content else None for request in self.requests]


def _proposal_json(**overrides):
    body = {
        "id": 1,
        "status": "pending",
        "mode": "pre_approval",
        "agent": "refund-bot",
        "action_type": "payments.refund",
        "payload": {"order_id": "A-1", "amount": "10.00"},
        "final_payload": None,
        "modified": False,
        "approved_by": "",
        "approvals_required": 1,
        "decisions": [],
        "policy_rule": "refunds",
        "policy_version": 1,
        "routing": {},
        "queue": "finance",
        "escalation_level": 0,
        "sla_due_at": "2026-01-01T00:30:00Z",
        "created_at": "2026-01-01T00:00:00Z",
        "decided_at": None,
        "execution": None,
        "review": None,
        "summary": "",
        "reasoning": "",
        "evidence": [],
        "confidence": 0.5,
        "irreversible": False,
        "blast_radius": 0,
        "compliance_exposure": "none",
        "external_id": "",
    }
    body.update(overrides)
    return body


def _error_json(status, code, message="no", fields=None):
    return {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}


def _require_module(name: str):
    try:
        return importlib.import_module(name)
    except ImportError as error:
        reason = f"{name} is not installed (pip install -e 'sdk/python[all]'): {error}"
        if os.environ.get("HITL_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (HITL_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
