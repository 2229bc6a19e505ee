"""Schemathesis against a live server (issue 12, acceptance): every operation of the published
OpenAPI schema, as an agent, a reviewer and a compliance officer, a bounded number of generated
examples each. No server errors, and every response conforms to the schema (status codes, content
types, headers, bodies). SCHEMATHESIS_MAX_EXAMPLES sets the examples per operation."""

import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

pytestmark = [pytest.mark.slow]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "6"))
IDENTITIES = ("agent", "reviewer", "officer")
# The checks that judge the server. positive_data_acceptance / negative_data_rejection judge the schema
# as a complete validator (a valid-looking decision on a proposal in the wrong state is a correct 409);
# ignored_auth and use_after_free need stateful links the schema does not declare.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]
# Long polls wait for their timeout; two examples are enough to cover them.
SLOW_OPERATIONS = ("/wait/", "/events/")


def test_the_api_keeps_its_schema_and_never_fails(stage, live_server):
    body = requests.get(f"{live_server.url}/api/v1/schema/?format=json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(body)
    failures = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.endswith("/events/stream/"):
            continue  # a stream never ends by design; tests/waits/test_events_stream_api.py checks it live
        operations += 1
        examples = 2 if any(part in operation.path for part in SLOW_OPERATIONS) else MAX_EXAMPLES

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def probe(case):
            for identity in IDENTITIES:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {stage['keys'][identity]}"}
                response = case.call(base_url=live_server.url, timeout=90)
                case.validate_response(response, checks=CHECKS)

        try:
            probe()
        except BaseException as failure:
            if isinstance(failure, KeyboardInterrupt):
                raise
            failures.append(f"{operation.label}: {failure}"[:3000])
    assert operations > 20
    assert failures == [], "\n\n".join(failures)
