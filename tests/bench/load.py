"""`make load`: k6 (bench/k6/orchestrator.js) against a server routed to the fake upstream, k6's summary printed.

    python -m tests.bench.load    # LOAD_SCENARIO=unary|streaming|mixed|all, LOAD_RATE=10, LOAD_DURATION=20s

The fake answers after LOAD_LATENCY_MS (20) and streams 16 deltas LOAD_CHUNK_DELAY_MS (5) apart, so the numbers
are the orchestrator's overhead plus that. `make bench` remains the precise side-by-side measurement.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.bench.procs import ROOT, child_env, children, routed_config

SCRIPT = ROOT / "bench/k6/orchestrator.js"
K6 = Path(sys.executable).parent / "k6"


def k6_command(target: str, scenario: str, rate: str, duration: str, *options: str) -> list[str]:
    """`k6 run [options] -e ... SCRIPT`; options such as --quiet or --summary-export FILE."""
    return [
        str(K6), "run", "--no-usage-report", *options,
        "-e", f"ORCHESTRATOR_TARGET={target}", "-e", f"SCENARIO={scenario}",
        "-e", f"RATE={rate}", "-e", f"DURATION={duration}",
        str(SCRIPT),
    ]  # fmt: skip


def main() -> int:
    env = os.environ
    latency, chunk_delay = float(env.get("LOAD_LATENCY_MS", "20")), float(env.get("LOAD_CHUNK_DELAY_MS", "5"))
    with tempfile.TemporaryDirectory(prefix="orchestrator-load-") as logs, children(Path(logs)) as group:
        fake = group.fake("fake", latency_ms=latency, chunks=16, chunk_delay_ms=chunk_delay).wait_port()
        server = group.orchestrator("orchestrator", routed_config(fake.port)).wait_port()
        print(f"orchestrator on {server.addr}, fake upstream on {fake.addr} ({latency:g} ms, 16 deltas)", flush=True)
        command = k6_command(
            server.addr, env.get("LOAD_SCENARIO", "all"), env.get("LOAD_RATE", "10"), env.get("LOAD_DURATION", "20s")
        )
        result = subprocess.run(command, cwd=ROOT, env=child_env())
        if result.returncode != 0:
            print(f"k6 exited with {result.returncode}; orchestrator log:\n{server.tail()}", file=sys.stderr)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main())
