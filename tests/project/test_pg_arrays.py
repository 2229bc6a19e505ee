"""The text-array dumper of hitlplatform.pg_arrays writes what psycopg's own would, faster."""

import re

import pytest
from django.db import connection
from psycopg.adapt import PyFormat
from psycopg.types.array import ListDumper

from hitlplatform.pg_arrays import ListDumperEscapingByReplace

TRICKY = [
    b"",
    b"plain",
    b'{"amount": "12.50", "note": "say \\"hi\\""}',
    b"back\\slash at the end\\",
    b'"',
    b'\\\\"\\',
    "é ü – 中".encode(),
]


@pytest.mark.parametrize("text", TRICKY)
def test_the_escape_is_psycopgs_regular_expression_without_it(text):
    psycopgs = ListDumper.__dict__.get("_re_esc")

    assert isinstance(psycopgs, re.Pattern), "psycopg no longer escapes through ListDumper._re_esc: see pg_arrays"
    assert ListDumperEscapingByReplace._re_esc.sub(rb"\\\1", text) == psycopgs.sub(rb"\\\1", text)


@pytest.mark.django_db
def test_text_arrays_go_to_postgresql_and_back_unchanged():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's arrays: the PostgreSQL pass")
    values = [text.decode() for text in TRICKY] + [None, "NULL", "a,b", "{x}", " padded "]
    with connection.cursor() as cursor:
        assert cursor.cursor.adapters.get_dumper(list, PyFormat.TEXT) is ListDumperEscapingByReplace
        cursor.execute("SELECT %s::text[], %s::text[]", [values, [values[:3], values[3:6]]])
        flat, nested = cursor.fetchone()

    assert flat == values and nested == [values[:3], values[3:6]]
