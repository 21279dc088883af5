"""How soon the upstream sees its connection closed after the caller leaves a stream, per provider transport.

    python -m scripts.cancel_latency [--rounds 30]

Two measurements against the fake upstream, each with an upstream that stalls after two deltas (waiting for the
client to go away) and with one still streaming (a delta every 20 ms):
- provider: the task reading the provider's stream is cancelled -> the fake sees the connection closed;
- server: a gRPC caller cancels its StreamGenerate on a real server on loopback -> the fake sees it closed;
- process: the same with the server in its own process (`orchestrator serve`), as deployed, while
  `--background` other callers stream through it (a delta every 20 ms each).
Prints the median and 90th percentile in milliseconds for `transport: native` and `transport: sdk`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from orchestrator_client import OrchestratorClient

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, SamplingParams
from orchestrator.providers import create_provider
from orchestrator.providers.base import ProviderRequest
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ServerProcess
from tests.routing_env import ask, routed_config, routed_server

BACKGROUND_CALLERS = 0
UPSTREAMS = {
    "stalled": Behaviour(text="one two three four", stall_after=2),
    "streaming": Behaviour(text=" ".join(["word"] * 400), chunk_delay=0.02),
}


async def provider_level(transport: str, upstream: Behaviour, rounds: int) -> list[float]:
    samples = []
    async with FakeUpstream() as fake:
        settings = ProviderSettings(type="openai_compatible", base_url=f"{fake.base_url}/v1", transport=transport)  # type: ignore[arg-type]
        provider = create_provider("upstream", settings)
        await provider.start()
        request = ProviderRequest("m", (ChatMessage("user", "hi"),), SamplingParams(max_output_tokens=8), 10.0)
        for _ in range(rounds):
            fake.enqueue(upstream)
            started = asyncio.Event()

            async def read() -> None:
                async for _event in provider.stream(request):
                    started.set()  # noqa: B023

            task = asyncio.create_task(read())
            await started.wait()
            await asyncio.sleep(0.01)  # the reader now waits for the third delta
            before = fake.disconnects
            cancel_at = time.perf_counter()
            task.cancel()
            await fake.wait_for_disconnects(before + 1, timeout=10)
            samples.append((time.perf_counter() - cancel_at) * 1000)
            await asyncio.gather(task, return_exceptions=True)
        await provider.aclose()
    return samples


async def _cancel_streams(
    client: OrchestratorClient, fake: FakeUpstream, upstream: Behaviour, rounds: int
) -> list[float]:
    samples = []
    for _ in range(rounds):
        fake.set_default(upstream)
        call = client.generation.StreamGenerate(ask(), timeout=30)
        async for event in call:
            if event.WhichOneof("event") == "delta":
                break
        await asyncio.sleep(0.01)
        before = fake.disconnects
        cancel_at = time.perf_counter()
        call.cancel()
        await fake.wait_for_disconnects(before + 1, timeout=10)
        samples.append((time.perf_counter() - cancel_at) * 1000)
    return samples


async def server_level(transport: str, upstream: Behaviour, rounds: int) -> list[float]:
    async with FakeUpstream() as fake:
        provider = {"type": "openai_compatible", "base_url": f"{fake.base_url}/v1", "transport": transport}
        async with routed_server(fake, provider=provider, metrics_port=-1, stream_idle_timeout_seconds=60) as client:
            return await _cancel_streams(client, fake, upstream, rounds)


BACKGROUND = Behaviour(text=" ".join(["word"] * 50), chunk_delay=0.02)


async def process_level(transport: str, upstream: Behaviour, rounds: int) -> list[float]:
    async with FakeUpstream(record=False) as fake:
        fake.set_default(BACKGROUND, model="fallback")
        provider = {"type": "openai_compatible", "base_url": f"{fake.base_url}/v1", "transport": transport}
        config = routed_config(fake, provider=provider, stream_idle_timeout_seconds=60)
        server = ServerProcess(config, Path(tempfile.mkdtemp(prefix="cancel-latency-")))
        stop = asyncio.Event()
        try:
            async with OrchestratorClient(server.target) as client:

                async def background() -> None:
                    while not stop.is_set():
                        async for _ in client.generation.StreamGenerate(ask(preferred="fallback", fallbacks=())):
                            pass

                others = [asyncio.create_task(background()) for _ in range(BACKGROUND_CALLERS)]
                await asyncio.sleep(0.5 if others else 0)
                try:
                    return await _cancel_streams(client, fake, upstream, rounds)
                finally:
                    stop.set()
                    for task in others:
                        task.cancel()
                    await asyncio.gather(*others, return_exceptions=True)
        finally:
            server.stop()


def _summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {statistics.median(ordered):6.2f} ms   p90 {p90:6.2f} ms   max {ordered[-1]:6.2f} ms"


LEVELS = {"provider": provider_level, "server": server_level, "process": process_level}


async def main(rounds: int, levels: list[str]) -> None:
    for level in levels:
        measure = LEVELS[level]
        for name, upstream in UPSTREAMS.items():
            for transport in ("native", "sdk"):
                samples = await measure(transport, upstream, rounds)
                print(f"{level:8} {name:9} {transport:6}  n={len(samples)}  {_summary(samples)}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--background", type=int, default=0, help="other callers streaming at the process level")
    parser.add_argument("--level", choices=list(LEVELS), action="append", help="default: all")
    args = parser.parse_args()
    BACKGROUND_CALLERS = args.background
    asyncio.run(main(args.rounds, args.level or list(LEVELS)))
