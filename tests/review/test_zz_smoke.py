import pytest
from django.urls import reverse
pytestmark = pytest.mark.django_db

def test_smoke(reviewer_web, refund, crm_change, reviewer):
    r = reviewer_web.get(reverse("review:queue"))
    assert r.status_code == 200, r.content[:2000]
    print(r.content.decode()[:200])
    r = reviewer_web.get(reverse("review:detail", args=[refund.pk]))
    assert r.status_code == 200
    r = reviewer_web.post(reverse("review:detail", args=[crm_change.pk]), {"verdict": "approve", "rationale": "ok fine", "password": "correct-horse-battery-staple", "username": "reviewer", "payload_version_seen": crm_change.payload_version})
    assert r.status_code == 302, r.content.decode()
    r = reviewer_web.get(reverse("review:history")); assert r.status_code == 200
    r = reviewer_web.get(reverse("review:profile")); assert r.status_code == 200
    r = reviewer_web.get(reverse("review:queue")+"?tab=post"); assert r.status_code == 200
    from django.test import Client
    r = Client().get(reverse("login")); assert r.status_code == 200
