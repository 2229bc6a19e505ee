"""The chain's rows as fast as the database can give them, for verification.

`event_row_chunks` streams the events after a seq (up to another, or to the end) with their data, in seq order and constant
memory, as chunks of plain DB-API tuples (no model instances, no Django row conversion):

    (seq, stored timestamp, actor_type, actor_id, action, object_type, object_id,
     data_hash, prev_hash, hash, schema_version, salt, canonical_data)

salt and canonical_data are None when the data was erased; `hashed_timestamp` turns the stored
timestamp into the hashed text. On PostgreSQL the rows come from a server-side cursor. The next
chunk is fetched in a thread while the caller checks this one: the driver waits for the server
(or SQLite's engine steps) without the GIL, so fetching and hashing overlap on two cores.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from django.db import connection

from . import canonical

_SELECT_EVENTS = (
    "SELECT e.seq, {timestamp}, e.actor_type, e.actor_id, e.action, e.object_type, e.object_id,"
    " e.data_hash, e.prev_hash, e.hash, e.schema_version, d.salt, d.canonical_data"
    " FROM audit_event e LEFT OUTER JOIN audit_event_data d ON d.seq = e.seq"
    " WHERE e.seq > %s{upto} ORDER BY e.seq"
)
# The timestamp as UTC text, "2026-11-22 02:12:24.123456" (PostgreSQL drops trailing zeros of the
# fraction): cheaper for the server than to_char() and for us than a datetime.
_TIMESTAMP_COLUMN = {"postgresql": "(e.timestamp AT TIME ZONE 'UTC')::text", "sqlite": "e.timestamp || ''"}


def event_row_chunks(*, after: int, upto: int | None = None, chunk_size: int = 5000):
    """Chunks (lists) of event rows after seq `after` and up to `upto` (module docstring), in the caller's transaction."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(select_events_sql(bounded=upto is not None), [after] if upto is None else [after, upto])
        raw = cursor.cursor  # the DB-API cursor beneath Django's wrapper: plain tuples
        with ThreadPoolExecutor(max_workers=1) as fetcher:
            pending = fetcher.submit(raw.fetchmany, chunk_size)
            while rows := pending.result():
                pending = fetcher.submit(raw.fetchmany, chunk_size)
                yield rows


def select_events_sql(*, bounded: bool = False) -> str:
    """The SELECT behind `event_row_chunks`; parameters: the seq to start after (and, bounded, the last seq)."""
    return _SELECT_EVENTS.format(
        timestamp=_TIMESTAMP_COLUMN.get(connection.vendor, "e.timestamp"), upto=" AND e.seq <= %s" if bounded else ""
    )


def hashed_timestamp(stored) -> str:
    """The hashed text of a stored timestamp: 2026-11-22T02:12:24.123456Z."""
    if isinstance(stored, datetime):
        return canonical.format_timestamp(stored)
    if len(stored) == 26:
        return f"{stored[:10]}T{stored[11:]}Z"
    return canonical.format_timestamp(datetime.fromisoformat(stored))
