"""How throughput scales with worker processes, measured side by side in one run.

    .venv/bin/python -m scripts.bench_workers                 # unary RPS at c=32, workers=1 vs workers=2
    .venv/bin/python -m scripts.bench_workers --memory        # RSS/PSS per process with the embedded model
    .venv/bin/python -m scripts.bench_workers --rounds 5 --seconds 8 --workers 1 2 --pin

The fake upstream (0 ms, 16-delta answers) and one orchestrator per worker count (the benchmark's routed
configuration: the shipped code_generation template, the full pipeline) start once; then, in interleaved rounds
(order alternating), a client process drives each for `--seconds` at `--concurrency` closed-loop calls spread
over `--connections` connections. SO_REUSEPORT balances connections, not calls: one connection would reach one
worker, so the client opens several (each channel its own subchannel pool). Reports medians, the servers' CPU
per call, and `uptime` before and after (the machine is shared: other tenants' load shows there). With --pin the
workers of each server are pinned one per CPU with sched_setaffinity (taskset) after start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench import micro
from tests.bench.procs import MODEL, ROOT, Child, Children, CpuMeter, local_config, routed_config, rss_kib
from tests.bench.run import REQUEST


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages (the code both workers inherited) split between their users."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


# -- the client: its own process, so its CPU is not the servers' -------------------------------------------------------


async def _client(addr: str, concurrency: int, seconds: float, connections: int, warmup: float) -> dict[str, Any]:
    import grpc
    from google.protobuf import json_format
    from orchestrator_client.v1 import generation_pb2 as gen
    from orchestrator_client.v1.generation_pb2_grpc import GenerationServiceStub

    request = json_format.ParseDict(REQUEST, gen.GenerateRequest())
    options = [("grpc.use_local_subchannel_pool", 1), ("grpc.enable_retries", 0)]
    channels = [grpc.aio.insecure_channel(addr, options=options) for _ in range(connections)]
    stubs = itertools.cycle([GenerationServiceStub(channel) for channel in channels])

    async def run(duration: float) -> tuple[list[float], int, float]:
        latencies: list[float] = []
        errors = 0
        began = time.perf_counter()
        end = began + duration

        async def loop() -> None:
            nonlocal errors
            while time.perf_counter() < end:
                t0 = time.perf_counter()
                try:
                    response = await next(stubs).Generate(request, timeout=60)
                    if not response.text:
                        raise RuntimeError("empty answer")
                    latencies.append(time.perf_counter() - t0)
                except Exception:
                    errors += 1

        await asyncio.gather(*(loop() for _ in range(concurrency)))
        return latencies, errors, time.perf_counter() - began

    try:
        await run(warmup)
        latencies, errors, elapsed = await run(seconds)
    finally:
        await asyncio.gather(*(channel.close() for channel in channels))
    return {
        "n": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else None,
    }


def measure(addr: str, args: argparse.Namespace) -> dict[str, Any]:
    argv = [sys.executable, "-m", "scripts.bench_workers", "--client", addr]
    argv += ["--concurrency", str(args.concurrency), "--seconds", str(args.seconds)]
    argv += ["--connections", str(args.connections)]
    done = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=True, timeout=args.seconds + 120)
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the servers ----------------------------------------------------------------------------------------------------


def start(group: Children, name: str, config: dict[str, Any], workers: int) -> Child:
    config = {**config, "server": {**config["server"], "workers": workers}}
    return group.orchestrator(name, config)


def pin(server: Child, workers: int) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    pids = children_of(server.pid) if workers > 1 else [server.pid]
    for i, pid in enumerate(pids):
        os.sched_setaffinity(pid, {cpus[i % len(cpus)]})
        for task in Path(f"/proc/{pid}/task").iterdir():  # every thread of the worker
            os.sched_setaffinity(int(task.name), {cpus[i % len(cpus)]})


def throughput(args: argparse.Namespace) -> dict[str, Any]:
    log_dir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    group = Children(log_dir)
    before = uptime()
    try:
        fake = group.fake("fake-0ms", chunks=16).wait_port()
        servers = {n: start(group, f"orch-{n}w", routed_config(fake.port), n) for n in args.workers}
        for n, server in servers.items():
            server.wait_port()
            if args.pin:
                pin(server, n)
        rows: dict[int, list[dict[str, Any]]] = {n: [] for n in args.workers}
        for round_ in range(args.rounds):
            order = args.workers if round_ % 2 == 0 else list(reversed(args.workers))
            for n in order:
                server = servers[n]
                pids = {"parent": server.pid, **{f"w{i}": p for i, p in enumerate(children_of(server.pid))}}
                with CpuMeter({**pids, "fake": fake.pid}) as meter:
                    result = measure(server.addr, args)
                server_cpu = sum(meter.used[k] for k in pids)
                result["server_cpu_us_per_call"] = server_cpu / max(result["n"], 1) * 1e6
                result["other_cpu_s"] = meter.used["other"]
                rows[n].append(result)
                print(f"round {round_ + 1} workers={n}: {result['rps']:.0f} RPS", file=sys.stderr, flush=True)
    finally:
        for child in reversed(group.started):
            child.stop()
    after = uptime()
    summary = {
        n: {
            "rps_median": statistics.median(r["rps"] for r in runs),
            "rps_all": [round(r["rps"]) for r in runs],
            "p50_ms_median": statistics.median(r["p50_ms"] for r in runs),
            "server_cpu_us_per_call": statistics.median(r["server_cpu_us_per_call"] for r in runs),
            "errors": sum(r["errors"] for r in runs),
        }
        for n, runs in rows.items()
    }
    return {"uptime_before": before, "uptime_after": after, "cpus": len(os.sched_getaffinity(0)), "by_workers": summary}


def memory(args: argparse.Namespace) -> dict[str, Any]:
    """Each process's RSS and PSS with the embedded model (the default config), once serving and after one call."""
    log_dir = Path(tempfile.mkdtemp(prefix="bench-workers-mem-"))
    group = Children(log_dir)
    out: dict[str, Any] = {}
    try:
        for n in args.workers:
            server = start(group, f"local-{n}w", local_config(), n).wait_port()
            argv = [sys.executable, "-m", "orchestrator", "generate", "--target", server.addr, "-m", "Say hi."]
            argv += ["--max-tokens", "16"]
            subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False, timeout=300)
            pids = [server.pid, *children_of(server.pid)]
            out[str(n)] = {str(pid): {"rss_mib": rss_kib(pid) / 1024, "pss_mib": pss_kib(pid) / 1024} for pid in pids}
            server.stop()
    finally:
        for child in reversed(group.started):
            child.stop()
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        "| workers | unary RPS c=32 (median) | rounds | p50 ms | server CPU per call | errors |",
        "|---|---|---|---|---|---|",
    ]
    base = None
    for n, row in result["by_workers"].items():
        base = base or row["rps_median"]
        lines.append(
            f"| {n} | {row['rps_median']:.0f} ({row['rps_median'] / base:.2f}x) | {row['rps_all']} | "
            f"{row['p50_ms_median']:.1f} | {row['server_cpu_us_per_call']:.0f} µs | {row['errors']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--pin", action="store_true", help="pin each worker to its own CPU (taskset)")
    parser.add_argument("--memory", action="store_true", help="RSS/PSS per process with the embedded model")
    parser.add_argument("--client", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        print(json.dumps(asyncio.run(_client(args.client, args.concurrency, args.seconds, args.connections, 1.0))))
        return 0
    assert MODEL and micro.TASK  # the routed configuration and request of tests/bench
    if args.memory:
        print(json.dumps(memory(args), indent=2))
        return 0
    result = throughput(args)
    print(json.dumps(result, indent=2))
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
