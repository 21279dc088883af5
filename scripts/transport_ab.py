"""Native transport vs the official SDK, side by side in one run: two orchestrators on the same fake upstream.

    python -m scripts.transport_ab [--rounds 5] [--seconds 3]

Reuses the benchmark's processes and load generator (tests/bench): the fake upstream (0 ms, 64 deltas), two
orchestrators identical but for `transport: native` / `transport: sdk`, interleaved rounds (which goes first
alternates), unary at c=32 and c=1 and streams at c=1. CPU per call is the orchestrator process's CPU seconds over
the calls answered. Prints medians over the rounds, the machine's load, and the CPU used by other tenants.
`--profile S`: then py-spy on each orchestrator for S seconds at unary c=32, and the CPU share per library.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.bench import micro, profile
from tests.bench.procs import ROOT, Child, CpuMeter, LoadGenClient, children, routed_config, settle
from tests.bench.run import DELTAS, REQUEST

SCENARIOS = [("unary", 32), ("unary", 1), ("stream", 1)]


def config(fake_port: int, transport: str) -> dict[str, Any]:
    raw = routed_config(fake_port)
    raw["providers"]["fake"]["transport"] = transport
    return raw


def spy(orch: Child, loadgen: LoadGenClient, target: dict[str, str], seconds: float, folded: Path) -> None:
    """py-spy on `orch` while the load generator drives unary calls at c=32; prints the CPU share per library."""

    def record() -> None:
        time.sleep(1.0)  # steady state first
        profile.record(orch.pid, seconds, folded)

    thread = threading.Thread(target=record, daemon=True)
    thread.start()
    loadgen.send({"op": "unary", "target": target, "concurrency": 32, "duration": seconds + 2.5}, seconds + 120)
    thread.join(timeout=120)
    summary = profile.summarize(folded.read_text(), str(ROOT))
    print(f"  samples {summary['samples']}", flush=True)
    for row in summary["self_by_owner"][:10]:
        print(f"  {row['pct']:5.1f}%  {row['name']}", flush=True)
    for row in summary["ours_attributed"][:8]:
        print(f"  {row['pct']:5.1f}%  (attributed) {row['name']}", flush=True)


def main(rounds: int, seconds: float, profile_s: float) -> None:
    log_dir = Path(tempfile.mkdtemp(prefix="transport-ab-"))
    messages = asyncio.run(micro.rendered_messages())
    print(f"load average before: {os.getloadavg()}", flush=True)
    results: dict[tuple[str, int, str], list[dict[str, float]]] = {}
    with children(log_dir) as group:
        fake = group.fake("fake-0ms").wait_port()
        orchs = {t: group.orchestrator(f"orch-{t}", config(fake.port, t)) for t in ("native", "sdk")}
        for child in orchs.values():
            child.wait_port()
        loadgen = LoadGenClient(log_dir)
        group.add(loadgen)
        body = {"model": "bench-model", "messages": messages, "max_tokens": micro.MAX_OUTPUT_TOKENS}
        loadgen.send({"op": "setup", "request": REQUEST, "http_body": body}, 10)
        targets = {t: {"kind": "grpc", "addr": child.addr} for t, child in orchs.items()}
        for target in targets.values():  # warm-up
            loadgen.send({"op": "unary", "target": target, "concurrency": 32, "duration": 2}, 120)
            loadgen.send({"op": "stream", "target": target, "concurrency": 4, "duration": 1, "deltas": DELTAS}, 120)
        for r in range(rounds):
            for op, concurrency in SCENARIOS:
                order = ["native", "sdk"] if r % 2 == 0 else ["sdk", "native"]
                for transport in order:
                    settle(0.2)
                    command = {"op": op, "target": targets[transport], "concurrency": concurrency}
                    with CpuMeter({"orch": orchs[transport].pid}) as meter:
                        reply = loadgen.send({**command, "duration": seconds, "deltas": DELTAS}, seconds + 120)
                    n = reply["n"] - reply.get("errors", 0)
                    row = {
                        "rps": reply["n"] / reply["elapsed_s"],
                        "cpu_us_per_call": meter.used["orch"] / max(n, 1) * 1e6,
                        "other_cpu_s": meter.used["other"],
                        "errors": reply["errors"],
                    }
                    if op == "unary":
                        row["p50_us"] = reply["latency_us"]["p50"]
                    results.setdefault((op, concurrency, transport), []).append(row)
        print(f"load average after: {os.getloadavg()}", flush=True)
        if profile_s and profile.py_spy() is not None:
            for transport, child in orchs.items():
                print(f"profile {transport}: py-spy --gil, unary c=32, {profile_s:g}s", flush=True)
                spy(child, loadgen, targets[transport], profile_s, log_dir / f"{transport}.folded")
    for (op, concurrency, transport), rows in results.items():
        medians = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
        shown = "  ".join(f"{key} {value:9.1f}" for key, value in medians.items())
        print(f"{op:6} c={concurrency:<3} {transport:6}  {shown}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--profile", type=float, default=0.0, help="seconds of py-spy per orchestrator (0: none)")
    args = parser.parse_args()
    main(args.rounds, args.seconds, args.profile)
