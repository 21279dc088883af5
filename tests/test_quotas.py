"""Budgets: every upstream attempt reserves its worst case and settles what it used, shared by every replica."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import usage_pb2, usage_pb2_grpc

from orchestrator.policy.keys import digest
from orchestrator.policy.redis_counters import LEASE_FRACTION, LEASE_IDLE_SECONDS
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ErrorDetails, ServerProcess
from tests.redis_server import throwaway_redis
from tests.routing_env import ask, routed_config, routed_server

KEY = "orc_rd-test-key"
METADATA = [("authorization", f"Bearer {KEY}")]
pytestmark = pytest.mark.timeout(180)


def auth(limits: dict, **service: object) -> dict:
    return {"mode": "required", "services": [{"name": "rd", "key_sha256": digest(KEY), "limits": limits, **service}]}


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


async def usage_of(client: OrchestratorClient) -> dict[str, usage_pb2.LimitUsage]:
    stub = usage_pb2_grpc.UsageServiceStub(client.channel)
    answer = await stub.GetUsage(usage_pb2.GetUsageRequest(), metadata=METADATA, timeout=5)
    return {f"{u.subject} {u.limit}": u for u in answer.limits}


async def refused(call: object) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return ErrorDetails(caught.value)


async def test_a_spent_token_budget_refuses_with_quota_failure_and_retry_info(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(prompt_tokens=40, completion_tokens=10))
    async with routed_server(fake, sections={"auth": auth({"tokens_per_day": 120})}) as client:
        first = await client.generate(ask(), metadata=METADATA)
        second = await client.generate(ask(), metadata=METADATA)
        await asyncio.sleep(0.1)  # settlements run after the answer
        error = await refused(client.generate(ask(), metadata=METADATA))
        used = await usage_of(client)

    assert first.text and second.text
    assert (error.code, error.reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "QUOTA_EXCEEDED")
    assert error.quota_violations == {"service:rd": "tokens_per_day: 120"}
    assert error.retry_delay is not None and 0 < error.retry_delay <= 86_400  # until the UTC day ends
    assert "has used 100 of its tokens_per_day of 120" in error.message
    assert used["service:rd tokens_per_day"].used == 100  # settled: 2 x (40 + 10), not the reservations
    assert len(fake.requests) == 2  # the refused call never went upstream


async def test_a_request_larger_than_the_whole_budget_says_so_without_retry_info(fake: FakeUpstream) -> None:
    request = ask()
    request.params.max_output_tokens = 200
    async with routed_server(fake, sections={"auth": auth({"tokens_per_minute": 100})}) as client:
        error = await refused(client.generate(request, metadata=METADATA))

    assert error.reason == "QUOTA_EXCEEDED" and "this request alone may need" in error.message
    assert error.retry_delay is None  # waiting would not help


async def test_cache_hits_count_as_requests_but_cost_no_tokens(fake: FakeUpstream) -> None:
    request = ask("the same question")
    request.cache.policy = gen.CACHE_POLICY_USE
    limits = {"requests_per_minute": 2, "tokens_per_day": 10_000}
    async with routed_server(fake, sections={"auth": auth(limits)}) as client:
        await client.generate(request, metadata=METADATA)
        await asyncio.sleep(0.1)
        before = (await usage_of(client))["service:rd tokens_per_day"].used
        hit = await client.generate(request, metadata=METADATA)
        third = await refused(client.generate(request, metadata=METADATA))
        after = await usage_of(client)

    assert hit.cache_hit and hit.usage.input_tokens == 0
    assert after["service:rd tokens_per_day"].used == before > 0
    assert after["service:rd requests_per_minute"].used == 2
    assert third.quota_violations == {"service:rd": "requests_per_minute: 2"}


async def test_a_task_budget_binds_every_caller_together(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(prompt_tokens=30, completion_tokens=10))
    sections = {"auth": auth({}), "tasks": {"code_generation": {"limits": {"tokens_per_day": 50}}}}
    request = ask()
    request.task_type = "code_generation"
    async with routed_server(fake, sections=sections) as client:
        await client.generate(request, metadata=METADATA)
        await asyncio.sleep(0.1)
        error = await refused(client.generate(request, metadata=METADATA))
        other_task = await client.generate(ask(), metadata=METADATA)

    assert error.quota_violations == {"task:code_generation": "tokens_per_day: 50"}
    assert other_task.text


async def test_streams_settle_at_their_end_and_a_cancelled_stream_books_what_was_produced(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text=" ".join(["w"] * 20), prompt_tokens=10, completion_tokens=20))
    async with routed_server(fake, sections={"auth": auth({"tokens_per_day": 100_000})}) as client:
        _ = [e async for e in client.stream_generate(ask(), metadata=METADATA)]
        await asyncio.sleep(0.1)
        complete = (await usage_of(client))["service:rd tokens_per_day"].used
        fake.set_default(Behaviour(text=" ".join(["w"] * 20), chunk_delay=0.05))
        events = client.stream_generate(ask(), metadata=METADATA)
        _ = [await anext(events) for _ in range(3)]  # start and two deltas, then leave
        await events.aclose()
        await asyncio.sleep(0.3)
        after_cancel = (await usage_of(client))["service:rd tokens_per_day"].used

    assert complete == 30
    reserved_worst_case = 30 + 32 + 200  # prompt (our count) + max_output_tokens: never left standing
    assert complete < after_cancel < complete + reserved_worst_case


async def test_concurrent_callers_never_overshoot_a_budget_in_one_process(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(prompt_tokens=20, completion_tokens=10, delay=0.02))
    async with routed_server(fake, sections={"auth": auth({"tokens_per_day": 1_000})}) as client:
        results = await asyncio.gather(
            *(client.generate(ask(), metadata=METADATA) for _ in range(64)), return_exceptions=True
        )
        await asyncio.sleep(0.2)
        used = (await usage_of(client))["service:rd tokens_per_day"].used

    answered = [r for r in results if not isinstance(r, BaseException)]
    assert all(ErrorDetails(r).reason == "QUOTA_EXCEEDED" for r in results if isinstance(r, grpc.aio.AioRpcError))
    assert used == 30 * len(answered) <= 1_000
    assert len(fake.requests) == len(answered)


# --- three server processes sharing one Redis -------------------------------------------------------


def shared_config(fake: FakeUpstream, redis_url: str, prefix: str, limits: dict) -> dict:
    config = routed_config(
        fake, shared_state={"redis_url": redis_url, "key_prefix": prefix}, sections={"auth": auth(limits)}
    )
    config["server"] = {"grace_seconds": 1}
    return config


async def run_replicas(
    fake: FakeUpstream, tmp_path: Path, config: dict, count: int = 3
) -> list[tuple[ServerProcess, OrchestratorClient]]:
    servers = await asyncio.gather(
        *(asyncio.to_thread(ServerProcess, config, tmp_path / f"replica{i}") for i in range(count))
    )
    return [(s, OrchestratorClient(s.target, default_timeout=30)) for s in servers]


async def stop_replicas(replicas: list[tuple[ServerProcess, OrchestratorClient]]) -> None:
    for server, client in replicas:
        await client.close()
        await asyncio.to_thread(server.stop)


async def test_three_replicas_share_one_token_budget(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.set_default(Behaviour(prompt_tokens=20, completion_tokens=12))
    with throwaway_redis() as redis_url:
        for i in range(3):
            (tmp_path / f"replica{i}").mkdir()
        replicas = await run_replicas(fake, tmp_path, shared_config(fake, redis_url, "q1:", {"tokens_per_day": 20_000}))
        try:
            outcomes: list[str] = []

            async def caller(index: int) -> None:
                client = replicas[index % 3][1]
                while True:
                    try:
                        await client.generate(ask(f"caller {index}"), metadata=METADATA)
                        outcomes.append("ok")
                    except grpc.aio.AioRpcError as error:
                        outcomes.append(ErrorDetails(error).reason)
                        return

            await asyncio.gather(*(caller(i) for i in range(64)))
            late = [await refused(replicas[i][1].generate(ask(), metadata=METADATA)) for i in range(3)]
            # The last settlements, and the leases of budget each replica holds, which come back once it has
            # booked nothing for LEASE_IDLE_SECONDS (until then usage counts them as used).
            await asyncio.sleep(LEASE_IDLE_SECONDS * 2.5)
            settled = (await usage_of(replicas[0][1]))["service:rd tokens_per_day"].used
        finally:
            await stop_replicas(replicas)

    print(f"3 replicas, 64 callers, tokens_per_day 20000: settled {settled:.0f}, answered {outcomes.count('ok')}")
    assert set(outcomes) == {"ok", "QUOTA_EXCEEDED"}
    assert outcomes.count("ok") == len(fake.requests)
    assert settled == 32 * outcomes.count("ok") <= 20_400
    assert settled > 20_000 - 64 * (32 + 60)  # exhausted: only what in-flight reservations held back is unused
    assert all(e.quota_violations == {"service:rd": "tokens_per_day: 20000"} for e in late)


async def test_three_replicas_hold_requests_per_minute_together(fake: FakeUpstream, tmp_path: Path) -> None:
    if datetime.now(UTC).second > 40:  # one clock minute is one window: start the run inside a fresh one
        await asyncio.sleep(61 - datetime.now(UTC).second)
    with throwaway_redis() as redis_url:
        for i in range(3):
            (tmp_path / f"replica{i}").mkdir()
        replicas = await run_replicas(
            fake, tmp_path, shared_config(fake, redis_url, "q2:", {"requests_per_minute": 300})
        )
        try:
            semaphore = asyncio.Semaphore(48)

            async def one(index: int) -> bool:
                async with semaphore:
                    try:
                        await replicas[index % 3][1].generate(ask(), metadata=METADATA)
                        return True
                    except grpc.aio.AioRpcError as error:
                        assert ErrorDetails(error).reason == "QUOTA_EXCEEDED"
                        return False

            started = time.monotonic()
            answered = await asyncio.gather(*(one(i) for i in range(400)))
            elapsed = time.monotonic() - started
        finally:
            await stop_replicas(replicas)

    print(f"3 replicas, requests_per_minute 300: {sum(answered)} of 400 answered in {elapsed:.1f} s")
    assert elapsed < 15, "the run must stay inside one minute window for this check"
    assert abs(sum(answered) - 300) <= 6  # within 2 %
    assert len(fake.requests) == sum(answered)


async def test_a_redis_outage_keeps_spending_bounded_by_the_local_share(fake: FakeUpstream, tmp_path: Path) -> None:
    fake.set_default(Behaviour(prompt_tokens=20, completion_tokens=10))
    with throwaway_redis() as redis_url:
        config = shared_config(fake, redis_url, "q3:", {"tokens_per_day": 10_000})
        config["auth"]["outage_limit_share"] = 0.05  # 500 tokens per process while Redis is away
        server = ServerProcess(config, tmp_path, env={"ORCHESTRATOR_METRICS_PORT": "-1"})
        try:
            async with OrchestratorClient(server.target, default_timeout=30) as client:
                await client.generate(ask(), metadata=METADATA)
                await asyncio.to_thread(_stop_redis, redis_url)
                outcomes = []
                for _ in range(40):
                    try:
                        await client.generate(ask(), metadata=METADATA)
                        outcomes.append("ok")
                    except grpc.aio.AioRpcError as error:
                        outcomes.append(f"{error.code().name} {ErrorDetails(error).reason}")
        finally:
            server.stop()
        log = server.stderr_text()

    answered_during_outage = outcomes.count("ok")
    assert "INTERNAL" not in " ".join(outcomes)
    assert set(outcomes) == {"ok", "RESOURCE_EXHAUSTED QUOTA_EXCEEDED"}
    # Bounded by this process's share, not the whole budget, plus the lease it held when Redis went (booked
    # in Redis before the outage, so counted there all the same).
    assert 30 * answered_during_outage <= 500 + 30 + LEASE_FRACTION * 10_000
    assert "shared state unavailable" in log and '"operation": "quota_reserve"' in log


def _stop_redis(url: str) -> None:
    import redis

    with contextlib.suppress(redis.exceptions.ConnectionError):  # it closes the connection as it goes
        redis.Redis.from_url(url).shutdown(nosave=True)
