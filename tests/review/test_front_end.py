"""Front end rules: no CDN (CSP), htmx served by the app, a language switcher, translatable pages."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_pages_forbid_other_origins_with_a_content_security_policy(reviewer_web, crm_change):
    response = reviewer_web.get(reverse("review:detail", args=[crm_change.pk]))

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self';" in policy
    assert "unsafe-inline" not in policy


def test_every_script_and_stylesheet_is_served_by_the_app(reviewer_web, crm_change):
    body = reviewer_web.get(reverse("review:detail", args=[crm_change.pk])).content.decode()

    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', body)
    assert "/static/vendor/htmx.min.js" in sources
    assert all(source.startswith("/static/") for source in sources), sources
    assert "<script>" not in body and " style=" not in body


def test_htmx_ships_with_the_app():
    path = finders.find("vendor/htmx.min.js")

    assert path is not None
    with open(path, encoding="utf-8") as script:
        assert "htmx" in script.read(200)


def test_the_language_switcher_changes_the_language(reviewer_web):
    response = reviewer_web.post(reverse("set_language"), {"language": "de", "next": "/review/"}, follow=True)

    assert '<html lang="de">' in response.content.decode()


def test_the_login_page_renders_for_anonymous_users(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert 'for="id_username"' in response.content.decode()
