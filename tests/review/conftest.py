"""Fixtures of the reviewer web app: signed-in browsers (Django's test client) and proposals to decide."""

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    # No collectstatic manifest in tests; the hashed-name storage is for production.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _empty_cache():
    from django.core.cache import cache

    cache.clear()  # the queue's filter menus are cached per set of queues


@pytest.fixture
def web_client_for():
    def make(user):
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def reviewer_web(web_client_for, reviewer):
    return web_client_for(reviewer)


@pytest.fixture
def refund(submit):
    """Pending in the finance queue, needing two approvals."""
    return submit(blast_radius=5, summary="Refund order A-1 twice over")


@pytest.fixture
def crm_change(submit):
    """Pending in the support queue, one approval decides it."""
    return submit(
        action_type="crm.update",
        payload={"customer": "C-7", "email": "new@example.com", "tags": ["vip"]},
        summary="Update the e-mail of C-7",
    )


def signed_post(client, url, data, *, username=None, password="correct-horse-battery-staple"):
    body = {"password": password, **data}
    if username:
        body["username"] = username
    return client.post(url, body)


def payload_fields(client, proposal, **values) -> dict:
    """The modify editor's form data for the given payload values, by key (PostgreSQL's jsonb
    does not keep the key order, so the field names are read from the page's form)."""
    from django.urls import reverse

    form = client.get(reverse("review:detail", args=[proposal.pk])).context["form"]
    return {name: values[key] for name, key, _as_json in form.payload_fields}
