"""State shared by replicas through Redis (response cache, model holds), cache policies; Redis down fails no call."""

from __future__ import annotations

import asyncio
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from orchestrator_client.v1 import generation_pb2 as gen

from tests.fakes import Behaviour, FakeUpstream
from tests.redis_server import redis_url
from tests.routing_env import ask, routed_server

pytestmark = pytest.mark.timeout(60)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def redis() -> Iterator[str]:
    with redis_url() as url:
        yield url


def cached(policy: int, text: str = "") -> gen.GenerateRequest:
    request = ask(text or f"unique question {uuid.uuid4()}")
    request.cache.policy = policy  # type: ignore[assignment]
    return request


async def test_use_serves_the_second_identical_request_from_the_cache(fake: FakeUpstream) -> None:
    request = cached(gen.CACHE_POLICY_USE)

    async with routed_server(fake) as client:
        first = await client.generate(request)
        second = await client.generate(request)

    assert not first.cache_hit and second.cache_hit
    assert second.text == first.text and second.model == first.model
    assert (second.usage.input_tokens, second.usage.output_tokens, second.usage.cost_usd) == (0, 0, 0.0)
    assert list(second.attempts) == []
    assert len(fake.requests) == 1


async def test_bypass_is_the_default_and_refresh_writes_without_reading(fake: FakeUpstream) -> None:
    text = f"question {uuid.uuid4()}"

    async with routed_server(fake) as client:
        await client.generate(cached(gen.CACHE_POLICY_UNSPECIFIED, text))
        await client.generate(cached(gen.CACHE_POLICY_BYPASS, text))
        refreshed = await client.generate(cached(gen.CACHE_POLICY_REFRESH, text))
        hit = await client.generate(cached(gen.CACHE_POLICY_USE, text))

    assert not refreshed.cache_hit and hit.cache_hit
    assert len(fake.requests) == 3


async def test_a_cached_answer_streams_as_start_one_delta_and_final(fake: FakeUpstream) -> None:
    request = cached(gen.CACHE_POLICY_USE)

    async with routed_server(fake) as client:
        original = await client.generate(request)
        events = [e async for e in client.stream_generate(request)]

    assert [e.WhichOneof("event") for e in events] == ["start", "delta", "final"]
    assert events[1].delta.text == original.text
    assert events[2].final.cache_hit
    assert len(fake.requests) == 1


async def test_replicas_share_answers_through_redis(fake: FakeUpstream, redis: str) -> None:
    request = cached(gen.CACHE_POLICY_USE)
    shared = {"cache": {"type": "redis"}, "shared_state": {"redis_url": redis, "key_prefix": f"test:{uuid.uuid4()}:"}}

    async with routed_server(fake, **shared) as first, routed_server(fake, **shared) as second:
        answer = await first.generate(request)
        hit = await second.generate(request)

    assert hit.cache_hit and hit.text == answer.text
    assert len(fake.requests) == 1


async def test_an_unreachable_redis_never_fails_a_request_and_is_metered(fake: FakeUpstream) -> None:
    broken = {"cache": {"type": "redis"}, "shared_state": {"redis_url": "redis://:hunter2-secret@127.0.0.1:1/0"}}

    async with routed_server(fake, metrics_port=-1, **broken) as client:
        answers = [await client.generate(cached(gen.CACHE_POLICY_USE, "same")) for _ in range(2)]
        metrics = await asyncio.to_thread(
            lambda: urllib.request.urlopen(f"http://127.0.0.1:{client.server.metrics_port}/metrics").read().decode()  # type: ignore[attr-defined]
        )

    assert [a.cache_hit for a in answers] == [False, False]
    assert len(fake.requests) == 2
    assert 'orchestrator_shared_state_errors_total{operation="cache_get"} 2.0' in metrics
    assert 'orchestrator_shared_state_errors_total{operation="cache_set"} 2.0' in metrics
    assert "hunter2" not in metrics


async def test_a_retry_after_seen_by_one_replica_holds_the_model_on_every_replica(
    fake: FakeUpstream, redis: str
) -> None:
    fake.enqueue(gen_behaviour_429(), model="primary")
    prefix = f"test:{uuid.uuid4()}:"  # this run's own keys: other runs may share the machine's Redis
    shared = {"shared_state": {"redis_url": redis, "key_prefix": prefix}, "shared_holds_poll_seconds": 0.1}

    async with routed_server(fake, **shared) as first, routed_server(fake, **shared) as second:
        held = await first.generate(ask(f"q {uuid.uuid4()}"))
        await asyncio.sleep(0.4)  # a few polls
        elsewhere = await second.generate(ask(f"q {uuid.uuid4()}"))

    assert held.model == elsewhere.model == "fallback"
    assert len(fake.requests_for("primary")) == 1  # the second replica never asked the held model


def gen_behaviour_429() -> Behaviour:
    return Behaviour(status=429, retry_after=30)
