"""The SDK's models and request bodies against the live OpenAPI schema (/api/v1/schema/).

Every property the platform documents is a declared field of the SDK's model, with a compatible type
and nullability, and every field the SDK declares is documented; every body the SDK sends uses only
documented fields; every path it calls exists.
"""

import types
import typing
from datetime import datetime

import httpx
import pytest

from tests.requirements import require_module

pytestmark = pytest.mark.django_db(transaction=True)

JSON_TYPES = {"integer": {int}, "number": {float, int}, "string": {str, datetime}, "boolean": {bool}, "array": {list}}


@pytest.fixture(scope="module")
def schema(live_server, django_db_setup, django_db_blocker):
    """The schema, fetched once for the module: it is the same for every test. The database is set up and
    open to the live server while it answers, as a test's own `transactional_db` would leave it."""
    require_module("hitlplatform_client")
    with django_db_blocker.unblock():
        response = httpx.get(f"{live_server.url}/api/v1/schema/", params={"format": "json"}, timeout=30)
    response.raise_for_status()
    return response.json()


def component(schema, name):
    return schema["components"]["schemas"][name]


def resolve(schema, prop):
    if "$ref" in prop:
        return component(schema, prop["$ref"].rsplit("/", 1)[-1])
    if "allOf" in prop and len(prop["allOf"]) == 1:
        return {**resolve(schema, prop["allOf"][0]), **{k: v for k, v in prop.items() if k != "allOf"}}
    return prop


def python_types(annotation):
    """The concrete types a field accepts, None included."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return set().union(*(python_types(arg) for arg in typing.get_args(annotation)))
    if annotation is type(None):
        return {type(None)}
    if origin is not None:
        return {origin}
    return {annotation}


def assert_model_matches(schema, model, component_name):
    documented = component(schema, component_name)["properties"]
    declared = model.model_fields
    undeclared = sorted(set(documented) - set(declared))
    assert not undeclared, (
        f"{component_name} documents fields the SDK's {model.__name__} does not declare: {undeclared}"
    )
    for name, field in declared.items():
        assert name in documented, f"{model.__name__}.{name} is not in the schema's {component_name}"
        prop = resolve(schema, documented[name])
        accepted = python_types(field.annotation)
        if prop.get("nullable"):
            assert type(None) in accepted, f"{component_name}.{name} may be null; {model.__name__}.{name} refuses None"
        json_type = prop.get("type")
        if json_type in JSON_TYPES:
            assert accepted & JSON_TYPES[json_type], f"{model.__name__}.{name}: {accepted} vs {json_type}"
        elif json_type == "object":
            assert accepted - {type(None)} <= {dict} or any(
                isinstance(t, type) and hasattr(t, "model_fields") for t in accepted
            )


def test_the_models_declare_every_documented_field(schema):
    from hitlplatform_client.models import Decision, Proposal, ProposalPage, Simulation

    assert_model_matches(schema, Proposal, "ProposalOutput")
    assert_model_matches(schema, Decision, "DecisionOutput")
    assert_model_matches(schema, Simulation, "Simulation")
    assert_model_matches(schema, ProposalPage, "PaginatedProposalOutputList")


def test_the_bodies_use_only_documented_fields(schema):
    from hitlplatform_client._http import submission_body

    body = submission_body(
        action_type="x.y",
        payload={},
        confidence=0.5,
        summary="",
        reasoning="",
        evidence=[],
        irreversible=False,
        blast_radius=0,
        compliance_exposure="none",
        expected_impact="",
        external_id="",
        callback_url="",
    )
    assert set(body) == set(component(schema, "ProposalInputRequest")["properties"])
    decision = set(component(schema, "DecisionCreateInputRequest")["properties"])
    assert {"verdict", "rationale", "password", "payload", "payload_version"} <= decision
    assert {"status", "detail"} == set(component(schema, "ProposalExecutionInputRequest")["properties"])
    assert {"reason"} == set(component(schema, "ProposalCancelInputRequest")["properties"])


def test_request_changes_carries_instructions(schema):
    assert "request_changes" in component(schema, "VerdictEnum")["enum"]
    assert "instructions" in component(schema, "ProposalOutput")["properties"]


def test_every_path_the_sdk_calls_exists(schema):
    from hitlplatform_client._http import Calls

    calls = Calls(30.0)
    sent = [
        calls.submit({}, None),
        calls.get(1),
        calls.list({}),
        calls.wait(1, 1),
        calls.cancel(1, ""),
        calls.execution(1, "succeeded", None),
        calls.decide(1, {}),
        calls.simulate({}),
        calls.revise(1, {}, None),
        calls.events(None, 0),
    ]
    paths = {"/api/v1/" + call.path.replace("/1/", "/{id}/") for call in sent} | {"/api/v1/events/stream/"}
    missing = sorted(path for path in paths if path not in schema["paths"])
    assert not missing
