"""Signature safeguards (21 CFR 11.300(d)): failed signatures are counted per user across the API and
the web app, lock signing after SIGNATURE_FAILURE_LIMIT, answer 429 with Retry-After, are audited and
reported to the admins and compliance officers; a good signature resets the count."""

import json
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.accounts.models import SigningAttempts
from apps.audit.models import AuditEvent
from apps.notifications.models import EventType, OutboxMessage
from apps.proposals.models import Decision, Proposal, Status
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.SIGNATURE_FAILURE_LIMIT = 3
    settings.SIGNATURE_COOLOFF_MINUTES = 30


@pytest.fixture
def refund(submit):
    return submit(blast_radius=5)


@pytest.fixture
def overseers(admin, compliance_officer):
    admin.email, compliance_officer.email = "admin@example.org", "compliance@example.org"
    admin.save()
    compliance_officer.save()
    return admin, compliance_officer


def decide_api(client, proposal, password):
    return client.post(
        f"/api/v1/proposals/{proposal.pk}/decisions/",
        {"verdict": "approve", "rationale": "checked", "password": password},
        format="json",
    )


def test_wrong_signatures_lock_signing_with_429_audit_and_alert(client_for, reviewer, refund, overseers):
    client = client_for(reviewer)
    # when: two wrong guesses, then the third reaches the limit
    for _attempt in range(2):
        response = decide_api(client, refund, "guess")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "signature_invalid"
    locking = decide_api(client, refund, "guess")
    # then: the third locks signing
    assert locking.status_code == 429
    assert locking.json()["error"]["code"] == "signing_locked"
    assert set(locking.json()["error"]) == {"status", "code", "message", "fields"}
    assert 1700 < int(locking["Retry-After"]) <= 1800
    # and even the right password is refused while the lock lasts, unchecked
    right = decide_api(client, refund, PASSWORD)
    assert right.status_code == 429 and int(right["Retry-After"]) > 0
    assert Decision.objects.count() == 0
    assert Proposal.objects.get(pk=refund.pk).status == Status.PENDING
    assert not AuditEvent.objects.filter(action="decision.recorded").exists()
    failed = AuditEvent.objects.filter(action="auth.signature_failed")
    assert failed.count() == 4 and {event.actor_id for event in failed} == {str(reviewer.pk)}
    assert AuditEvent.objects.filter(action="auth.signing_locked", object_id=str(reviewer.pk)).count() == 1
    alert = OutboxMessage.objects.get(event_type=EventType.SIGNING_LOCKED)
    assert alert.target.split("\n") == ["admin@example.org", "compliance@example.org"]
    assert "reviewer" in alert.subject


def test_the_count_is_shared_by_the_api_and_the_web_form(client_for, reviewer, refund):
    decide_api(client_for(reviewer), refund, "guess")
    decide_api(client_for(reviewer), refund, "guess")
    web = Client()
    web.force_login(reviewer)
    # when: the third wrong signature comes through the web form
    response = web.post(
        reverse("review:detail", args=[refund.pk]),
        {
            "verdict": "approve",
            "rationale": "checked",
            "password": "guess",
            "username": "reviewer",
            "payload_version_seen": refund.payload_version,
        },
    )
    # then
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert decide_api(client_for(reviewer), refund, PASSWORD).status_code == 429
    assert Decision.objects.count() == 0


def test_a_good_signature_resets_the_count(client_for, reviewer, refund):
    client = client_for(reviewer)
    decide_api(client, refund, "guess")
    decide_api(client, refund, "guess")
    assert decide_api(client, refund, PASSWORD).status_code == 201
    assert SigningAttempts.objects.get(user=reviewer).failures == 0
    # two more mistakes do not lock (the count started again)
    for _attempt in range(2):
        assert decide_api(client, refund, "guess").status_code == 400
    assert SigningAttempts.objects.get(user=reviewer).locked_until is None


def test_attempts_in_flight_at_the_limit_ask_for_a_moment_not_the_cooloff(client_for, reviewer, refund):
    # Three signatures of the reviewer's are being checked (reserved, not yet failed): no lock is in force.
    SigningAttempts.objects.create(user=reviewer, failures=3)

    response = decide_api(client_for(reviewer), refund, PASSWORD)

    assert response.status_code == 429 and response.json()["error"]["code"] == "signing_busy"
    assert response["Retry-After"] == "1"
    assert SigningAttempts.objects.get(user=reviewer).locked_until is None
    assert not Decision.objects.filter(proposal=refund).exists()
    refused = AuditEvent.objects.filter(action="auth.signature_failed").latest("seq")
    assert json.loads(refused.data_record.canonical_data)["reason"] == "too_many_at_once"


def test_the_lock_ends_after_the_cooloff(client_for, reviewer, refund):
    client = client_for(reviewer)
    for _attempt in range(3):
        decide_api(client, refund, "guess")
    SigningAttempts.objects.filter(user=reviewer).update(
        locked_until=timezone.now() - timedelta(seconds=1), last_failure_at=timezone.now() - timedelta(hours=1)
    )
    assert decide_api(client, refund, PASSWORD).status_code == 201


def test_post_action_review_signatures_count_too(client_for, reviewer, submit, agent):
    from apps.proposals.services import proposal_report_execution

    reply = submit(action_type="support.reply", payload={"text": "hi"})
    proposal_report_execution(proposal_id=reply.pk, agent=agent, status="succeeded", detail={})
    client = client_for(reviewer)
    statuses = [
        client.post(
            f"/api/v1/proposals/{reply.pk}/review/",
            {"verdict": "confirm", "rationale": "fine", "password": "guess"},
            format="json",
        ).status_code
        for _attempt in range(4)
    ]
    assert statuses == [400, 400, 429, 429]
    assert AuditEvent.objects.filter(action="auth.signing_locked").count() == 1
    assert not AuditEvent.objects.filter(action__in=["review.confirmed", "review.flagged"]).exists()


def test_a_user_locked_out_of_login_cannot_sign(client_for, reviewer, refund, settings):
    # given: django-axes has locked the username out of login
    AccessAttempt.objects.create(
        username="reviewer",
        ip_address="10.0.0.9",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        get_data="",
        post_data="",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
    )
    # when
    response = decide_api(client_for(reviewer), refund, PASSWORD)
    # then
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "signing_locked"
    assert int(response["Retry-After"]) > 0
    assert Decision.objects.count() == 0
