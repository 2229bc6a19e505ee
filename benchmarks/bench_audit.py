"""Audit trail benchmarks, each against a baseline measured in the same run.

- append: 8 concurrent writers (processes, each with its own persistent connection, appending in
  a tight loop) calling audit_record on PostgreSQL, against plain single-row INSERT + COMMIT
  (autocommit) into a one-column table by as many writers; then a fork check. Also a "naive
  lock" (BEGIN, SELECT ... FOR UPDATE of one row, INSERT, UPDATE, COMMIT): the ceiling of any
  append serialized by a row lock held until COMMIT, which is what DESIGN.md prescribes; and a
  "one-statement lock" (the lock, the INSERT and the UPDATE in one statement): the least any
  such append can do.
  Goal: >= 0.8 of the baseline, 0 forks. Under synchronous_commit=on a serialized append waits
  for its own WAL flush while plain writers share flushes (group commit); the run shows both.
- verify: audit_verify over N events (BENCH_AUDIT_EVENTS, default 1,000,000, bulk-generated here;
  0 skips this part), on PostgreSQL and on SQLite, against a plain streaming SELECT of the same
  rows, read as verification reads them (DB-API cursor) and through the ORM, and against the
  same verification in one process (AUDIT_VERIFY_PROCESSES=1).
  Goal: >= 200,000 events/s and < 150 MB peak RSS. Rates per CPU second of the measured process
  are printed too: on a machine shared with others they tell what the code costs.
- checkpoint of that chain (goal < 1 s) and an inclusion proof (goal < 20 ms).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python benchmarks/bench_audit.py

PostgreSQL: the server of DATABASE_URL (or BENCH_PG_SERVER); the benchmark creates and drops a
database of its own there. SQLite: a file in a temporary folder. Every measurement runs in a
fresh process, so peak RSS is that of the measured work (plus Django itself).
"""

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks.databases import bench_environment, migrate, postgres_database, postgres_server
from benchmarks.phases import is_phase_process, run_phase, serve_phase

ROOT = Path(__file__).resolve().parents[1]
EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "1000000"))  # 0 skips the chain benchmarks
WRITERS = int(os.environ.get("BENCH_AUDIT_WRITERS", "8"))
APPENDS = int(os.environ.get("BENCH_AUDIT_APPENDS", "500"))  # per writer; 0 skips the append benchmark
ROUNDS = int(os.environ.get("BENCH_AUDIT_ROUNDS", "2"))
PROOFS = 200
GENERATE_CHUNK = 20_000


def main() -> None:
    server = postgres_server()
    if server is None:
        print(
            "audit on PostgreSQL: skipped — set DATABASE_URL=postgres://... (or BENCH_PG_SERVER) to a reachable server"
        )
    else:
        with postgres_database(server, f"bench_audit_{os.getpid()}") as url:
            _bench_database("PostgreSQL", url, append=True)
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        _bench_database("SQLite", f"sqlite:///{folder}/audit.sqlite3", append=False)


def _bench_database(name: str, url: str, *, append: bool) -> None:
    environment = bench_environment(url)
    migrate(environment)
    print(f"audit on {name}:", flush=True)
    if append and APPENDS:
        _phase(environment, "plain-table")
        # synchronous_commit=off (both sides) shows the cost of the lock apart from the WAL flush
        for commit_mode in ("on", "off"):
            mode_environment = {**environment, "PGOPTIONS": f"-c synchronous_commit={commit_mode}"}
            best = {"plain": 0.0, "naive-lock": 0.0, "one-statement-lock": 0.0, "audit": 0.0}
            for _round in range(ROUNDS):
                for kind in best:
                    best[kind] = max(best[kind], _concurrent_appends(mode_environment, kind))
            chain = _phase(environment, "chain-shape")
            print(
                f"  append, {WRITERS} writers x {APPENDS}, synchronous_commit={commit_mode}: "
                f"{best['audit']:7.0f} events/s   plain INSERT+COMMIT {best['plain']:7.0f} rows/s   "
                f"ratio {best['audit'] / best['plain']:5.2f} (goal >= 0.80)   "
                f"forks {chain['forks']}, gapless {chain['gapless']}, verifies {chain['ok']}\n"
                f"    naive lock (INSERT under one locked row, the ceiling of any serialized append) "
                f"{best['naive-lock']:7.0f} rows/s   ratio to plain {best['naive-lock'] / best['plain']:5.2f}   "
                f"audit to naive lock {best['audit'] / best['naive-lock']:5.2f}\n"
                f"    one-statement lock (lock, INSERT and UPDATE in one statement: the least a serialized append "
                f"can do) {best['one-statement-lock']:7.0f} rows/s   ratio to plain "
                f"{best['one-statement-lock'] / best['plain']:5.2f}",
                flush=True,
            )
    if not EVENTS:
        return
    started = time.perf_counter()
    generated = _phase(environment, "generate", str(EVENTS))
    print(
        f"  generated {generated['events']} events by bulk insert in {time.perf_counter() - started:.1f} s", flush=True
    )
    checkpoint = _phase(environment, "checkpoint")
    print(f"  checkpoint of {checkpoint['tree_size']} events: {checkpoint['seconds'] * 1000:8.1f} ms (goal < 1000 ms)")
    proofs = _phase(environment, "proofs")
    print(
        f"  inclusion proof in a tree of {proofs['tree_size']}: {proofs['mean_ms']:6.2f} ms mean, "
        f"{proofs['max_ms']:6.2f} ms max over {PROOFS} (goal < 20 ms)",
        flush=True,
    )
    orm = _phase(environment, "plain-select", "orm")
    raw = _phase(environment, "plain-select", "raw")
    verify = _phase(environment, "verify")
    single = _phase({**environment, "AUDIT_VERIFY_PROCESSES": "1"}, "verify")
    print(
        f"  verify {verify['events']} events: {verify['rate']:9.0f} events/s "
        f"({verify['cpu_rate']:7.0f} per CPU second), {verify['processes']} processes, peak RSS "
        f"{verify['rss_mb']:4.0f} MB (largest other process {verify['children_rss_mb']:4.0f} MB; all of them together "
        f"{verify['total_pss_mb']:4.0f} MB PSS), ok={verify['ok']}"
        f"   (goal >= 200000 events/s, < 150 MB)\n"
        f"    the same in one process: {single['rate']:9.0f} events/s ({single['cpu_rate']:7.0f} per CPU second), "
        f"peak RSS {single['rss_mb']:4.0f} MB   {verify['processes']} processes/one {verify['rate'] / single['rate']:5.2f}",
        flush=True,
    )
    for label, plain in (("raw cursor, as verify reads", raw), ("ORM values_list().iterator()", orm)):
        print(
            f"    plain streaming SELECT, {label}: {plain['rate']:9.0f} rows/s ({plain['cpu_rate']:7.0f} per CPU "
            f"second), peak RSS {plain['rss_mb']:4.0f} MB   verify/plain {verify['rate'] / plain['rate']:5.2f}",
            flush=True,
        )


def _concurrent_appends(environment: dict, kind: str) -> float:
    """Events (or rows) per second of WRITERS processes appending APPENDS each, timed from a common start."""
    writers = [
        subprocess.Popen(
            [sys.executable, __file__, "--phase", "append", kind, str(worker), str(APPENDS)],
            cwd=ROOT,
            env=environment,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for worker in range(WRITERS)
    ]
    for writer in writers:  # every process has set Django up and connected before the clock starts
        assert writer.stdout.readline().strip() == "READY"
    for writer in writers:
        writer.stdin.write("GO\n")
        writer.stdin.flush()
    spans = []
    for writer in writers:
        output, _ = writer.communicate(timeout=1800)
        if writer.returncode:
            raise RuntimeError(f"{kind} writer failed")
        spans.append(json.loads(output.strip().splitlines()[-1]))
    elapsed = max(span["end"] for span in spans) - min(span["start"] for span in spans)
    return WRITERS * APPENDS / elapsed


def _phase(environment: dict, *arguments: str) -> dict:
    return run_phase(__file__, environment, *arguments)


# --- phases, each in a process of its own ------------------------------------------------------


def _phase_plain_table() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_plain (value bigint)")
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_lock (id integer PRIMARY KEY, value bigint)")
        cursor.execute("INSERT INTO bench_lock VALUES (1, 0) ON CONFLICT DO NOTHING")
    return {}


def _phase_append(kind: str, worker: str, count: str) -> dict:
    from django.db import connection, transaction

    from apps.audit.services import audit_record

    connection.ensure_connection()
    print("READY", flush=True)
    sys.stdin.readline()
    start = time.time()
    if kind == "audit":
        for number in range(int(count)):
            audit_record(action="bench.appended", object_type="bench", object_id=worker, data={"n": number})
    elif kind == "naive-lock":  # the round trips every serialized append needs, and nothing else
        for number in range(int(count)):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT value FROM bench_lock WHERE id = 1 FOR UPDATE")
                cursor.execute("INSERT INTO bench_plain (value) VALUES (%s)", [number])
                cursor.execute("UPDATE bench_lock SET value = %s WHERE id = 1", [number])
    elif kind == "one-statement-lock":
        for _number in range(int(count)):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "WITH head AS (SELECT value FROM bench_lock WHERE id = 1 FOR UPDATE),"
                    " added AS (INSERT INTO bench_plain (value) SELECT value + 1 FROM head)"
                    " UPDATE bench_lock SET value = value + 1 WHERE id = 1"
                )
    else:
        with connection.cursor() as cursor:  # autocommit: every INSERT commits on its own
            for number in range(int(count)):
                cursor.execute("INSERT INTO bench_plain (value) VALUES (%s)", [number])
    return {"start": start, "end": time.time()}


def _phase_chain_shape() -> dict:
    from apps.audit.models import AuditEvent
    from apps.audit.verification import audit_verify

    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    distinct_prev = AuditEvent.objects.values("prev_hash").distinct().count()
    return {
        "forks": len(seqs) - distinct_prev,
        "gapless": seqs == list(range(1, len(seqs) + 1)),
        "ok": audit_verify().ok,
    }


def _phase_generate(count: str) -> dict:
    """Append `count` events fast: the same hashes and Merkle nodes audit_record writes, bulk-inserted."""
    import hashlib
    from datetime import UTC, datetime, timedelta

    from django.db import connection, transaction

    from apps.audit import canonical, merkle
    from apps.audit.models import EVENT_COLUMNS, ChainHead

    head = ChainHead.objects.get(pk=1)
    seq, prev_hash = head.seq, head.hash
    frontier = [bytes.fromhex(node) for node in json.loads(head.frontier)]
    start = datetime.now(UTC)
    total = int(count)
    event_columns = EVENT_COLUMNS
    with transaction.atomic():
        while total:
            events, data, nodes = [], [], []
            for _ in range(min(total, GENERATE_CHUNK)):
                seq += 1
                moment = start + timedelta(microseconds=seq)
                salt = os.urandom(32).hex()
                canonical_data = f'{{"amount":"{seq % 1000}.00","order":"A-{seq}","worker":{seq % 8}}}'
                data_hash = hashlib.sha256(bytes.fromhex(salt) + canonical_data.encode()).hexdigest()
                event_hash = canonical.event_hash(
                    schema_version=1,
                    seq=seq,
                    timestamp=canonical.format_timestamp(moment),
                    actor_type="system",
                    actor_id="system",
                    action="bench.generated",
                    object_type="bench",
                    object_id=str(seq),
                    data_hash=data_hash,
                    prev_hash=prev_hash,
                )
                events.append(
                    (
                        seq,
                        moment,
                        "system",
                        "system",
                        "bench.generated",
                        "bench",
                        str(seq),
                        data_hash,
                        prev_hash,
                        event_hash,
                        1,
                    )
                )
                data.append((seq, salt, canonical_data))
                nodes += merkle.frontier_append(frontier, seq - 1, merkle.leaf_hash(bytes.fromhex(event_hash)))
                prev_hash = event_hash
            total -= len(events)
            nodes = [(level, index, node.hex()) for level, index, node in nodes]
            _bulk_insert(connection, "audit_event", event_columns, events)
            _bulk_insert(connection, "audit_event_data", ("seq", "salt", "canonical_data"), data)
            _bulk_insert(connection, "audit_merkle_node", ("level", "index", "hash"), nodes)
        ChainHead.objects.filter(pk=1).update(
            seq=seq, hash=prev_hash, frontier=json.dumps([node.hex() for node in frontier])
        )
    if connection.vendor == "postgresql":  # fresh statistics, as a live table would have
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE audit_event, audit_event_data, audit_merkle_node")
    return {"events": int(count), "head": seq}


def _bulk_insert(connection, table: str, columns: tuple, rows: list) -> None:
    if not rows:
        return
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            adapt = connection.ops.adapt_datetimefield_value
            rows = [tuple(adapt(value) if hasattr(value, "tzinfo") else value for value in row) for row in rows]
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})", rows)


def _phase_checkpoint() -> dict:
    from apps.audit.services import audit_checkpoint_create

    started = time.perf_counter()
    checkpoint = audit_checkpoint_create()
    return {"seconds": time.perf_counter() - started, "tree_size": checkpoint.tree_size}


def _phase_proofs() -> dict:
    from apps.audit.selectors import audit_head, audit_inclusion_proof

    tree_size = audit_head().seq
    rng = random.Random(9162)
    audit_inclusion_proof(seq=1, tree_size=tree_size)  # warm the connection
    timings = []
    for _ in range(PROOFS):
        started = time.perf_counter()
        audit_inclusion_proof(seq=rng.randint(1, tree_size), tree_size=tree_size)
        timings.append((time.perf_counter() - started) * 1000)
    return {"tree_size": tree_size, "mean_ms": sum(timings) / len(timings), "max_ms": max(timings)}


def _phase_plain_select(path: str) -> dict:
    """The same rows as verification, streamed and counted: through the ORM, or as verification reads them."""
    from apps.audit.event_rows import event_row_chunks
    from apps.audit.models import AuditEvent
    from apps.audit.verification import _read_snapshot

    rows = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    with _read_snapshot():
        if path == "orm":
            columns = [field.name for field in AuditEvent._meta.fields]
            queryset = AuditEvent.objects.order_by("seq").values_list(
                *columns, "data_record__salt", "data_record__canonical_data"
            )
            for _row in queryset.iterator(chunk_size=5000):
                rows += 1
        else:
            for chunk in event_row_chunks(after=0, chunk_size=5000):
                for _row in chunk:
                    rows += 1
    return _rates(rows, started, cpu_started) | {"rows": rows}


def _phase_verify() -> dict:
    from apps.audit.verification import audit_verify

    sampler = _PssSampler()
    sampler.start()
    started, cpu_started = time.perf_counter(), _cpu_seconds_with_children()
    verification = audit_verify(chunk_size=5000)
    sampler.stop()
    rates = _rates(verification.events_checked, started, 0.0)
    rates["cpu_rate"] = verification.events_checked / (_cpu_seconds_with_children() - cpu_started)
    return rates | {
        "events": verification.events_checked,
        "ok": verification.ok,
        "processes": verification.processes,
        "children_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "total_pss_mb": sampler.peak_mb,
    }


class _PssSampler(threading.Thread):
    """Peak proportional set size of this process and its children together, sampled every 20 ms.

    RSS counts the pages a forked child shares with its parent in both; PSS splits them, so the
    sum is the memory the verification really holds."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak_mb, self._stopped = 0.0, threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(0.02):
            self.peak_mb = max(self.peak_mb, sum(_pss_mb(pid) for pid in [os.getpid(), *_children()]))

    def stop(self) -> None:
        self._stopped.set()
        self.join()


def _children() -> list[int]:
    pids = []
    for children in Path("/proc/self/task").glob("*/children"):
        pids += [int(pid) for pid in children.read_text().split()]
    return pids


def _pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:  # the child has just exited
        pass
    return 0.0


def _cpu_seconds_with_children() -> float:
    """CPU seconds of this process and of its finished children (verification forks workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _rates(count: int, started: float, cpu_started: float) -> dict:
    """Per wall second and per CPU second of this process (threads included): on a machine
    loaded by others the second tells what the code costs."""
    return {
        "rate": count / (time.perf_counter() - started),
        "cpu_rate": count / (time.process_time() - cpu_started),
        "rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


PHASES = {
    "plain-table": _phase_plain_table,
    "append": _phase_append,
    "chain-shape": _phase_chain_shape,
    "generate": _phase_generate,
    "checkpoint": _phase_checkpoint,
    "proofs": _phase_proofs,
    "plain-select": _phase_plain_select,
    "verify": _phase_verify,
}


# --- PostgreSQL server and database -------------------------------------------------------------


if __name__ == "__main__":
    if is_phase_process():
        serve_phase(PHASES)
    else:
        main()
