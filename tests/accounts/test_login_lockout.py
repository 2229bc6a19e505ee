"""The login lockout keys on username and address together, and the address comes from a configured,
trusted proxy header only (issue 12, scope 2)."""

import pytest
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")


def sign_in(username, password, **meta):
    return Client().post(LOGIN, {"username": username, "password": password}, **meta)


def lock(username, **meta):
    for attempt in range(5):
        sign_in(username, f"guess-{attempt}", **meta)


def test_one_users_failures_do_not_lock_others_behind_the_same_address(reviewer, second_reviewer):
    lock("reviewer", REMOTE_ADDR="10.0.0.7")
    assert sign_in("reviewer", PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 429
    # a colleague at the same address, and the same user elsewhere, still sign in
    assert sign_in("second_reviewer", PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 302
    assert sign_in("reviewer", PASSWORD, REMOTE_ADDR="10.0.0.8").status_code == 302


@pytest.fixture
def behind_proxy(settings):
    settings.CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.TRUSTED_PROXIES = ["10.0.0.1/32"]
    settings.CLIENT_IP_PROXY_COUNT = 1


def test_behind_the_trusted_proxy_the_forwarded_address_is_the_clients(behind_proxy, reviewer):
    via_proxy = {"REMOTE_ADDR": "10.0.0.1"}
    lock("reviewer", HTTP_X_FORWARDED_FOR="203.0.113.5", **via_proxy)
    assert sign_in("reviewer", PASSWORD, HTTP_X_FORWARDED_FOR="203.0.113.5", **via_proxy).status_code == 429
    # another client through the same proxy is not locked out with them
    assert sign_in("reviewer", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.9", **via_proxy).status_code == 302
    locked = AuditEvent.objects.filter(action="auth.locked_out").first()
    assert '"ip":"203.0.113.5"' in locked.data_record.canonical_data


def test_a_client_cannot_forge_its_address(behind_proxy, reviewer):
    # the right-most entry is what the trusted proxy saw; the client's own claim to the left is ignored
    lock("reviewer", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.5")
    forged = sign_in("reviewer", PASSWORD, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.5")
    assert forged.status_code == 429
    # a peer that is not the trusted proxy: its header is not believed at all
    direct = sign_in("reviewer", PASSWORD, REMOTE_ADDR="192.0.2.44", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert direct.status_code == 302
