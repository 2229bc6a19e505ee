"""Sign-in, sign-out, lockout, idle timeout and password change, each audited."""

import time

import pytest
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.review.middleware import LAST_ACTIVITY_KEY
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


def actions():
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


def test_signing_in_lands_on_the_queue_and_is_audited(client, reviewer):
    response = client.post(LOGIN, {"username": "reviewer", "password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == "/review/"
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor_id == str(reviewer.pk)


def test_a_failed_sign_in_is_audited_without_the_password(client, reviewer):
    response = client.post(LOGIN, {"username": "reviewer", "password": "guess-1"})

    assert response.status_code == 200 and "Please enter a correct username and password" in response.content.decode()
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert "guess-1" not in event.data_record.canonical_data
    assert '"username":"reviewer"' in event.data_record.canonical_data


def test_five_failures_lock_the_account_and_the_lockout_is_audited(client, reviewer):
    # when
    for attempt in range(5):
        client.post(LOGIN, {"username": "reviewer", "password": f"guess-{attempt}"})
    locked = client.post(LOGIN, {"username": "reviewer", "password": PASSWORD})
    # then
    assert locked.status_code == 429 and "Sign-in locked" in locked.content.decode()
    assert "auth.locked_out" in actions()
    assert "auth.login" not in actions()


def test_signing_out_is_audited(client, reviewer):
    client.post(LOGIN, {"username": "reviewer", "password": PASSWORD})

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert actions()[-1] == "auth.logout"
    assert client.get(reverse("review:queue")).status_code == 302


def test_an_idle_session_times_out(client, reviewer, settings):
    # given
    settings.SESSION_IDLE_TIMEOUT = 60
    client.post(LOGIN, {"username": "reviewer", "password": PASSWORD})
    assert client.get(reverse("review:queue")).status_code == 200
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - 61
    session.save()
    # when
    response = client.get(reverse("review:queue"))
    # then
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert client.get(reverse("review:queue")).status_code == 302  # signed out, not just redirected
    assert actions()[-1] == "auth.logout"


def test_an_idle_htmx_request_is_sent_to_the_login_page(client, reviewer, settings):
    settings.SESSION_IDLE_TIMEOUT = 60
    client.post(LOGIN, {"username": "reviewer", "password": PASSWORD})
    client.get(reverse("review:queue"))
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - 61
    session.save()

    response = client.get(reverse("review:queue"), HTTP_HX_REQUEST="true")

    assert response["HX-Redirect"].startswith(LOGIN)


def test_an_active_session_stays_signed_in(client, reviewer, settings):
    settings.SESSION_IDLE_TIMEOUT = 60
    client.post(LOGIN, {"username": "reviewer", "password": PASSWORD})
    session = client.session
    session[LAST_ACTIVITY_KEY] = int(time.time()) - 30
    session.save()

    assert client.get(reverse("review:queue")).status_code == 200


def test_changing_the_password_is_audited(client, reviewer):
    client.post(LOGIN, {"username": "reviewer", "password": PASSWORD})

    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-42",
            "new_password2": "a-new-long-passphrase-42",
        },
    )

    assert response.status_code == 302
    reviewer.refresh_from_db()
    assert reviewer.check_password("a-new-long-passphrase-42")
    assert "auth.password_changed" in actions()
    assert client.get(reverse("review:queue")).status_code == 200  # this session stays signed in
    assert Client().post(LOGIN, {"username": "reviewer", "password": PASSWORD}).status_code == 200  # old one refused


def test_each_role_lands_on_its_own_area_after_signing_in(client, reviewer, compliance_officer):
    for user, start in ((reviewer, "/review/"), (compliance_officer, "/compliance/")):
        client.logout()
        response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
        assert response.status_code == 302 and response["Location"] == start
