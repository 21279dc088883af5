"""Figures for the response cache (issue 18): single-flight in one process and across two server processes on
Redis, cancelled waiters and a failing leader, semantic lookup cost at 10,000 entries, and the calibration.

    python -m tests.bench.cache_figures [--redis redis://127.0.0.1:6379/0]

Not part of `make test` (it prints figures; the behaviours themselves are specified in tests/test_*cache*.py and
tests/test_single_flight.py). Everything runs on this machine's loopback; numbers depend on its load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from orchestrator_client import OrchestratorClient

from orchestrator.config.sections import DEFAULT_SEMANTIC_THRESHOLD
from orchestrator.providers.embeddings import LocalEmbedder
from orchestrator.state.redis import SharedRedis
from orchestrator.state.vectors import RedisVectors, VectorIndex
from scripts.calibrate_semantic import load_pairs, point, similarities
from tests.cache_env import cacheable
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ServerProcess
from tests.redis_server import redis_url
from tests.routing_env import routed_config, routed_server

UPSTREAM_DELAY = 0.5  # long enough for 50 requests to arrive while the first is in flight


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def one_process(n: int = 50) -> None:
    async with FakeUpstream() as fake, routed_server(fake) as client:
        fake.set_default(Behaviour(delay=UPSTREAM_DELAY))
        request = cacheable()
        answers = await asyncio.gather(*(client.generate(request) for _ in range(n)))
        print(f"one process: {n} identical concurrent misses -> {len(fake.requests)} upstream call(s); "
              f"{sum(a.cache_hit for a in answers)} answered by it")  # fmt: skip

        fake.reset()
        fake.set_default(Behaviour(delay=UPSTREAM_DELAY))
        request = cacheable()
        calls = [asyncio.create_task(client.generate(request)) for _ in range(n)]
        await fake.wait_for_requests(1)
        await asyncio.sleep(0.1)
        for call in calls[n // 2 :]:
            call.cancel()
        done = await asyncio.gather(*calls, return_exceptions=True)
        answered = [d for d in done if not isinstance(d, BaseException)]
        print(f"cancelled waiters: {n - len(answered)} of {n} cancelled mid-flight -> {len(answered)} answered, "
              f"{len(fake.requests)} upstream call(s), {fake.disconnects} upstream disconnect(s)")  # fmt: skip

        fake.reset()
        fake.set_default(Behaviour(delay=UPSTREAM_DELAY, status=400))
        request = cacheable()
        failed = await asyncio.gather(*(client.generate(request) for _ in range(n)), return_exceptions=True)
        codes = {f.code().name for f in failed if isinstance(f, grpc.aio.AioRpcError)}
        print(f"failing leader: {n} concurrent -> {len(fake.requests)} upstream call(s), "
              f"{sum(isinstance(f, grpc.aio.AioRpcError) for f in failed)} callers got {sorted(codes)}")  # fmt: skip


async def two_processes(url: str, n: int = 50) -> None:
    async with FakeUpstream() as fake:
        fake.set_default(Behaviour(delay=UPSTREAM_DELAY))
        shared = {"cache": {"type": "redis"}, "shared_state": {"redis_url": url, "key_prefix": f"fig:{uuid.uuid4()}:"}}
        config: dict[str, Any] = routed_config(fake, **shared)  # type: ignore[arg-type]
        with tempfile.TemporaryDirectory() as first_dir, tempfile.TemporaryDirectory() as second_dir:
            servers = [ServerProcess(config, Path(d)) for d in (first_dir, second_dir)]
            try:
                async with contextlib.AsyncExitStack() as stack:
                    clients = [
                        await stack.enter_async_context(OrchestratorClient(s.target, default_timeout=60))
                        for s in servers
                    ]
                    request = cacheable()
                    answers = await asyncio.gather(*(clients[i % 2].generate(request) for i in range(n)))
            finally:
                for server in servers:
                    server.stop()
        print(f"two processes on Redis: {n} identical concurrent misses ({n // 2} each) -> "
              f"{len(fake.requests)} upstream call(s); {sum(a.cache_hit for a in answers)} answered by it")  # fmt: skip


async def semantic_cost(url: str, entries: int = 10_000, lookups: int = 300) -> None:
    rng = np.random.default_rng(18)
    vectors = rng.standard_normal((entries, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(entries)
    for i, vector in enumerate(vectors):
        index.insert("scope", f"k{i}", vector, float("inf"), "w")
    queries = vectors[rng.integers(0, entries, lookups)]
    search = []
    for query in queries:
        started = time.perf_counter()
        index.search("scope", query)
        search.append((time.perf_counter() - started) * 1000)

    embedder = LocalEmbedder(max_concurrent=1)
    await embedder.start()
    texts = [p.a for p in load_pairs()][:lookups]
    whole = []
    for text in texts:
        started = time.perf_counter()
        vector = await embedder.embed(text)
        assert vector is not None
        index.search("scope", vector)
        whole.append((time.perf_counter() - started) * 1000)
    await embedder.aclose()

    shared = SharedRedis(url, 2.0, 8, key_prefix=f"fig:{uuid.uuid4()}:")
    store = RedisVectors(shared, entries)
    for i in range(0, entries, 500):
        await asyncio.gather(*(store.add("scope", f"k{j}", vectors[j], 600, "w") for j in range(i, i + 500)))
    catch_up = []
    for query in queries[: entries // RedisVectors.CHUNK]:  # a fresh replica reads the scope chunk by chunk
        started = time.perf_counter()
        await store.nearest("scope", query)
        catch_up.append((time.perf_counter() - started) * 1000)
    redis_lookups = []
    for query in queries:
        started = time.perf_counter()
        await store.nearest("scope", query)
        redis_lookups.append((time.perf_counter() - started) * 1000)
    await shared.client.delete(f"{shared.key_prefix}semantic:scope")
    await shared.aclose()

    def line(name: str, samples: list[float]) -> str:
        return f"  {name}: p50 {statistics.median(samples):.2f} ms, p99 {percentile(samples, 99):.2f} ms"

    print(f"semantic lookup at {entries:,} entries in one scope ({lookups} lookups):")
    print(line("search alone (memory)", search))
    print(line("embedding + search (local all-MiniLM-L6-v2, one thread)", whole))
    print(line("search with the Redis store, mirror up to date", redis_lookups))
    print(f"  a fresh replica's first {len(catch_up)} lookups of a {entries:,}-entry scope in Redis "
          f"({RedisVectors.CHUNK} entries read by each): p50 {statistics.median(catch_up):.0f} ms, "
          f"max {max(catch_up):.0f} ms")  # fmt: skip


def calibration() -> None:
    pairs = load_pairs()
    guarded = point(pairs, similarities(pairs), DEFAULT_SEMANTIC_THRESHOLD)
    bare = point(pairs, similarities(pairs, guard=False), DEFAULT_SEMANTIC_THRESHOLD)
    print(f"calibration ({len(pairs)} pairs) at the default threshold {DEFAULT_SEMANTIC_THRESHOLD}: hit rate "
          f"{guarded.hit_rate:.1%}, wrong-hit rate {guarded.wrong_hit_rate:.2%} "
          f"(embedding alone: hit rate {bare.hit_rate:.1%}, wrong-hit rate {bare.wrong_hit_rate:.1%})")  # fmt: skip


async def main(url: str | None) -> None:
    await one_process()
    with contextlib.ExitStack() as stack:
        url = url or stack.enter_context(redis_url())
        await two_processes(url)
        await semantic_cost(url)
    calibration()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", default=None)
    asyncio.run(main(parser.parse_args().redis))
