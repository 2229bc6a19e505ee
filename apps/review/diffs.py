"""Payload diffs, key by key: the modification preview and the revision thread show the same table."""

import json


def payload_changes(before: dict, after: dict) -> list[dict]:
    """What differs between two payloads, added and removed keys included, as rows of
    `review/_payload_diff.html`."""
    keys = list(before) + [key for key in after if key not in before]
    return [
        {"key": key, "before": _display(before.get(key)), "after": _display(after.get(key))}
        for key in keys
        if before.get(key) != after.get(key)
    ]


def _display(value) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
