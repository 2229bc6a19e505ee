"""/healthz, /readyz and /metrics (DESIGN.md, Operations)."""

import re

import pytest

from apps.audit.services import audit_checkpoint_create
from tests.project.outage import database_unreachable
from tests.requirements import require_url

pytestmark = pytest.mark.django_db


def sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name)}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} missing"
    return float(match.group(1))


def test_healthz_answers_without_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_readyz_is_ready_when_database_and_broker_answer(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = require_url("HITL_TEST_REDIS_URL", "redis broker")
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


def test_readyz_names_an_unreachable_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    settings.READYZ_BROKER_TIMEOUT_SECONDS = 0.5
    response = client.get("/readyz")
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    body = response.json()
    assert list(body["error"]["fields"]) == ["broker"] and body["checks"]["database"] == "ok"


@pytest.mark.django_db(transaction=True)
def test_readyz_names_an_unreachable_database(client):
    with database_unreachable():
        response = client.get("/readyz")
        metrics = client.get("/metrics")
    assert response.status_code == 503
    assert "database" in response.json()["error"]["fields"]
    assert metrics.status_code == 200 and sample(metrics.content.decode(), "hitl_metrics_database_up") == 0


def test_metrics_need_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token").status_code == 200


def test_metrics_show_work_webhooks_and_the_audit_chain(client, agent_client, submit, settings):
    settings.METRICS_TOKEN = ""
    submit(blast_radius=5)
    submit(blast_radius=5, external_id="second")
    audit_checkpoint_create()
    agent_client.get("/api/v1/proposals/")
    # when
    response = client.get("/metrics")
    # then
    text = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert sample(text, "hitl_metrics_database_up") == 1
    assert sample(text, "hitl_proposals_pending", '{queue="finance"}') == 2
    assert sample(text, "hitl_proposals_sla_breached", '{queue="finance"}') == 0
    assert sample(text, "hitl_oldest_pending_age_seconds", '{queue="finance"}') >= 0
    assert sample(text, "hitl_audit_chain_length") > 0
    assert 0 <= sample(text, "hitl_audit_last_checkpoint_age_seconds") < 60
    assert sample(text, "hitl_audit_last_full_verification_ok") == -1
    assert sample(text, "hitl_outbox_dead_letters") == 0
    assert "hitl_webhook_deliveries" in text
    assert sample(text, "hitl_http_requests_total", '{method="GET",route="api/v1/proposals/",status="200"}') >= 1
    assert "hitl_http_request_duration_seconds_bucket" in text
