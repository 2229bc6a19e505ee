#!/usr/bin/env python3
"""Verify an hitlplatform audit bundle offline (made by `manage.py export_audit`).

Needs only Python 3.11+ and the `cryptography` package; it shares no code with the platform,
so it is a second, independent implementation of the checks:

    python verify_bundle.py bundle.zip --public-key <hex Ed25519 public key you trust>

It checks that the events' seq is gapless, every prev_hash links, every data hash matches the
salt and the canonical data as stored (erased data is reported, not guessed), every event hash
matches the RFC 8785 canonical envelope, every checkpoint in the bundle has the Merkle root of
the events (RFC 9162) and a valid Ed25519 signature, and that the last event is consistent
(an RFC 9162 consistency proof) with the covering signed checkpoint. Exit 0 when all holds;
otherwise exit 1 and name the first bad seq.
"""

import argparse
import hashlib
import json
import sys
import zipfile
from json.encoder import encode_basestring

FORMAT = "hitlplatform-audit-bundle"
SCHEMA_VERSION = 1
REDACTED_ACTION = "audit.redacted"


class BundleInvalid(Exception):
    def __init__(self, seq, reason):
        super().__init__(reason)
        self.seq, self.reason = seq, reason


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", help="the .zip written by manage.py export_audit")
    parser.add_argument(
        "--public-key", help="hex Ed25519 public key to trust (default: the bundle's own, with a warning)"
    )
    arguments = parser.parse_args(argv)
    try:
        report = verify_bundle(arguments.bundle, public_key=arguments.public_key)
    except BundleInvalid as failure:
        where = f"seq {failure.seq}" if failure.seq is not None else "the bundle"
        print(f"FAILED at {where}: {failure.reason}")
        return 1
    for warning in report["warnings"]:
        print(f"WARNING: {warning}", file=sys.stderr)
    print(
        f"OK: {report['events']} events (seq {report['first_seq']}..{report['last_seq']}), "
        f"{report['redacted']} redacted, {report['checkpoints']} checkpoints verified; "
        f"covered by the checkpoint of {report['covering_tree_size']} events signed at {report['covering_timestamp']}."
    )
    return 0


def verify_bundle(path, *, public_key=None) -> dict:
    with zipfile.ZipFile(path) as bundle:
        manifest = json.loads(bundle.read("manifest.json"))
        checkpoints = json.loads(bundle.read("checkpoints.json"))
        warnings = []
        if manifest.get("format") != FORMAT:
            raise BundleInvalid(None, "not an hitlplatform audit bundle")
        if public_key is None:
            public_key = manifest["public_key"]
            warnings.append("no --public-key given: trusting the key inside the bundle")
        public_key = public_key.strip().lower()
        with bundle.open("events.jsonl") as lines:
            summary = _verify_events(manifest, checkpoints, (json.loads(line) for line in lines), public_key)
    return {**summary, "warnings": warnings}


def _verify_events(manifest, checkpoints, events, public_key) -> dict:
    first_seq, last_seq = manifest["first_seq"], manifest["last_seq"]
    size = first_seq - 1
    frontier = [_hex32(node, None) for node in manifest["prefix_frontier"]]
    if len(frontier) != bin(size).count("1"):
        raise BundleInvalid(first_seq, "the prefix frontier does not fit the first seq")
    covering = manifest["covering_checkpoint"]
    pending = sorted((c for c in checkpoints if first_seq <= c["tree_size"] <= last_seq), key=lambda c: c["tree_size"])
    prev_hash, redacted, checked, count = None, 0, 0, 0
    for event in events:
        seq = event["seq"]
        if seq != size + 1:
            raise BundleInvalid(
                size + 1, f"event {size + 1} is missing" if seq > size + 1 else f"event {seq} is out of order"
            )
        if (prev_hash or ("0" * 64 if seq == 1 else event["prev_hash"])) != event["prev_hash"]:
            raise BundleInvalid(seq, f"prev_hash does not match the hash of event {seq - 1}")
        if event["canonical_data"] is None:
            redacted += 1
        elif _sha256_hex(bytes.fromhex(event["salt"]) + event["canonical_data"].encode("utf-8")) != event["data_hash"]:
            raise BundleInvalid(seq, "the data does not match its data_hash")
        if event["schema_version"] != SCHEMA_VERSION:
            raise BundleInvalid(seq, f"unknown schema version {event['schema_version']}")
        if _sha256_hex(_envelope(event)) != event["hash"]:
            raise BundleInvalid(seq, "the hash does not match the event's contents")
        _append(frontier, size, _leaf(bytes.fromhex(event["hash"])))
        size, prev_hash, count = seq, event["hash"], count + 1
        while pending and pending[0]["tree_size"] == size:
            _check_checkpoint(pending.pop(0), _root(frontier), public_key, seq)
            checked += 1
    if size != last_seq:
        raise BundleInvalid(size + 1, f"the bundle ends at {size} but its manifest says {last_seq}: events are missing")
    if covering is None:
        raise BundleInvalid(None, "no signed checkpoint covers the bundle")
    _check_signature(covering, public_key, last_seq)
    if count:
        _check_consistency(last_seq, covering, _root(frontier), manifest["consistency_path"])
    return {
        "events": count,
        "first_seq": first_seq,
        "last_seq": last_seq,
        "redacted": redacted,
        "checkpoints": checked + (covering["tree_size"] > last_seq),
        "covering_tree_size": covering["tree_size"],
        "covering_timestamp": covering["timestamp"],
    }


def _envelope(event) -> bytes:
    """RFC 8785 canonical JSON of the hashed envelope: fixed keys, strings and integers only."""
    return (
        f'{{"action":{encode_basestring(event["action"])},"actor_id":{encode_basestring(event["actor_id"])},'
        f'"actor_type":{encode_basestring(event["actor_type"])},"data_hash":{encode_basestring(event["data_hash"])},'
        f'"object_id":{encode_basestring(event["object_id"])},"object_type":{encode_basestring(event["object_type"])},'
        f'"prev_hash":{encode_basestring(event["prev_hash"])},"schema_version":{int(event["schema_version"])},'
        f'"seq":{int(event["seq"])},"timestamp":{encode_basestring(event["timestamp"])}}}'
    ).encode()


def _checkpoint_message(checkpoint) -> bytes:
    return (
        f'{{"root_hash":{encode_basestring(checkpoint["root_hash"])},'
        f'"timestamp":{encode_basestring(checkpoint["timestamp"])},"tree_size":{int(checkpoint["tree_size"])}}}'
    ).encode()


def _check_checkpoint(checkpoint, root: bytes, public_key: str, seq: int) -> None:
    if checkpoint["root_hash"] != root.hex():
        raise BundleInvalid(seq, f"the checkpoint of {checkpoint['tree_size']} events has another root hash")
    _check_signature(checkpoint, public_key, seq)


def _check_signature(checkpoint, public_key: str, seq) -> None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if checkpoint["public_key"] != public_key:
        raise BundleInvalid(seq, f"the checkpoint of {checkpoint['tree_size']} events is signed by another key")
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key)).verify(
            bytes.fromhex(checkpoint["signature"]), _checkpoint_message(checkpoint)
        )
    except (InvalidSignature, ValueError):
        raise BundleInvalid(
            seq, f"the signature of the checkpoint of {checkpoint['tree_size']} events is invalid"
        ) from None


def _check_consistency(size: int, covering, root: bytes, proof_hex) -> None:
    """RFC 9162 2.1.4.2: the tree of `size` events is a prefix of the covering checkpoint's tree."""
    second, second_root = covering["tree_size"], _hex32(covering["root_hash"], size)
    proof = [_hex32(node, size) for node in proof_hex]
    failure = BundleInvalid(size, f"the events are not a prefix of the checkpoint of {second} events")
    if size == second:
        if proof or root != second_root:
            raise failure
        return
    if size > second or not proof:
        raise failure
    if size & (size - 1) == 0:
        proof = [root, *proof]
    fn, sn = size - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    first_hash = second_hash = proof[0]
    for component in proof[1:]:
        if sn == 0:
            raise failure
        if fn & 1 or fn == sn:
            first_hash, second_hash = _node(component, first_hash), _node(component, second_hash)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            second_hash = _node(second_hash, component)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0 or first_hash != root or second_hash != second_root:
        raise failure


def _append(frontier: list, index: int, leaf: bytes) -> None:
    node = leaf
    while index & 1:
        node = _node(frontier.pop(), node)
        index >>= 1
    frontier.append(node)


def _root(frontier) -> bytes:
    if not frontier:
        return hashlib.sha256(b"").digest()
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = _node(left, root)
    return root


def _leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _sha256_hex(value: bytes) -> str:
    return hashlib.sha256(value).hexdigest()


def _hex32(value: str, seq) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except (TypeError, ValueError):
        raw = b""
    if len(raw) != 32:
        raise BundleInvalid(seq, f"{value!r} is not a 32-byte hex hash")
    return raw


if __name__ == "__main__":
    sys.exit(main())
