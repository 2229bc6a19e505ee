"""Strict parsing of ids and whole numbers typed into URLs and forms.

`str.isdigit()` accepts "²" and "١٢", which `int()` then refuses or reads as another number; an id
is ASCII digits within the database's bigint, anything else is not an id.
"""

MAX_ID = 2**63 - 1


def id_parse(text) -> int | None:
    """The id that `text` spells in ASCII digits (at most 2**63 - 1), else None."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text if 0 <= text <= MAX_ID else None
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_ID else None
