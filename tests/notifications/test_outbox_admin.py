"""The outbox in the admin: messages with their delivery attempts, and a resend action."""

import pytest
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.notifications.models import Channel, DeliveryAttempt, OutboxMessage
from apps.proposals.services import proposal_decide

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_webhook(submit, reviewer, password):
    change = submit(action_type="crm.update")
    proposal_decide(proposal_id=change.pk, reviewer=reviewer, verdict="reject", rationale="no", password=password)
    message = OutboxMessage.objects.get(proposal=change, channel=Channel.WEBHOOK)
    OutboxMessage.objects.filter(pk=message.pk).update(state="dead", attempts=1)
    DeliveryAttempt.objects.create(
        message=message,
        number=1,
        started_at=timezone.now(),
        succeeded=False,
        status_code=503,
        error="HTTP 503: maintenance",
    )
    return message


def test_the_admin_shows_a_message_with_its_attempts(client, admin, dead_webhook):
    client.force_login(admin)

    page = client.get(f"/admin/notifications/outboxmessage/{dead_webhook.pk}/change/")

    assert page.status_code == 200
    assert b"HTTP 503: maintenance" in page.content


def test_resend_puts_a_dead_message_back_in_the_outbox_and_audits_it(
    client, admin, dead_webhook, django_capture_on_commit_callbacks
):
    client.force_login(admin)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            "/admin/notifications/outboxmessage/", {"action": "resend", "_selected_action": [str(dead_webhook.pk)]}
        )

    assert response.status_code == 302
    dead_webhook.refresh_from_db()
    assert dead_webhook.state == "pending" and dead_webhook.give_up_at > timezone.now()
    assert len(callbacks) == 1
    resent = AuditEvent.objects.get(action="notification.resent", object_id=str(dead_webhook.pk))
    assert resent.actor_id == str(admin.pk)


def test_a_reviewer_cannot_see_the_outbox(client, reviewer, dead_webhook):
    client.force_login(reviewer)
    response = client.get("/admin/notifications/outboxmessage/")
    assert response.status_code in (302, 403)
