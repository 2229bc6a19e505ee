import pytest
from rest_framework.test import APIClient

from apps.accounts.services import token_create, token_revoke
from apps.agents.services import agent_key_rotate

pytestmark = pytest.mark.django_db


def test_missing_credentials_get_401():
    response = APIClient().get("/api/v1/proposals/")
    assert response.status_code == 401
    assert response.json()["error"]["status"] == 401
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer hitl_ak_000000000000_wrong", "Bearer hitl_ut_abc_def"])
def test_unknown_credentials_get_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/proposals/").status_code == 401


def test_a_rotated_agent_key_stops_working(agent, agent_client, agent_and_key):
    assert agent_client.get("/api/v1/proposals/").status_code == 200
    new_key = agent_key_rotate(agent=agent)
    assert agent_client.get("/api/v1/proposals/").status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {new_key}")
    assert client.get("/api/v1/proposals/").status_code == 200


def test_a_user_token_authenticates_until_revoked(reviewer):
    token, key = token_create(user=reviewer, name="ci")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/proposals/").status_code == 200
    token_revoke(token=token, actor=reviewer)
    assert client.get("/api/v1/proposals/").status_code == 401
