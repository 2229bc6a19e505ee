import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from apps.accounts.models import Queue
from apps.accounts.selectors import REVIEW_QUEUE_PERMISSION, queues_reviewable_by, user_roles
from apps.audit.models import AuditEvent
from hitlplatform.credentials import credential_hash

pytestmark = pytest.mark.django_db


def test_create_user_with_queues_and_token(capsys):
    call_command(
        "create_user",
        "rita",
        "--password",
        "a-long-passphrase-1",
        "--role",
        "reviewer",
        "--queue",
        "finance",
        "--queue",
        "support",
        "--authorization-level",
        "3",
        "--token",
        "--json",
    )
    result = json.loads(capsys.readouterr().out)

    user = get_user_model().objects.get(pk=result["id"])
    assert result["username"] == "rita"
    assert user.check_password("a-long-passphrase-1")
    assert user_roles(user) == {"reviewer"}
    assert user.reviewer_profile.authorization_level == 3
    assert {queue.slug for queue in queues_reviewable_by(user)} == {"finance", "support"}
    assert user.has_perm(REVIEW_QUEUE_PERMISSION, Queue.objects.get(slug="finance"))
    assert user.api_tokens.get().key_hash == credential_hash(result["token"])
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"user.created", "role.granted", "queue.created", "permission.granted", "token.created"} <= actions


def test_create_user_without_token_prints_null_token(capsys):
    call_command("create_user", "carl", "--password", "a-long-passphrase-1", "--role", "compliance_officer", "--json")
    assert json.loads(capsys.readouterr().out)["token"] is None


def test_create_user_refuses_a_weak_password_and_writes_nothing():
    with pytest.raises(CommandError):
        call_command("create_user", "weak", "--password", "123", "--role", "reviewer")
    assert not get_user_model().objects.filter(username="weak").exists()
    assert not AuditEvent.objects.exists()


def test_queue_permission_of_one_user_is_not_anothers(reviewer, outsider):
    assert queues_reviewable_by(outsider).count() == 0
    assert queues_reviewable_by(reviewer).count() == 2
