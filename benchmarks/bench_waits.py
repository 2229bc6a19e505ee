"""Waiting at fleet scale: the production server of the Procfile (gunicorn with uvicorn workers,
2 processes) on PostgreSQL, with thousands of agents waiting on `wait/`.

1. Intake (wrk, POST proposals, 8 keep-alive connections) with no waiter, then with each of
   BENCH_WAITS_LEVELS waiters held open by a client process; the most waiters held while intake
   stays >= 0.9 of none (goal: 5,000); memory (PSS) and open files of the server processes.
2. Decision-to-wake-up latency with BENCH_WAITS_LATENCY_WAITERS (1,000) waiters, one per
   proposal: decisions through the API one after another; p50 and p99 from the decision's
   response to its waiter's answer (goal: p99 < 250 ms).
3. Intake and decision throughput of this server against the old one (gunicorn, 2 processes x 8
   threads, WSGI), the same run, best of BENCH_WAITS_ROUNDS alternating rounds (goal: >= 0.9).

Signatures use a fast password hasher here (benchmarks/settings_waits.py): PBKDF2's deliberate cost
would hide the servers behind it. Needs `wrk` and PostgreSQL (BENCH_PG_SERVER or the default).
"""

import asyncio
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks import bench_intake
from benchmarks.servers import manage, on_demo_database
from tests.processes import WebServer

ROOT = Path(__file__).resolve().parents[1]
DATABASE = os.environ.get("BENCH_WAITS_DATABASE", "hitl_bench_waits")
PORT = int(os.environ.get("BENCH_WAITS_PORT", "8766"))
SECONDS = int(os.environ.get("BENCH_WAITS_SECONDS", "10"))
ROUNDS = int(os.environ.get("BENCH_WAITS_ROUNDS", "2"))
LEVELS = [int(level) for level in os.environ.get("BENCH_WAITS_LEVELS", "1000,2000,5000").split(",")]
LATENCY_WAITERS = int(os.environ.get("BENCH_WAITS_LATENCY_WAITERS", "1000"))
DECISIONS = int(os.environ.get("BENCH_WAITS_DECISIONS", "200"))
DECISION_CONNECTIONS = 8
PASSWORD = "bench-signing-pass-2024"

NEW_SERVER = {"workers": 2}
OLD_SERVER = {"workers": 2, "threads": 8, "wsgi": True}


def main() -> None:
    on_demo_database(
        "bench_waits",
        DATABASE,
        _bench,
        settings="benchmarks.settings_waits",
        WAIT_MAX_PER_AGENT="100000",
        WAIT_MAX_TOTAL="100000",
    )


def _bench(env: dict, url: str, key: str) -> None:
    reviewer = manage(env, "create_user", "bench-reviewer", "--password", PASSWORD, "--role", "reviewer",
                      "--queue", "support", "--token", "--json")  # fmt: skip
    Bench(env, url, key, json.loads(reviewer)["token"]).run()


class Bench:
    def __init__(self, env: dict, url: str, key: str, token: str):
        self.env, self.url, self.key, self.token = env, url, key, token
        self.server = None

    def run(self) -> None:
        print(
            f"open-files limit of this run: {resource.getrlimit(resource.RLIMIT_NOFILE)[0]} (soft); "
            f"load average before {_load_average()}"
        )
        self.start(NEW_SERVER)
        try:
            self.waiters_while_intake()
            self.wake_up_latency()
        finally:
            self.stop()
        self.old_against_new()
        print(f"load average after {_load_average()}")

    # --- 1. waiters held while intake goes on ------------------------------------------------
    def waiters_while_intake(self) -> None:
        self.intake()
        pending = self.pending_ids()
        print(
            f"intake with waiters held open ({SECONDS}s of wrk each, each level right after a run with no "
            f"waiter, its baseline: this machine's load drifts; {len(pending)} pending proposals waited on):"
        )
        best = 0
        for level in LEVELS:
            baseline = self.intake()
            holder = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.bench_waits", "--hold", str(level), str(PORT), self.key],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            holder.stdin.write(json.dumps(pending) + "\n")
            holder.stdin.flush()
            ready = holder.stdout.readline().strip()
            settled = self.settle(connections=level)  # until the server has taken in every waiter
            memory, files = self.server_footprint()
            rate = self.intake()
            holder.send_signal(signal.SIGTERM)
            report = holder.communicate(timeout=120)[0].strip()
            ratio = rate / baseline
            if ratio >= 0.9 and "errors 0" in report:
                best = max(best, level)
            print(
                f"  {level:>5d} waiters  {rate:6.0f} req/s, none {baseline:6.0f} req/s, ratio {ratio:5.2f};"
                f" server PSS {memory:4.0f} MB, open files {files}"
                f" ({ready}, taken in within {settled:.0f}s; {report})"
            )
        print(f"  most waiters held with intake >= 0.90 of none: {best} (goal 5000)")

    # --- 2. decision to wake-up ------------------------------------------------------------------
    def wake_up_latency(self) -> None:
        self.intake(seconds=max(3, LATENCY_WAITERS // 150))  # enough fresh pending proposals
        pending = self.pending_ids()[:LATENCY_WAITERS]
        latencies, from_request = asyncio.run(_latencies(PORT, self.key, self.token, pending, self.settle))
        latencies.sort()
        from_request.sort()
        print(
            f"decision to wake-up, {len(pending)} waiters (one per proposal), {len(latencies)} decisions one by one:\n"
            f"  from the decision's response: p50 {_ms(latencies, 0.5)} ms, p99 {_ms(latencies, 0.99)} ms, "
            f"max {latencies[-1] * 1000:.0f} ms (goal p99 < 250 ms)\n"
            f"  from the decision's request:  p50 {_ms(from_request, 0.5)} ms, p99 {_ms(from_request, 0.99)} ms"
        )

    # --- 3. the old server against the new -------------------------------------------------------
    def old_against_new(self) -> None:
        results = {"old": {"intake": [], "decisions": []}, "new": {"intake": [], "decisions": []}}
        for _round in range(ROUNDS):
            for name, server in (("old", OLD_SERVER), ("new", NEW_SERVER)):
                self.start(server)
                try:
                    results[name]["intake"].append(self.intake())
                    pending = self.pending_ids()
                    results[name]["decisions"].append(asyncio.run(_decision_rate(PORT, self.token, pending)))
                finally:
                    self.stop()
        print(f"this server against the old one (gunicorn 2 x 8 threads, WSGI), best of {ROUNDS} alternating rounds:")
        for measure in ("intake", "decisions"):
            old, new = max(results["old"][measure]), max(results["new"][measure])
            print(
                f"  {measure:9s} old {old:7.0f}/s   new {new:7.0f}/s   ratio {new / old:5.2f} (goal >= 0.90)   "
                f"rounds old {_rates(results['old'][measure])}, new {_rates(results['new'][measure])}"
            )

    # --- helpers ------------------------------------------------------------------------------------
    def intake(self, seconds: int = SECONDS) -> float:
        bench_intake.PORT, bench_intake.SECONDS, bench_intake.CONNECTIONS = PORT, seconds, 8
        body = bench_intake._proposal(confidence=0.97, blast_radius=5) | {"action_type": "crm.update"}
        return bench_intake._wrk("/api/v1/proposals/", body, self.key)

    def pending_ids(self) -> list[int]:
        import psycopg

        with psycopg.connect(self.url) as connection:
            rows = connection.execute(
                "SELECT id FROM proposals_proposal WHERE status = 'pending' ORDER BY id DESC LIMIT 20000"
            ).fetchall()
        return [row[0] for row in rows]

    def start(self, server: dict) -> None:
        self.server = WebServer(self.env, port=PORT, **server).start()

    def stop(self) -> None:
        self.server.stop(timeout=60)

    def settle(self, *, connections: int = 0, quiet: float = 0.15, longest: float = 180) -> float:
        """Seconds until the server holds `connections` and its processes use less than `quiet` of
        a core (they have taken in every waiter, which costs each a few milliseconds once)."""
        started = time.monotonic()
        before = _cpu_seconds([self.server.process.pid, *_children(self.server.process.pid)])
        while time.monotonic() - started < longest:
            time.sleep(1)
            now = _cpu_seconds([self.server.process.pid, *_children(self.server.process.pid)])
            if now - before < quiet and _established(PORT) >= connections:
                break
            before = now
        return time.monotonic() - started

    def server_footprint(self) -> tuple[float, int]:
        """(PSS of the server's processes in MB, open files of its busiest process)."""
        pids = [self.server.process.pid, *_children(self.server.process.pid)]
        pss = sum(_pss_kb(pid) for pid in pids) / 1024
        files = max(len(os.listdir(f"/proc/{pid}/fd")) for pid in pids)
        return pss, files


async def _latencies(port: int, key: str, token: str, proposal_ids: list[int], settle):
    answered: dict[int, float] = {}

    async def wait(proposal_id):
        await _get(port, f"/api/v1/proposals/{proposal_id}/wait/?timeout=60", key)
        answered[proposal_id] = time.monotonic()

    waiters = []
    for start in range(0, len(proposal_ids), 250):
        waiters += [asyncio.create_task(wait(proposal_id)) for proposal_id in proposal_ids[start : start + 250]]
        await asyncio.sleep(0.25)
    await asyncio.sleep(1)
    await asyncio.to_thread(settle, connections=len(proposal_ids))  # all connected and subscribed
    latencies, from_request = [], []
    step = max(1, len(proposal_ids) // DECISIONS)
    for proposal_id in proposal_ids[::step][:DECISIONS]:
        started = time.monotonic()
        await _decide(port, token, proposal_id)
        responded = time.monotonic()
        while proposal_id not in answered and time.monotonic() - responded < 10:
            await asyncio.sleep(0.001)
        woken = answered.get(proposal_id, float("inf"))
        latencies.append(max(0.0, woken - responded))
        from_request.append(woken - started)
        await asyncio.sleep(0.02)
    for waiter in waiters:
        waiter.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    return latencies, from_request


async def _decision_rate(port: int, token: str, proposal_ids: list[int]) -> float:
    queue = list(proposal_ids)
    done = 0
    deadline = time.monotonic() + SECONDS

    async def decider():
        nonlocal done
        while queue and time.monotonic() < deadline:
            status = await _decide(port, token, queue.pop())
            if status != 201:
                raise RuntimeError(f"a decision answered {status}")
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(decider() for _ in range(DECISION_CONNECTIONS)))
    return done / (time.monotonic() - started)


async def _decide(port: int, token: str, proposal_id: int) -> int:
    body = json.dumps({"verdict": "approve", "rationale": "Checked.", "password": PASSWORD})
    status, _body = await _http(port, "POST", f"/api/v1/proposals/{proposal_id}/decisions/", token, body)
    return status


async def _get(port: int, path: str, key: str) -> int:
    return (await _http(port, "GET", path, key))[0]


async def _http(port: int, method: str, path: str, key: str, body: str = "") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        payload = body.encode()
        writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    head, _sep, rest = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), rest


def hold(count: int, port: int, key: str) -> None:
    """The waiters' client (its own process): `count` waits held open over the proposals read
    from stdin, each sent again when it answers, until SIGTERM; prints when all are sent and, at
    the end, how many answered and how many failed."""
    proposal_ids = json.loads(sys.stdin.readline())
    resource.setrlimit(resource.RLIMIT_NOFILE, (resource.getrlimit(resource.RLIMIT_NOFILE)[1],) * 2)

    async def run():
        stopping = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
        counts = {"sent": 0, "answered": 0, "errors": 0}

        async def waiter(index):
            proposal_id = proposal_ids[index % len(proposal_ids)]
            while not stopping.is_set():
                counts["sent"] += 1
                if counts["sent"] == count:
                    print(f"all {count} sent", flush=True)
                try:
                    status = await _get(port, f"/api/v1/proposals/{proposal_id}/wait/?timeout=60", key)
                except OSError:
                    status = 0
                counts["answered"] += 1
                if status != 200:
                    counts["errors"] += 1
                    await asyncio.sleep(1)

        tasks = []
        for start in range(0, count, 250):  # a fleet arriving, not one SYN flood past the listen backlog
            tasks += [asyncio.create_task(waiter(index)) for index in range(start, min(count, start + 250))]
            await asyncio.sleep(0.25)
        await stopping.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        print(f"answered {counts['answered']}, errors {counts['errors']}", flush=True)

    asyncio.run(run())


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            return [int(child) for child in children.read().split()]
    except OSError:
        return []


def _established(port: int) -> int:
    """Connections the server side holds on `port` (accepted or waiting to be)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as sockets:
            for line in sockets.readlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    count += 1
    return count


def _cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a worker the server replaced
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return next(int(line.split()[1]) for line in rollup if line.startswith("Pss:"))


def _ms(values: list[float], quantile: float) -> str:
    if len(values) < 2:
        return f"{values[0] * 1000:.0f}" if values else "-"
    return f"{statistics.quantiles(values, n=100, method='inclusive')[round(quantile * 100) - 1] * 1000:.0f}"


def _rates(values: list[float]) -> str:
    return "/".join(f"{value:.0f}" for value in values)


def _load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


if __name__ == "__main__":
    if sys.argv[1:2] == ["--hold"]:
        hold(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        main()
