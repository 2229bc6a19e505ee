"""JSON as this platform accepts it, everywhere a body or a JSON form field is read.

Everything stored is later canonicalized (RFC 8785: payload versions, audit data) and kept in a
JSON column, so the input is checked before any work against what those accept: integers within
+-(2**53 - 1) (I-JSON, RFC 8785 3.2.2.3), finite floats (no NaN, Infinity or 1e400), text without
NUL characters or unpaired surrogates (PostgreSQL stores neither), and at most
JSON_MAX_DEPTH nested arrays and objects (deeper input is refused before the parser recurses).
"""

import json
import math
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_SAFE_INTEGER = 2**53 - 1
# \u0000 and lone surrogates decode fine but no database text column takes them.
_SUSPECT_ESCAPES = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")
# Strings first (their brackets do not nest), then every bracket.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


class JsonLimitError(ValueError):
    """The text is JSON this platform refuses; the message says why, for the caller's 400."""


def json_loads_limited(text: str | bytes, *, max_depth: int | None = None):
    """json.loads with the limits above; raises JsonLimitError (or json.JSONDecodeError, a ValueError)."""
    if isinstance(text, bytes | bytearray):
        text = text.decode("utf-8")
    max_depth = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    _check_depth(text, max_depth)
    value = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)
    if _SUSPECT_ESCAPES.search(text):
        _check_strings(value)
    return value


def json_value_check(value, *, max_depth: int | None = None) -> None:
    """The same limits for a value built some other way (a form field already decoded)."""
    max_depth = settings.JSON_MAX_DEPTH if max_depth is None else max_depth
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > max_depth:
                raise JsonLimitError(_depth_message(max_depth))
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        elif isinstance(item, int):
            _parse_int(str(item))
        elif isinstance(item, float):
            _parse_float(repr(item))


class LimitedJSONParser(JSONParser):
    """The API's only parser: DRF's JSON parser with the platform's limits; a refusal is a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            return json_loads_limited(stream.read().decode(encoding))
        except JsonLimitError as error:
            raise ParseError(str(error))
        except (ValueError, RecursionError) as error:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": error})


def _check_strings(value) -> None:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise JsonLimitError(_("Text may not contain the NUL character (\\u0000)."))
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise JsonLimitError(_("Text may not contain unpaired surrogates (\\ud800-\\udfff)."))


def _check_depth(text: str, max_depth: int) -> None:
    if "[" not in text and "{" not in text:
        return
    depth = 0
    for token in _TOKENS.findall(text):
        if token in ("[", "{"):
            depth += 1
            if depth > max_depth:
                raise JsonLimitError(_depth_message(max_depth))
        elif token in ("]", "}"):
            depth -= 1


def _parse_int(digits: str) -> int:
    number = int(digits)
    if abs(number) > MAX_SAFE_INTEGER:
        raise JsonLimitError(
            _("The number %(number)s is outside the range of exact JSON integers (±%(limit)s).")
            % {"number": digits[:40], "limit": MAX_SAFE_INTEGER}
        )
    return number


def _parse_float(digits: str) -> float:
    number = float(digits)
    if not math.isfinite(number):
        raise JsonLimitError(_("The number %(number)s is too large.") % {"number": digits[:40]})
    return number


def _parse_constant(name: str):
    raise JsonLimitError(_("%(name)s is not a JSON number.") % {"name": name})


def _depth_message(max_depth: int) -> str:
    return _("JSON nested deeper than %(depth)s levels.") % {"depth": max_depth}
