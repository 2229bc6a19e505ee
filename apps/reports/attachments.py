"""The evidence as lines: JSONL and CSV of decisions and audit events, for the streaming exports
and for the files embedded in the PDF (compressed while they stream, never held whole)."""

import csv
import hashlib
import io
import json
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from apps.audit.canonical import format_timestamp

from .selectors import AUDIT_COLUMNS, DECISION_COLUMNS, ReportScope, audit_rows, decision_rows

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def decision_jsonl_lines(scope: ReportScope) -> Iterator[str]:
    signed_at = DECISION_COLUMNS.index("signed_at")
    for row in decision_rows(scope):
        values = list(row)
        values[signed_at] = values[signed_at].isoformat()
        yield _compact(dict(zip(DECISION_COLUMNS, values, strict=True))) + "\n"


def decision_csv_lines(scope: ReportScope) -> Iterator[str]:
    echo = _Echo()
    writer = csv.writer(echo)
    signed_at = DECISION_COLUMNS.index("signed_at")
    payload = DECISION_COLUMNS.index("modified_payload")
    yield writer.writerow(DECISION_COLUMNS)
    for row in decision_rows(scope):
        values = list(row)
        values[signed_at] = values[signed_at].isoformat()
        values[payload] = "" if values[payload] is None else _compact(values[payload])
        yield writer.writerow(values)


def audit_jsonl_lines(scope: ReportScope) -> Iterator[str]:
    """One event per line. `data` is spliced in as the exact canonical JSON that was hashed, and
    `timestamp` is the hashed text, so SHA-256(salt || data) and the chain can be recomputed."""
    head_columns = AUDIT_COLUMNS[:-1]
    timestamp = AUDIT_COLUMNS.index("timestamp")
    for row in audit_rows(scope):
        values = list(row[:-1])
        values[timestamp] = format_timestamp(values[timestamp])
        head = _compact(dict(zip(head_columns, values, strict=True)))
        data = row[-1] if row[-1] is not None else "null"
        yield f'{head[:-1]},"data":{data}}}\n'


@dataclass
class EmbeddedFile:
    """A file to embed in the PDF, already Flate-compressed (the PDF stream's own encoding)."""

    name: str
    description: str
    mime_type: str
    compressed: bytes
    size: int
    lines: int
    md5: str
    sha256: str


def embedded_file_build(
    *, name: str, description: str, lines: Iterable[str], mime_type: str = "application/x-ndjson",
    on_progress: Callable[[int], None] | None = None, batch: int = 2000,
) -> EmbeddedFile:
    """Compress `lines` as they stream: memory holds the compressed bytes and one batch."""
    compressor = zlib.compressobj(level=6)
    output = io.BytesIO()
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    size = count = 0
    pending: list[str] = []
    for line in lines:
        pending.append(line)
        count += 1
        if len(pending) >= batch:
            size += _feed(pending, compressor, output, md5, sha256)
            pending = []
            if on_progress is not None and count % (batch * 50) == 0:
                on_progress(count)
    size += _feed(pending, compressor, output, md5, sha256)
    output.write(compressor.flush())
    return EmbeddedFile(
        name=name, description=description, mime_type=mime_type, compressed=output.getvalue(), size=size,
        lines=count, md5=md5.hexdigest(), sha256=sha256.hexdigest(),
    )


def _feed(lines: list[str], compressor, output: io.BytesIO, md5, sha256) -> int:
    if not lines:
        return 0
    chunk = "".join(lines).encode()
    md5.update(chunk)
    sha256.update(chunk)
    output.write(compressor.compress(chunk))
    return len(chunk)


class _Echo:
    """csv.writer's file: hands each formatted row back instead of storing it."""

    def write(self, value: str) -> str:
        return value
