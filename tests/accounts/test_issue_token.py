"""`issue_token`: an API token for a user who already exists, e.g. a demo user of `make run`."""

import json

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _issue(capsys, username):
    call_command("issue_token", username, "--json")
    return json.loads(capsys.readouterr().out)


def test_an_existing_user_gets_a_working_token_and_the_issue_is_audited(capsys, reviewer, policy):
    # when a token is issued to the existing reviewer
    result = _issue(capsys, "reviewer")

    # then it authenticates as that reviewer on the API, and the audit trail records it
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {result['token']}")
    assert client.get("/api/v1/proposals/").status_code == 200
    assert result["username"] == "reviewer" and result["token"].startswith("hitl_ut_")
    event = AuditEvent.objects.get(action="token.created")
    assert json.loads(event.data_record.canonical_data) == {"user": "reviewer", "prefix": result["prefix"]}


def test_a_second_issue_gives_another_token_and_the_first_keeps_working(capsys, reviewer, policy):
    first, second = _issue(capsys, "reviewer"), _issue(capsys, "reviewer")

    assert first["token"] != second["token"]
    for result in (first, second):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {result['token']}")
        assert client.get("/api/v1/proposals/").status_code == 200


def test_an_unknown_or_inactive_user_gets_nothing(reviewer):
    reviewer.is_active = False
    reviewer.save(update_fields=["is_active"])
    before = AuditEvent.objects.count()

    for username in ("nobody", "reviewer"):
        with pytest.raises(CommandError):
            call_command("issue_token", username)

    assert not reviewer.api_tokens.exists()
    assert AuditEvent.objects.count() == before
