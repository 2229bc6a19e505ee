"""The evidence as lines: JSONL and CSV of decisions and audit events, for the streaming exports
and for the files embedded in the PDF (compressed while they stream, never held whole)."""

import csv
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .selectors import DECISION_COLUMNS, ReportScope, audit_json_rows, decision_json_lines, decision_rows

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def decision_jsonl_lines(scope: ReportScope) -> Iterator[str]:
    for line in decision_json_lines(scope):
        yield line + "\n"


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
    for head, data in audit_json_rows(scope):
        yield f'{head[:-1]},"data":{"null" if data is None else data}}}\n'


@dataclass
class EmbeddedFile:
    """A file to embed in the PDF, Flate-compressed (the PDF stream's own encoding) into `path`."""

    name: str
    description: str
    mime_type: str
    path: Path
    size: int
    lines: int
    sha256: str


def embedded_file_build(
    *,
    name: str,
    description: str,
    lines: Iterable[str],
    folder: Path,
    mime_type: str = "application/x-ndjson",
    batch: int = 2000,
) -> EmbeddedFile:
    """Compress `lines` into a file as they stream: memory holds one batch, at any volume."""
    # Level 1: the hashes and salts are random hex, which no level compresses much further.
    compressor = zlib.compressobj(level=1)
    sha256 = hashlib.sha256()
    size = count = 0
    path = folder / f"{name}.deflate"
    with path.open("wb") as output:
        pending: list[str] = []
        for line in lines:
            pending.append(line)
            count += 1
            if len(pending) >= batch:
                size += _feed(pending, compressor, output, sha256)
                pending = []
        size += _feed(pending, compressor, output, sha256)
        output.write(compressor.flush())
    return EmbeddedFile(
        name=name,
        description=description,
        mime_type=mime_type,
        path=path,
        size=size,
        lines=count,
        sha256=sha256.hexdigest(),
    )


def _feed(lines: list[str], compressor, output, sha256) -> int:
    if not lines:
        return 0
    chunk = "".join(lines).encode()
    sha256.update(chunk)
    output.write(compressor.compress(chunk))
    return len(chunk)


class _Echo:
    """csv.writer's file: hands each formatted row back instead of storing it."""

    def write(self, value: str) -> str:
        return value
