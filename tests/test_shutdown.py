"""SIGTERM: health flips to NOT_SERVING first, the running stream finishes, the process exits 0."""

from __future__ import annotations

import asyncio
from pathlib import Path

from grpc_health.v1 import health_pb2, health_pb2_grpc
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen

from tests.helpers import ServerProcess


async def test_sigterm_during_a_stream_drains_then_exits_zero(tmp_path: Path) -> None:
    server = ServerProcess({"server": {"drain_seconds": 1.0, "grace_seconds": 20}}, tmp_path)
    request = gen.GenerateRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content="Count from 1 to 100, one per line.")],
        params=gen.GenerationParams(max_output_tokens=150, temperature=0.0),
    )
    try:
        async with OrchestratorClient(server.target) as client:
            health = health_pb2_grpc.HealthStub(client.channel)
            events = client.stream_generate(request, timeout=60)
            first = await anext(events)
            assert first.WhichOneof("event") == "start"
            assert (await anext(events)).WhichOneof("event") == "delta"

            server.terminate()
            for _ in range(9):  # within the 1 s drain, while new calls are still accepted
                await asyncio.sleep(0.1)
                during = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
                if during.status == health_pb2.HealthCheckResponse.NOT_SERVING:
                    break
            rest = [event async for event in events]

        assert during.status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert rest[-1].WhichOneof("event") == "final"
        assert rest[-1].final.usage.output_tokens > 2
        assert await asyncio.to_thread(server.process.wait, 30) == 0
    finally:
        server.stop()
