"""Webhook signatures against vectors made by the platform's own signing code
(apps.notifications.messages.webhook_signature; tests/sdk/test_signature_vectors.py keeps them in step)."""

import json
from pathlib import Path

import pytest
from hitlplatform_client import InvalidSignature, parse_event, verify_signature
from hitlplatform_client.webhooks import sign

VECTORS = json.loads((Path(__file__).parent / "signature_vectors.json").read_text())


@pytest.mark.parametrize("vector", VECTORS, ids=lambda vector: vector["secret"])
def test_the_platforms_signatures_verify(vector):
    verify_signature(vector["secret"], vector["header"], vector["body"].encode(), now=vector["timestamp"])
    assert sign(vector["secret"], vector["body"], vector["timestamp"]) == vector["header"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda vector: vector["secret"])
def test_a_changed_body_or_secret_fails(vector):
    with pytest.raises(InvalidSignature):
        verify_signature(vector["secret"], vector["header"], vector["body"] + " ", now=vector["timestamp"])
    with pytest.raises(InvalidSignature):
        verify_signature("wrong", vector["header"], vector["body"], now=vector["timestamp"])


def test_an_old_signature_is_refused_outside_the_tolerance():
    vector = VECTORS[0]
    with pytest.raises(InvalidSignature, match="tolerance"):
        verify_signature(vector["secret"], vector["header"], vector["body"], now=vector["timestamp"] + 301)
    verify_signature(vector["secret"], vector["header"], vector["body"], now=vector["timestamp"] + 299)


def test_rotation_several_v1_values_and_several_secrets():
    vector = VECTORS[0]
    header = vector["header"].replace("t=", "t=").replace(",v1=", ",v1=" + "0" * 64 + ",v1=")
    verify_signature(vector["secret"], header, vector["body"], now=vector["timestamp"])
    verify_signature(["old-secret", vector["secret"]], vector["header"], vector["body"], now=vector["timestamp"])


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=notanumber,v1=abc", "t=1"])
def test_malformed_headers_are_refused(header):
    with pytest.raises(InvalidSignature):
        verify_signature("s", header, b"{}", now=1)


def test_parse_event_gives_a_typed_proposal(proposal_json):
    body = json.dumps({"id": "e1", "type": "proposal.decided", "proposal": proposal_json(status="approved")})
    event = parse_event(body.encode())
    assert event.type == "proposal.decided"
    assert event.proposal.is_approved and event.proposal.payload["order_id"] == "A-1"
