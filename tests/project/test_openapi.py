"""The API documents itself: OpenAPI 3 schema, Swagger UI and Redoc served without any CDN."""

import re

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_is_openapi_3_with_every_endpoint_and_examples(client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for path in (
        "/api/v1/proposals/",
        "/api/v1/proposals/{id}/",
        "/api/v1/proposals/{id}/wait/",
        "/api/v1/proposals/{id}/cancel/",
        "/api/v1/proposals/{id}/execution/",
        "/api/v1/proposals/{id}/decisions/",
        "/api/v1/proposals/{id}/review/",
        "/api/v1/policies/simulate/",
        "/api/v1/audit/events/",
        "/api/v1/audit/verify/",
    ):
        assert path in paths, path
    submit = schema["paths"]["/api/v1/proposals/"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["examples"]
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("url", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_load_their_assets_from_this_server(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    external = [src for src in re.findall(r'(?:src|href)="([^"]+)"', html) if src.startswith(("http:", "https:", "//"))]
    assert external == []
    assert "/static/drf_spectacular_sidecar/" in html
