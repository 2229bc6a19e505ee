"""Offline fixtures: a scripted platform behind httpx's MockTransport."""

import json

import httpx
import pytest
from hitlplatform_client import AsyncHitlClient, HitlClient

BASE = "http://hitl.test"


def proposal_json(**overrides):
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


def error_json(status, code, message="no", fields=None):
    return {"error": {"status": status, "code": code, "message": message, "fields": fields or {}}}


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


def require(module: str):
    """A framework's module, or a skip naming the extra (a failure where HITL_REQUIRE_SERVICES=1, as in CI)."""
    import importlib
    import os

    try:
        return importlib.import_module(module)
    except ImportError as error:
        reason = f"{module} is not installed (pip install -e 'sdk/python[all]'): {error}"
        if os.environ.get("HITL_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
