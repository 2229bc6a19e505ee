"""Fixtures of the audit tests: a known signing key, chains of events, and tampering."""

import pytest
from django.db import connection

from apps.audit import immutability
from apps.audit.services import audit_record

TEST_SIGNING_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"  # RFC 8032 test 1


@pytest.fixture(autouse=True)
def _audit_signing_key(settings):
    settings.AUDIT_SIGNING_KEY = TEST_SIGNING_SEED


@pytest.fixture
def record_events(db):
    """Append `count` events about refunds; returns them."""

    def record(count: int, **fields):
        return [
            audit_record(
                action=fields.get("action", "proposal.submitted"),
                object_type="proposals.proposal",
                object_id=str(number),
                data=fields.get("data", {"order": f"A-{number}", "amount": "500.00", "confidence": 0.8}),
            )
            for number in range(count)
        ]

    return record


@pytest.fixture
def tamper(db):
    """Run raw SQL statements against the audit tables with the append-only triggers lifted."""

    def run(*statements, params=()):
        with immutability.suspended(connection), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement, params if "%s" in statement else None)

    return run


@pytest.fixture(params=["in one pass", "in segments"])
def either_walk(request, settings):
    """Verify in one pass, or in 3 segments of at least 2 events (walked one after the other here:
    the test's transaction cannot be shared with other processes), which must tell the same."""
    if request.param == "in segments":
        settings.AUDIT_VERIFY_PROCESSES, settings.AUDIT_VERIFY_MIN_SEGMENT = 3, 2
    else:
        settings.AUDIT_VERIFY_PROCESSES = 1
    return request.param
