"""The integrator SDK's cost: a gated call through `require_approval` against the same HTTP requests
made with raw httpx, and the MCP gateway's added latency on an autonomous call.

A platform runs in the Procfile's server (1 worker, 4 threads) on a throw-away database (PostgreSQL
when one answers, else an SQLite file); the action type is routed autonomously, so each gated call is
two requests (submit with an Idempotency-Key, report the execution) and no wait. The baseline does
exactly those two requests with httpx and json by hand.
Goals: SDK / raw <= 1.2 (median per call); gateway p50 added latency < 20 ms (MCP client ->
gateway -> toy upstream, against MCP client -> toy upstream, both in-process).
Also printed: the same comparison over httpx's MockTransport (no network, no server), which shows
the SDK's own CPU per call. Scale with BENCH_SDK_CALLS (default 200 per round) and BENCH_SDK_ROUNDS (3).
"""

import asyncio
import contextlib
import json
import logging
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.databases import DEFAULT_SERVER, postgres_database, postgres_server
from benchmarks.servers import manage, server_environment
from tests.processes import WebServer

DATABASE = "hitl_bench_sdk"
PORT = int(os.environ.get("BENCH_SDK_PORT", "8767"))
CALLS = int(os.environ.get("BENCH_SDK_CALLS", "200"))
ROUNDS = int(os.environ.get("BENCH_SDK_ROUNDS", "3"))

SETUP = """
from apps.agents.services import agent_create
from apps.policies.services import policy_load_yaml
policy_load_yaml(text='''
rules:
  - name: bench-autonomous
    action_type: "bench.*"
    mode: autonomous
''', allow_unstaffed=True)
agent, key = agent_create(name="sdk-bench-bot")
print("KEY=" + key)
"""


def main() -> None:
    try:
        import hitlplatform_client  # noqa: F401
        import httpx  # noqa: F401
    except ImportError as error:
        print(f"bench_sdk: skipped — the SDK is not installed ({error}); make venv installs it")
        return
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request would bury the figures
    server_url = postgres_server(default=DEFAULT_SERVER)
    with contextlib.ExitStack() as stack:
        if server_url is not None:
            database_url = stack.enter_context(postgres_database(server_url, DATABASE))
            print("  platform: gunicorn on PostgreSQL")
        else:
            directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="hitl-bench-sdk-"))
            database_url = f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
            print("  platform: gunicorn on SQLite (no PostgreSQL reachable)")
        env = server_environment(database_url, CELERY_TASK_ALWAYS_EAGER="1")
        manage(env, "migrate", "--noinput")
        key = next(line[4:] for line in manage(env, "shell", "-c", SETUP).splitlines() if line.startswith("KEY="))
        with WebServer(env, port=PORT, workers=1, threads=4) as server:
            _gated_calls(server.url, key)
            _gated_calls_offline()
            _gateway_latency(server.url, key)


def _gated_calls(url: str, key: str) -> None:
    import httpx
    from hitlplatform_client import HitlClient, require_approval

    runs = []
    hitl = HitlClient(url, key)

    @require_approval(hitl, action_type="bench.refund", confidence=0.9, key=lambda args: f"sdk:{args['n']}")
    def gated(n: str, amount: str) -> dict:
        runs.append(n)
        return {"ok": True}

    raw = httpx.Client(base_url=f"{url}/api/v1/", headers={"Authorization": f"Bearer {key}"})

    def by_hand(n: str) -> dict:
        response = raw.post(
            "proposals/",
            json={"action_type": "bench.refund", "payload": {"n": n, "amount": "1.00"}, "confidence": 0.9},
            headers={"Idempotency-Key": f"raw:{n}"},
        )
        response.raise_for_status()
        proposal = response.json()
        assert proposal["status"] == "approved"
        result = {"ok": True, "args": proposal["final_payload"]}
        raw.post(
            f"proposals/{proposal['id']}/execution/", json={"status": "succeeded", "detail": {"result": {"ok": True}}}
        )
        return result

    sdk_times, raw_times = _interleaved(lambda n: gated(n=n, amount="1.00"), by_hand)
    _report("gated call, live platform", sdk_times, raw_times, goal=1.2)
    assert len(runs) == CALLS * ROUNDS + 5  # every gated call ran exactly once (5 warm-up calls)
    hitl.close()
    raw.close()


def _gated_calls_offline() -> None:
    """The same two requests answered by httpx's MockTransport: what the SDK itself costs."""
    import httpx
    from hitlplatform_client import HitlClient, require_approval

    proposal = {
        "id": 1,
        "status": "approved",
        "mode": "autonomous",
        "action_type": "bench.refund",
        "payload": {"n": "1", "amount": "1.00"},
        "final_payload": {"n": "1", "amount": "1.00"},
        "decisions": [],
    }

    def answer(request: httpx.Request) -> httpx.Response:
        body = dict(proposal)
        if request.url.path.endswith("/execution/"):
            body["execution"] = {"status": "succeeded", "detail": {}}
        else:
            body["payload"] = body["final_payload"] = json.loads(request.content)["payload"]
        return httpx.Response(201, json=body)

    transport = httpx.MockTransport(answer)
    hitl = HitlClient("http://bench.invalid", "key", transport=transport)

    @require_approval(hitl, action_type="bench.refund", confidence=0.9, key=lambda args: f"sdk:{args['n']}")
    def gated(n: str, amount: str) -> dict:
        return {"ok": True}

    raw = httpx.Client(
        base_url="http://bench.invalid/api/v1/", transport=transport, headers={"Authorization": "Bearer key"}
    )

    def by_hand(n: str) -> dict:
        response = raw.post(
            "proposals/",
            json={"action_type": "bench.refund", "payload": {"n": n, "amount": "1.00"}, "confidence": 0.9},
            headers={"Idempotency-Key": f"raw:{n}"},
        )
        body = response.json()
        raw.post(f"proposals/{body['id']}/execution/", json={"status": "succeeded", "detail": {"result": {"ok": True}}})
        return {"ok": True}

    sdk_times, raw_times = _interleaved(lambda n: gated(n=n, amount="1.00"), by_hand)
    _report("gated call, MockTransport (client CPU only)", sdk_times, raw_times, goal=None)


def _gateway_latency(url: str, key: str) -> None:
    """MCP client -> gateway -> upstream against MCP client -> upstream, on the live platform and on
    a platform answered in-process (MockTransport), which leaves the gateway's own cost."""
    import httpx
    from hitlplatform_client import AsyncHitlClient

    live = _gateway_added(lambda: AsyncHitlClient(url, key))
    print(
        f"  MCP gateway, autonomous tools/call, live platform: added p50 {live['p50']:.2f} ms, p95 {live['p95']:.2f} ms "
        f"(direct {live['direct']:.2f} ms); of which the platform's two requests (submit, execution) "
        f"p50 {live['platform']:.2f} ms"
    )

    def answer(request: httpx.Request) -> httpx.Response:
        body = {"id": 1, "status": "approved", "mode": "autonomous", "action_type": "bench.refund", "payload": {}}
        if not request.url.path.endswith("/execution/"):
            body["payload"] = body["final_payload"] = json.loads(request.content)["payload"]
        return httpx.Response(201, json=body)

    instant = _gateway_added(
        lambda: AsyncHitlClient("http://bench.invalid", "key", transport=httpx.MockTransport(answer))
    )
    own = instant["p50"]
    print(
        f"  MCP gateway, autonomous tools/call, platform answered in-process: added p50 {own:.2f} ms, "
        f"p95 {instant['p95']:.2f} ms (goal for the gateway's own cost: p50 < 20 ms) {'OK' if own < 20 else 'MISSED'}; "
        f"live added minus the platform's requests: {live['p50'] - live['platform']:.2f} ms"
    )


def _gateway_added(make_client) -> dict:
    from hitlplatform_client.mcp_gateway import GatewayConfig, build_gateway
    from mcp import Client
    from mcp.server.mcpserver import MCPServer

    upstream = MCPServer("toy-payments")

    @upstream.tool()
    def refund(order_id: str, amount: str) -> str:
        """Refund an order."""
        return f"refunded {amount} on {order_id}"

    config = GatewayConfig.from_dict({"tools": {"refund": {"action_type": "bench.refund", "confidence": 0.9}}})

    async def measure() -> tuple[list[float], list[float], list[float]]:
        direct_times, gateway_times, platform_times = [], [], []
        async with make_client() as hitl, Client(upstream) as direct, Client(upstream) as via:
            gateway = build_gateway(hitl, via, config)
            async with Client(gateway) as client:
                for index in range(CALLS * ROUNDS + 20):
                    arguments = {"order_id": f"G-{uuid.uuid4().hex[:12]}", "amount": "1.00"}
                    started = time.perf_counter()
                    await direct.call_tool("refund", arguments)
                    direct_elapsed = time.perf_counter() - started
                    started = time.perf_counter()
                    result = await client.call_tool("refund", arguments)
                    gateway_elapsed = time.perf_counter() - started
                    assert not result.is_error, result
                    started = time.perf_counter()
                    proposal = await hitl.submit(
                        action_type="bench.refund", payload={"raw": uuid.uuid4().hex}, confidence=0.9
                    )
                    await hitl.report_execution(proposal.id, "succeeded", {"result": "x"})
                    platform_elapsed = time.perf_counter() - started
                    if index >= 20:  # warm-up
                        direct_times.append(direct_elapsed)
                        gateway_times.append(gateway_elapsed)
                        platform_times.append(platform_elapsed)
        return direct_times, gateway_times, platform_times

    direct_times, gateway_times, platform_times = asyncio.run(measure())
    return {
        "p50": (statistics.median(gateway_times) - statistics.median(direct_times)) * 1000,
        "p95": (statistics.quantiles(gateway_times, n=20)[18] - statistics.quantiles(direct_times, n=20)[18]) * 1000,
        "direct": statistics.median(direct_times) * 1000,
        "platform": statistics.median(platform_times) * 1000,
    }


def _interleaved(sdk_call, raw_call) -> tuple[list[float], list[float]]:
    """Per-call seconds of each, in alternating rounds so that drift hits both alike."""
    for warm in range(5):
        sdk_call(f"warm-{warm}-{uuid.uuid4().hex[:8]}")
        raw_call(f"warm-{warm}-{uuid.uuid4().hex[:8]}")
    sdk_times, raw_times = [], []
    for _round in range(ROUNDS):
        for call, times in ((sdk_call, sdk_times), (raw_call, raw_times)):
            for _ in range(CALLS):
                n = uuid.uuid4().hex
                started = time.perf_counter()
                call(n)
                times.append(time.perf_counter() - started)
    return sdk_times, raw_times


def _report(what: str, sdk_times: list[float], raw_times: list[float], *, goal: float | None) -> None:
    sdk, raw = statistics.median(sdk_times), statistics.median(raw_times)
    ratio = sdk / raw
    verdict = "" if goal is None else f" (goal: <= {goal}) {'OK' if ratio <= goal else 'MISSED'}"
    print(
        f"  {what}: SDK {sdk * 1000:.3f} ms, raw httpx {raw * 1000:.3f} ms per call "
        f"(median of {len(sdk_times)}); SDK / raw = {ratio:.2f}{verdict}"
    )


if __name__ == "__main__":
    main()
