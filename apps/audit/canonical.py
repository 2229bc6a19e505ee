"""Canonical forms and hashes of the chain (RFC 8785 JSON, SHA-256).

`data` is canonicalized once, by the `rfc8785` package, when the event is written; the text
is stored and verification hashes those stored bytes again. The envelope and a checkpoint
hold only strings and integers under fixed keys, so their RFC 8785 form is written here
directly (sorted keys, no whitespace, the JSON string escapes RFC 8785 prescribes); it is
the same text `rfc8785.dumps` gives, which tests/audit/test_canonical.py checks, and it is
fast enough for verification at hundreds of thousands of events a second.
"""

import hashlib
from datetime import UTC, datetime
from json.encoder import encode_basestring

import rfc8785

_sha256 = hashlib.sha256
# RFC 8785 3.2.2.2 escapes '"', '\\' and U+0000..U+001F (\b \t \n \f \r short, the rest as \u00xx in
# lowercase hex) and writes every other character as itself: exactly the C string encoder of `json`
# with ensure_ascii=False (tests/audit/test_canonical.py checks this against rfc8785 with hypothesis).
json_string = encode_basestring


class NotCanonicalizable(ValueError):
    """A value outside RFC 8785's domain (an integer beyond 2**53 - 1, a non-finite float): bad input."""


def canonical_json(value) -> str:
    """The RFC 8785 canonical text of a JSON-able value (floats allowed)."""
    try:
        return rfc8785.dumps(value).decode("utf-8")
    except rfc8785.CanonicalizationError as error:
        raise NotCanonicalizable(f"not canonicalizable as RFC 8785 JSON: {error}") from error


def data_hash(salt_hex: str, canonical_data: str) -> str:
    """SHA-256(salt || canonical data bytes), as lowercase hex."""
    return _sha256(bytes.fromhex(salt_hex) + canonical_data.encode("utf-8")).hexdigest()


def format_timestamp(moment: datetime) -> str:
    """Microsecond ISO-8601 UTC: 2026-11-22T02:12:24.123456Z (a naive moment is taken as UTC)."""
    if moment.tzinfo is not None and moment.utcoffset():
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")[:26] + "Z"


def envelope_bytes(
    schema_version: int,
    seq: int,
    timestamp: str,
    actor_type: str,
    actor_id: str,
    action: str,
    object_type: str,
    object_id: str,
    data_hash: str,
    prev_hash: str,
) -> bytes:
    """RFC 8785 canonical JSON of the hashed envelope (keys in code-point order).

    Positional arguments are accepted so that verification, which calls it per event, is fast.
    """
    return (
        f'{{"action":{json_string(action)},"actor_id":{json_string(actor_id)},'
        f'"actor_type":{json_string(actor_type)},"data_hash":{json_string(data_hash)},'
        f'"object_id":{json_string(object_id)},"object_type":{json_string(object_type)},'
        f'"prev_hash":{json_string(prev_hash)},"schema_version":{int(schema_version)},'
        f'"seq":{int(seq)},"timestamp":{json_string(timestamp)}}}'
    ).encode()


def event_hash(**envelope) -> str:
    """SHA-256 of the canonical envelope, as lowercase hex."""
    return _sha256(envelope_bytes(**envelope)).hexdigest()


def checkpoint_message(*, tree_size: int, root_hash: str, timestamp: str) -> bytes:
    """The bytes a checkpoint signature covers: RFC 8785 JSON of its three fields."""
    return (
        f'{{"root_hash":{json_string(root_hash)},"timestamp":{json_string(timestamp)},"tree_size":{int(tree_size)}}}'
    ).encode()
