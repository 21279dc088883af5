"""Connections are bounded: idle ones are closed, old ones are closed after their grace (so new replicas take load
and nothing a caller holds lives forever), their count is capped, and the process starts with its open-file soft
limit raised to the hard limit."""

from __future__ import annotations

import asyncio
import resource
from pathlib import Path

from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import generation_pb2 as gen

from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ServerProcess
from tests.routing_env import ask, routed_server
from tests.slow_reader import SlowReader

STREAM = "/orchestrator.v1.GenerationService/StreamGenerate"


async def test_an_idle_connection_is_closed_after_the_idle_time() -> None:
    async with (
        FakeUpstream() as fake,
        routed_server(fake, server={"max_connection_idle_seconds": 0.5}) as client,
        SlowReader("127.0.0.1", client.server.port) as idle,  # type: ignore[attr-defined]
    ):
        async with asyncio.timeout(10):
            await idle.closed_by_server.wait()

        assert (await client.generate(ask(), timeout=10)).text == "Hello! You said: hello"


async def test_a_busy_connection_is_not_idle() -> None:
    async with FakeUpstream() as fake, routed_server(fake, server={"max_connection_idle_seconds": 0.5}) as client:
        fake.enqueue(Behaviour(text=" ".join(["word"] * 20), chunk_delay=0.1), model="primary")

        events = [e async for e in client.stream_generate(ask(), timeout=20)]  # two seconds on one connection

        assert events[-1].WhichOneof("event") == "final"


async def test_a_connection_past_its_age_is_closed_after_the_grace_even_with_a_stuck_stream() -> None:
    age = {"max_connection_age_seconds": 1.0, "max_connection_age_grace_seconds": 0.5}
    async with FakeUpstream() as fake, routed_server(fake, server=age, stream_idle_timeout_seconds=120) as client:
        fake.enqueue(Behaviour(text="a b c d", stall_after=2), model="primary")
        async with SlowReader("127.0.0.1", client.server.port, window=0) as caller:  # type: ignore[attr-defined]
            stream = await caller.call(STREAM, ask())
            async with asyncio.timeout(15):
                await caller.closed_by_server.wait()
        assert stream.trailers == {}  # nothing was ever read: the connection's end is the stream's end


async def test_connections_beyond_the_cap_are_refused_and_the_others_keep_working() -> None:
    async with FakeUpstream() as fake, routed_server(fake, server={"max_connections": 2}) as client:
        port = client.server.port  # type: ignore[attr-defined]
        await client.generate(ask(), timeout=10)  # the client's own connection is one of the two
        async with SlowReader("127.0.0.1", port) as second, SlowReader("127.0.0.1", port) as third:
            async with asyncio.timeout(10):
                await third.closed_by_server.wait()
            assert not second.closed_by_server.is_set()
            assert (await client.generate(ask(text="still here"), timeout=10)).text == "Hello! You said: still here"


def _low_soft_limit() -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))


async def test_the_open_file_soft_limit_is_raised_to_the_hard_limit_at_start(tmp_path: Path) -> None:
    server = ServerProcess({}, tmp_path, preexec_fn=_low_soft_limit)
    try:
        async with OrchestratorClient(server.target) as client:
            await client.generation.ListModels(gen.ListModelsRequest(), timeout=10)
        limits = Path(f"/proc/{server.process.pid}/limits").read_text()
    finally:
        server.stop()
    (line,) = [line for line in limits.splitlines() if line.startswith("Max open files")]
    soft, hard = line.split()[3:5]
    assert soft == hard
    assert "open-file limit raised from 256" in server.stderr_text()
