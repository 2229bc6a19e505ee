"""Payload versions: a SHA-256 of the RFC 8785 canonical JSON, so equal payloads share a version."""

import hashlib

import rfc8785
from django.conf import settings


def payload_version(payload) -> str:
    return hashlib.sha256(rfc8785.dumps(payload)).hexdigest()


def payload_size(payload) -> int:
    return len(rfc8785.dumps(payload))


def payload_too_large(payload) -> bool:
    return payload_size(payload) > settings.PROPOSAL_MAX_PAYLOAD_BYTES
