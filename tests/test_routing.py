"""The router against injected faults: fallbacks, retries within budget, breakers, holds, deadlines, streams."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from orchestrator_client.v1 import generation_pb2 as gen

from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ErrorDetails
from tests.routing_env import ask, routed_server

pytestmark = pytest.mark.timeout(120)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream(seed=42) as upstream:
        yield upstream


async def test_flaky_primary_with_a_healthy_fallback_loses_no_call(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(status=503, fail_ratio=0.3), model="primary")
    calls, concurrency = 500, 16
    failures: list[BaseException] = []

    async with routed_server(fake) as client:
        gate = asyncio.Semaphore(concurrency)

        async def one() -> None:
            async with gate:
                try:
                    await client.generate(ask(), timeout=30)
                except grpc.aio.AioRpcError as exc:
                    failures.append(exc)

        await asyncio.gather(*(one() for _ in range(calls)))

    upstream = len(fake.requests)
    print(f"\nflaky primary: calls={calls} upstream={upstream} ({upstream / calls:.2f}x) failures={len(failures)}")
    assert failures == []
    assert upstream <= 1.35 * calls


async def test_a_dead_primary_is_retried_within_budget_then_skipped_until_one_probe(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(status=500), model="primary")

    async with routed_server(fake, breaker={"failure_threshold": 5, "cooldown_seconds": 1.0}) as client:
        for _ in range(5):
            answer = await client.generate(ask())
            assert answer.model == "fallback"
        tried = len(fake.requests_for("primary"))
        models = {m.name: m for m in (await client.generation.ListModels(gen.ListModelsRequest())).models}
        for _ in range(20):
            await client.generate(ask())
        while_open = len(fake.requests_for("primary")) - tried
        await asyncio.sleep(1.1)
        await asyncio.gather(*(client.generate(ask()) for _ in range(5)))
        probes = len(fake.requests_for("primary")) - tried

    print(f"\ndead primary: requests before the breaker opened={tried}, while open={while_open}, probes={probes}")
    assert tried <= 5  # the retry budget and the breaker stop the storm
    assert models["primary"].circuit_state == gen.CIRCUIT_STATE_OPEN
    assert models["fallback"].circuit_state == gen.CIRCUIT_STATE_CLOSED
    assert while_open == 0
    assert probes == 1  # half-open admits exactly one probe, even with concurrent calls


async def test_retry_after_holds_the_model_for_that_long(fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(status=429, retry_after=2), model="primary")

    async with routed_server(fake) as client:
        first = await client.generate(ask())
        started = time.monotonic()
        while time.monotonic() - started < 2.3:
            await client.generate(ask())
            await asyncio.sleep(0.1)

    primary = fake.requests_for("primary")
    assert first.model == "fallback"
    assert [a.error_reason for a in first.attempts] == ["UPSTREAM_RATE_LIMITED", ""]
    assert len(primary) >= 2
    assert primary[1].received_at - primary[0].received_at >= 2.0


async def test_an_upstream_400_is_one_request_and_invalid_argument(fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(status=400, error_message="bad parameter"), model="primary")

    async with routed_server(fake) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(ask())

    error = ErrorDetails(caught.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "UPSTREAM_INVALID_REQUEST"
    assert len(fake.requests) == 1


async def test_a_prompt_too_long_for_the_small_model_goes_to_the_large_one_untried(fake: FakeUpstream) -> None:
    async with routed_server(fake) as client:
        answer = await client.generate(ask("word " * 600, preferred="small", fallbacks=(), capability="long"))

    assert answer.model == "large"
    assert fake.requests_for("small") == []
    assert [a.model for a in answer.attempts] == ["large"]


async def test_a_prompt_too_long_for_every_model_is_failed_precondition(fake: FakeUpstream) -> None:
    async with routed_server(fake) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(ask("word " * 200_000, preferred="", fallbacks=(), capability="long"))

    assert ErrorDetails(caught.value).reason == "NO_ELIGIBLE_MODEL"
    assert "context window" in ErrorDetails(caught.value).message
    assert fake.requests == []


async def collect(
    client, request, timeout: float = 30
) -> tuple[list[gen.StreamGenerateResponse], BaseException | None]:  # type: ignore[no-untyped-def]
    events: list[gen.StreamGenerateResponse] = []
    try:
        async for event in client.stream_generate(request, timeout=timeout):
            events.append(event)
    except grpc.aio.AioRpcError as exc:
        return events, exc
    return events, None


async def test_a_stream_that_fails_before_its_first_token_falls_back_cleanly(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(cut_after=0, text="PRIMARY TEXT"), model="primary")
    fake.set_default(Behaviour(text="from the fallback"), model="fallback")

    async with routed_server(fake) as client:
        events, error = await collect(client, ask())

    assert error is None
    kinds = [e.WhichOneof("event") for e in events]
    assert kinds[0] == "start" and kinds[-1] == "final"
    assert events[0].start.model == "fallback"
    assert "".join(e.delta.text for e in events if e.WhichOneof("event") == "delta") == "from the fallback"
    assert [a.model for a in events[-1].final.attempts][-1] == "fallback"
    assert events[-1].final.attempts[0].error_reason == "UPSTREAM_MALFORMED_RESPONSE"


async def test_a_stream_cut_after_five_tokens_ends_non_ok(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(cut_after=5, text="one two three four five six seven eight"), model="primary")

    async with routed_server(fake, stream_idle_timeout_seconds=1.0) as client:
        started = time.monotonic()
        events, error = await collect(client, ask())
        elapsed = time.monotonic() - started

    assert isinstance(error, grpc.aio.AioRpcError)
    assert ErrorDetails(error).code == grpc.StatusCode.UNAVAILABLE
    assert ErrorDetails(error).reason == "STREAM_INTERRUPTED"
    assert [e.WhichOneof("event") for e in events] == ["start"] + ["delta"] * 5
    assert fake.requests_for("fallback") == []  # no switching models once text has reached the caller
    assert elapsed < 1.0 + 1.0


async def test_a_stream_that_stalls_ends_non_ok_after_the_idle_timeout(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(stall_after=5, text="one two three four five six seven eight"), model="primary")

    async with routed_server(fake, stream_idle_timeout_seconds=0.5) as client:
        started = time.monotonic()
        events, error = await collect(client, ask())
        elapsed = time.monotonic() - started

    assert isinstance(error, grpc.aio.AioRpcError)
    assert ErrorDetails(error).metadata["upstream_reason"] == "UPSTREAM_STREAM_STALLED"
    assert len(events) == 6
    assert 0.5 <= elapsed < 0.5 + 1.0
    await fake.wait_for_disconnects(1)


async def test_a_short_deadline_against_a_slow_upstream_is_deadline_exceeded(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(delay=2.0), model="primary")

    async with routed_server(fake) as client:
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(ask(), timeout=0.05)
        elapsed = time.monotonic() - started
        await fake.wait_for_disconnects(1, timeout=1.0)

    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert elapsed < 0.5
    assert fake.requests_for("fallback") == []


async def test_beyond_the_concurrency_bound_calls_are_shed_at_once(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(delay=0.5))

    async with routed_server(fake, max_concurrent_requests=2) as client:
        slow = [asyncio.create_task(client.generate(ask())) for _ in range(2)]
        for _ in range(200):  # until both are in flight upstream, holding their admission
            if len(fake.requests) >= 2:
                break
            await asyncio.sleep(0.01)
        started = time.monotonic()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(ask())
        shed_after = time.monotonic() - started
        await asyncio.gather(*slow)

    error = ErrorDetails(caught.value)
    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error.reason == "OVERLOADED"
    assert error.retry_delay == 1.0
    assert shed_after < 0.4  # well before the in-flight calls (0.5 s upstream) could have finished


async def test_list_models_shows_every_configured_model(fake: FakeUpstream) -> None:
    async with routed_server(fake) as client:
        models = (await client.generation.ListModels(gen.ListModelsRequest())).models

    assert [m.name for m in models] == ["primary", "fallback", "small", "large"]
    large = models[-1]
    assert (large.provider, large.context_window, large.max_output_tokens) == ("upstream", 100_000, 256)
    assert large.input_cost_per_million_tokens == 5.0
    assert list(large.capabilities) == ["long"]
