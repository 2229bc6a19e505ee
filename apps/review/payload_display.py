"""Payloads as the review page shows them: whole when reasonable, otherwise cut, with a download.

Indenting JSON costs two spaces per level per line, so a payload nested hundreds deep grows a
thousandfold on the page (a 72 KB payload made a 195 MB page). Deep values are shown compact, and
any text past REVIEW_PAYLOAD_DISPLAY_CHARS is cut; the whole payload is one link away.
"""

import json
from dataclasses import dataclass

from django.conf import settings

INDENT_MAX_DEPTH = 8


@dataclass(frozen=True)
class Shown:
    text: str
    truncated: bool

    def __str__(self):
        return self.text


def json_shown(value, *, limit: int | None = None) -> Shown:
    """`value` as JSON text for the page, indented when shallow, cut after `limit` characters."""
    limit = settings.REVIEW_PAYLOAD_DISPLAY_CHARS if limit is None else limit
    indent = 2 if json_depth(value, stop_after=INDENT_MAX_DEPTH) <= INDENT_MAX_DEPTH else None
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    if len(text) <= limit:
        return Shown(text, False)
    return Shown(text[:limit] + "\n…", True)


def json_editable(value) -> str:
    """The exact JSON of one payload field for the modify editor (compact when deep)."""
    indent = 2 if json_depth(value, stop_after=INDENT_MAX_DEPTH) <= INDENT_MAX_DEPTH else None
    return json.dumps(value, indent=indent, ensure_ascii=False)


def json_depth(value, *, stop_after: int | None = None) -> int:
    """Nesting depth of arrays and objects (a scalar is 0); stops counting past `stop_after`."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if stop_after is not None and deepest > stop_after:
                return deepest
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest
