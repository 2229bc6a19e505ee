"""The smaller hardening points of issue 12: JSON 404s under /api/, strict paging, no-store, request
ids and tracebacks in the logs, 503 for an unavailable database, what suspension stops."""

import io
import json
import logging

import pytest
import structlog
from django.conf import settings
from django.db import OperationalError
from django.test import Client

from apps.agents.services import agent_suspend
from apps.proposals.models import Status
from hitlplatform.api.errors import exception_handler
from tests.conftest import proposal_body
from tests.project.outage import database_unreachable

pytestmark = pytest.mark.django_db


def error_of(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"status", "code", "message", "fields"} and error["status"] == status
    return error


@pytest.mark.parametrize("path", ["/api/v1/nope/", "/api/v1/proposals/1/nope/", "/api/v2/proposals/"])
def test_unmatched_api_paths_answer_the_json_404(agent_client, path):
    error_of(agent_client.get(path), 404)


def test_unmatched_web_paths_stay_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "query, field", [("page=0", "page"), ("page=-1", "page"), ("page=abc", "page"), ("page=²", "page"),
                     ("page_size=-5", "page_size"), ("page_size=0", "page_size"), ("page_size=9999", "page_size"),
                     ("page_size=x", "page_size")]
)  # fmt: skip
def test_bad_page_parameters_are_400(agent_client, policy, query, field):
    error = error_of(agent_client.get(f"/api/v1/proposals/?{query}"), 400)
    assert field in error["fields"]


def test_good_page_parameters_still_page(agent_client, submit):
    for number in range(3):
        submit(external_id=f"x-{number}")
    response = agent_client.get("/api/v1/proposals/?page=2&page_size=2")
    assert response.status_code == 200 and len(response.json()["results"]) == 1
    error_of(agent_client.get("/api/v1/proposals/?page=9"), 404)


def test_api_responses_and_signed_in_pages_are_not_stored(agent_client, reviewer, policy):
    assert "no-store" in agent_client.get("/api/v1/proposals/")["Cache-Control"]
    assert "no-store" in Client().get("/api/v1/proposals/")["Cache-Control"]  # the 401 too
    web = Client()
    web.force_login(reviewer)
    assert "no-store" in web.get("/review/")["Cache-Control"]


def test_every_response_has_a_request_id_and_a_proxys_is_kept(agent_client, policy):
    generated = agent_client.get("/api/v1/proposals/")["X-Request-ID"]
    assert len(generated) == 32
    kept = agent_client.get("/api/v1/proposals/", HTTP_X_REQUEST_ID="edge-1234-abcd")
    assert kept["X-Request-ID"] == "edge-1234-abcd"
    forged = agent_client.get("/api/v1/proposals/", HTTP_X_REQUEST_ID='x"\n{"level":"info"}')
    assert forged["X-Request-ID"] != 'x"\n{"level":"info"}'


@pytest.fixture
def json_log():
    """The project's JSON formatter on a buffer, attached to the root logger."""
    options = {key: value for key, value in settings.LOGGING["formatters"]["structured"].items() if key != "()"}
    options["processors"] = [*options["processors"][:-1], structlog.processors.JSONRenderer()]
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(**options))
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]
    root.removeHandler(handler)


def test_log_lines_carry_the_request_id_and_real_tracebacks(agent_client, json_log):
    response = agent_client.get("/api/v1/nope/")
    lines = [line for line in json_log() if line.get("logger") == "django.request"]
    assert lines and all(line["request_id"] == response["X-Request-ID"] for line in lines)

    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        logging.getLogger("hitlplatform.test").exception("boom")
    line = next(line for line in json_log() if line["event"] == "boom")
    assert "Traceback (most recent call last)" in line["exception"] and "ZeroDivisionError" in line["exception"]


def test_an_unavailable_database_is_a_503_with_retry_after_in_the_api():
    response = exception_handler(OperationalError("connection refused"), {})
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert response.data["error"]["code"] == "unavailable"


@pytest.mark.django_db(transaction=True)
def test_a_database_that_refuses_connections_is_a_503_not_a_500(agent_client, policy, reviewer):
    web = Client(raise_request_exception=False)
    web.force_login(reviewer)
    with database_unreachable():
        api = agent_client.get("/api/v1/proposals/")
        page = web.get("/review/")
    error = error_of(api, 503)
    assert error["code"] == "unavailable" and int(api["Retry-After"]) > 0
    assert page.status_code == 503 and int(page["Retry-After"]) > 0


def test_suspension_stops_new_work_but_not_withdrawing_or_reporting(agent, agent_client, submit, admin, world_state):
    pending = submit(blast_radius=5)
    executed = submit(payload={"order": "A-2", "amount": "1.00"}, confidence=0.95)  # autonomous: approved
    agent_suspend(agent=agent, reason="incident 7", actor=admin)
    before = world_state()
    # new work: refused with 403, nothing written
    simulate = agent_client.post("/api/v1/policies/simulate/", proposal_body(), format="json")
    assert error_of(simulate, 403)["code"] == "agent_suspended"
    submit_response = agent_client.post("/api/v1/proposals/", proposal_body(), format="json")
    assert error_of(submit_response, 403)["code"] == "agent_suspended"
    assert world_state() == before
    # withdrawing a pending proposal and reporting what already ran stay possible
    cancel = agent_client.post(f"/api/v1/proposals/{pending.pk}/cancel/", {"reason": "suspended"}, format="json")
    assert cancel.status_code == 200 and cancel.json()["status"] == Status.CANCELLED
    report = agent_client.post(
        f"/api/v1/proposals/{executed.pk}/execution/", {"status": "succeeded", "detail": {}}, format="json"
    )
    assert report.status_code == 200
