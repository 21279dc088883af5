"""The k6 load script (bench/k6/orchestrator.js, run by `make load`) works against the real server: a one-second
smoke of its unary and streaming scenarios, read from k6's exported summary."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tests.bench.load import k6_command
from tests.bench.procs import child_env
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ROOT
from tests.routing_env import routed_server


async def test_the_k6_script_runs_its_unary_and_streaming_scenarios(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    async with FakeUpstream() as fake:
        fake.set_default(Behaviour(chunks=4))
        async with routed_server(fake) as client:
            target = f"127.0.0.1:{client.server.port}"  # type: ignore[attr-defined]
            options = ("--quiet", "--summary-export", str(summary), "-e", "GAP_SECONDS=0")
            command = k6_command(target, "unary,streaming", "4", "1s", *options)
            process = await asyncio.create_subprocess_exec(
                *command, cwd=ROOT, env=child_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
            )
            output, _ = await asyncio.wait_for(process.communicate(), timeout=120)

    assert process.returncode == 0, output.decode()[-3000:]
    metrics = json.loads(summary.read_text())["metrics"]
    assert metrics["checks"]["fails"] == 0
    assert metrics["checks"]["passes"] > 0
    assert metrics["grpc_req_duration{scenario:unary}"]["max"] > 0  # the unary scenario made calls
    assert metrics["grpc_streams"]["count"] > 0
    assert metrics["stream_deltas"]["count"] == 4 * metrics["grpc_streams"]["count"]
