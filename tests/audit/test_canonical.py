"""The envelope and checkpoint texts are exactly RFC 8785, and data is hashed as stored."""

from datetime import UTC, datetime, timedelta, timezone

import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from apps.audit import canonical

text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=40)
hex64 = st.text(alphabet="0123456789abcdef", min_size=64, max_size=64)


@given(
    action=text,
    actor_id=text,
    object_type=text,
    object_id=text,
    data_hash=hex64,
    prev_hash=hex64,
    seq=st.integers(min_value=1, max_value=2**53 - 1),
    schema_version=st.integers(min_value=1, max_value=99),
)
def test_envelope_bytes_are_the_rfc8785_text(
    action, actor_id, object_type, object_id, data_hash, prev_hash, seq, schema_version
):
    # given
    envelope = {
        "schema_version": schema_version,
        "seq": seq,
        "timestamp": "2026-11-22T02:12:24.123456Z",
        "actor_type": "user",
        "actor_id": actor_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "data_hash": data_hash,
        "prev_hash": prev_hash,
    }
    # when / then
    assert canonical.envelope_bytes(**envelope) == rfc8785.dumps(envelope)


@given(tree_size=st.integers(min_value=1, max_value=2**53 - 1), root_hash=hex64)
def test_checkpoint_message_is_the_rfc8785_text(tree_size, root_hash):
    # given
    checkpoint = {"tree_size": tree_size, "root_hash": root_hash, "timestamp": "2026-11-22T02:12:24.000001Z"}
    # when / then
    assert canonical.checkpoint_message(**checkpoint) == rfc8785.dumps(checkpoint)


def test_timestamps_are_microsecond_utc_with_a_z():
    # given
    moment = datetime(2026, 11, 22, 3, 12, 24, tzinfo=timezone(timedelta(hours=1)))
    # when / then
    assert canonical.format_timestamp(moment) == "2026-11-22T02:12:24.000000Z"
    assert (
        canonical.format_timestamp(datetime(2026, 11, 22, 2, 12, 24, 123456, tzinfo=UTC))
        == "2026-11-22T02:12:24.123456Z"
    )
    assert canonical.format_timestamp(datetime(2026, 11, 22, 2, 12, 24, 5)) == "2026-11-22T02:12:24.000005Z"


def test_data_is_canonicalized_by_rfc8785_with_floats():
    # when
    text_of_data = canonical.canonical_json({"b": [1e21, 0.1, -0.0], "a": {"é": 1, "e": 2}})
    # then
    assert text_of_data == '{"a":{"e":2,"é":1},"b":[1e+21,0.1,0]}'


# Characters RFC 8785 treats specially (controls, quote, backslash, DEL, U+2028/9, BOM, noncharacters)
# and astral-plane ones (UTF-16 surrogate pairs in JavaScript, the reference of RFC 8785).
awkward_characters = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x20),
    st.sampled_from(['"', "\\", "/", "\x7f", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "é"]),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
    st.characters(exclude_categories=["Cs"]),
)


@given(st.text(alphabet=awkward_characters, max_size=60))
def test_json_string_is_the_rfc8785_form_of_any_string(value):
    # when / then: the verifier writes envelope strings with json_string, never with rfc8785
    assert canonical.json_string(value).encode() == rfc8785.dumps(value)


def test_json_string_escapes_only_what_rfc8785_escapes():
    # given
    value = '\x00\x08\t\n\x0b\x0c\r\x1f "\\/\x7f\u2028😀'
    # when / then
    assert canonical.json_string(value) == '"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f \\"\\\\/\x7f\u2028😀"'
    assert canonical.json_string(value).encode() == rfc8785.dumps(value)
