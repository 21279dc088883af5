"""`make bench-peers`: the orchestrator side by side with LiteLLM proxy and the Portkey gateway (issue 15).

    python -m tests.bench.peers_run            # ~7 minutes on 2 cores (installs the peers the first time)
    BENCH_QUICK=1 python -m tests.bench.peers_run   # smoke run, 2 short rounds

One fake upstream (0 ms, 16-delta answers) serves all three. The orchestrator is called over gRPC with the bench's
usual request (the shipped code_generation template, full pipeline), the peers and the fake itself ("direct") over
HTTP with the same rendered messages through one pooled aiohttp session (tests/bench/httpclient.py). The same
5 interleaved rounds (order alternating) as `make bench`, medians over rounds:

- unary c=32: RPS, and server CPU per call (each server's process tree, from /proc/<pid>/stat);
- unary c=1: added latency p50 = target p50 - direct p50 (same client, same fake);
- stream c=1: added TTFT p50 (first content delta) = target - direct;
- stream c=8: server CPU per streamed answer (16 deltas).

The load generator's CPU per call is reported for every target (the client cost: gRPC for the orchestrator,
aiohttp for the others). The orchestrator runs one worker process (`server.workers: 1` where that setting exists;
BENCH_PEERS_WORKERS overrides, with BENCH_PEERS_CHANNELS connections to reach them; written to
peers-Nworkers.json) like the peers: LiteLLM with one worker, Portkey on one Node event loop.
BENCH_PEERS_QUOTA=1 runs it with auth + quotas counted in a throwaway Redis (tests/bench/quota.py's config).
Writes bench/results/peers.json (quick: peers-quick.json) and prints the table with the goal ratios.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.bench import micro, peers, peers_report, quota, report
from tests.bench.procs import MODEL, ROOT, CpuMeter, LoadGenClient, children, routed_config, rss_kib, settle
from tests.bench.run import REQUEST, RESULTS, Plan, _install_signal_handlers, _rounded, log

DELTAS = 16  # the fake's deltas per streamed answer (the table: 16-token answers)
STREAM_LOAD = 8  # concurrency of the run that measures CPU per streamed answer
SERVERS = ("orch", "portkey", "litellm")


def orchestrator_config(fake_port: int, redis_url: str | None) -> dict[str, Any]:
    """The bench's routed config; with a Redis URL, auth + quotas as in the auth + quota phase (BENCH_PEERS_QUOTA)."""
    from orchestrator.config import ServerSettings

    config = routed_config(fake_port) if redis_url is None else quota.configs(fake_port, redis_url)[1]
    if "workers" in ServerSettings.model_fields:
        config["server"]["workers"] = int(os.environ.get("BENCH_PEERS_WORKERS", "1"))
    return config


def _scenarios(plan: Plan) -> list[tuple[str, str, int, float, list[str]]]:
    return [
        ("unary_c1", "unary", 1, plan.c1_s, ["orch", "portkey", "litellm", "direct"]),
        ("stream_c1", "stream", 1, plan.c1_s, ["orch", "portkey", "litellm", "direct"]),
        ("unary_c32", "unary", 32, plan.load_s, [*SERVERS, "direct"]),
        (f"stream_c{STREAM_LOAD}", "stream", STREAM_LOAD, plan.load_s, list(SERVERS)),
    ]


def measure(plan: Plan, log_dir: Path) -> dict[str, Any]:
    raw: dict[str, Any] = {"versions": {"litellm": peers.install_litellm(), "portkey": peers.install_portkey()}}
    raw["versions"]["hono_node_server"] = peers.HONO_NODE_SERVER
    messages = asyncio.run(micro.rendered_messages())
    with children(log_dir) as group:
        log("starting the fake (0 ms, 16 deltas), the orchestrator, LiteLLM proxy, the Portkey gateway")
        fake = group.fake("fake-0ms", chunks=DELTAS).wait_port()
        redis_url = None
        if os.environ.get("BENCH_PEERS_QUOTA", "") not in ("", "0"):
            redis = quota.ThrowawayRedis()
            group.add(redis)
            redis_url = redis.url
        config = orchestrator_config(fake.port, redis_url)
        raw["orchestrator_workers"] = config["server"].get("workers", "n/a (no server.workers setting)")
        raw["orchestrator_auth_quota"] = redis_url is not None
        orch = group.orchestrator("orch", config)
        litellm, litellm_headers = peers.start_litellm(fake.port, log_dir)
        group.add(litellm)
        portkey, portkey_headers = peers.start_portkey(fake.port, log_dir)
        group.add(portkey)
        orch.wait_port()
        portkey.wait_ready()
        litellm.wait_ready()
        loadgen = LoadGenClient(log_dir)
        group.add(loadgen)

        def send(command: dict[str, Any], seconds: float) -> dict[str, Any]:
            return loadgen.send({**command, "deltas": DELTAS}, timeout=seconds + 120)

        body = {"model": MODEL, "messages": messages, "max_tokens": micro.MAX_OUTPUT_TOKENS}
        send({"op": "setup", "request": REQUEST, "http_body": body}, 10)
        url = "http://{}/v1/chat/completions"
        targets: dict[str, dict[str, Any]] = {
            # BENCH_PEERS_CHANNELS: unary calls over that many connections (to reach several worker processes).
            "orch": {"kind": "grpc", "addr": orch.addr, "channels": int(os.environ.get("BENCH_PEERS_CHANNELS", "1"))},
            "portkey": {"kind": "aiohttp", "url": url.format(portkey.addr), "headers": portkey_headers},
            "litellm": {"kind": "aiohttp", "url": url.format(litellm.addr), "headers": litellm_headers},
            "direct": {"kind": "aiohttp", "url": url.format(fake.addr)},
        }
        if redis_url is not None:
            targets["orch"]["metadata"] = [["authorization", f"Bearer {quota.KEY}"]]
        log(f"warm-up: {plan.warmup_s:g}s per target, unary and streamed")
        for target in targets.values():
            send({"op": "unary", "target": target, "concurrency": 32, "duration": plan.warmup_s}, plan.warmup_s)
            send({"op": "stream", "target": target, "concurrency": 4, "duration": 1.0}, 1.0)
        pids = {"orch": orch.pid, "portkey": portkey.pid, "litellm": litellm.pid, "fake": fake.pid}
        pids["loadgen"] = loadgen.pid
        rounds: list[dict[str, Any]] = []
        for r in range(plan.rounds):
            log(f"round {r + 1}/{plan.rounds}")
            this: dict[str, Any] = {}
            for scenario, op, concurrency, seconds, names in _scenarios(plan):
                this[scenario] = {}
                for name in names if r % 2 == 0 else reversed(names):
                    settle(0.3)
                    command = {"op": op, "target": targets[name], "concurrency": concurrency, "duration": seconds}
                    with CpuMeter(pids) as meter:
                        reply = send(command, seconds)
                    this[scenario][name] = reply | {"cpu_s": meter.used}
            rounds.append(this)
        raw["rounds"] = rounds
        raw["rss_kib"] = {name: rss_kib(pid) for name, pid in pids.items()}
    return raw


def main() -> int:
    plan = Plan.from_env()
    name = "peers-quick" if plan.mode == "quick" else "peers"
    if os.environ.get("BENCH_PEERS_WORKERS", "1") != "1":  # the default run's file stays the 1-worker one
        name += f"-{os.environ['BENCH_PEERS_WORKERS']}workers"
    out = RESULTS / f"{name}.json"
    log_dir = Path(tempfile.mkdtemp(prefix="orchestrator-bench-peers-"))
    log(f"{plan.mode} run; child logs in {log_dir}")
    _install_signal_handlers(plan.time_limit_s)
    machine = report.machine_info()
    started = time.monotonic()
    try:
        raw = measure(plan, log_dir)
    except BaseException as exc:
        log(f"FAILED: {type(exc).__name__}: {exc} (child logs in {log_dir})")
        raise
    finally:
        signal.alarm(0)
    machine["load_average_end"] = list(os.getloadavg())
    figures = peers_report.figures(raw["rounds"], list(SERVERS), f"stream_c{STREAM_LOAD}")
    document = {
        "machine": machine,
        "plan": asdict(plan),
        "duration_s": round(time.monotonic() - started, 1),
        "versions": raw["versions"],
        "orchestrator_workers": raw["orchestrator_workers"],
        "orchestrator_auth_quota": raw["orchestrator_auth_quota"],
        "figures": figures,
        "goals": peers_report.goals(figures),
        "raw": raw,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    scratch = out.with_suffix(".json.tmp")
    scratch.write_text(json.dumps(_rounded(document), indent=1, default=str) + "\n")
    scratch.replace(out)
    print(peers_report.table(document))
    print(f"\nresults: {out.relative_to(ROOT)}; child logs: {log_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
