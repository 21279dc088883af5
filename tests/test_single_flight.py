"""Single-flight: identical cacheable requests in flight together make one upstream call, in one process and
across replicas sharing Redis; waiters keep their own deadlines, leave without harm, and share the leader's fate."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.policy.keys import digest
from tests.cache_env import Failure, cacheable, free_port, outcome, scrape, until_waiting, value
from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ServerProcess
from tests.redis_server import redis_url
from tests.routing_env import routed_config, routed_server

pytestmark = pytest.mark.timeout(120)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def redis() -> Iterator[str]:
    with redis_url() as url:
        yield url


def shared_redis(url: str) -> dict[str, object]:
    return {"cache": {"type": "redis"}, "shared_state": {"redis_url": url, "key_prefix": f"test:{uuid.uuid4()}:"}}


async def test_fifty_identical_concurrent_misses_make_one_upstream_call(fake: FakeUpstream) -> None:
    request = cacheable()
    fake.hold()
    async with routed_server(fake, metrics_port=-1) as client:
        calls = [asyncio.create_task(client.generate(request)) for _ in range(50)]
        await fake.wait_for_requests(1)
        await until_waiting(client, 49)
        fake.release()
        answers = await asyncio.gather(*calls)
        metrics = await scrape(client)

    assert len(fake.requests) == 1
    assert len({a.text for a in answers}) == 1
    leaders = [a for a in answers if not a.cache_hit]
    assert len(leaders) == 1 and leaders[0].usage.input_tokens > 0
    joined = [a for a in answers if a.cache_hit]
    assert all(a.usage.input_tokens == 0 and a.usage.cost_usd == 0 and not a.attempts for a in joined)
    assert len({a.request_id for a in answers}) == 50  # each caller keeps its own request id
    assert value(metrics, "orchestrator_cache_joined_total") == 49
    assert value(metrics, "llm_cache_hits_total") == 0  # joined answers are counted apart from cache hits


async def test_refresh_requests_join_too_but_bypass_never_does(fake: FakeUpstream) -> None:
    text = f"question {uuid.uuid4()}"
    fake.hold()
    async with routed_server(fake, metrics_port=-1) as client:
        refresh = [asyncio.create_task(client.generate(cacheable(text, gen.CACHE_POLICY_REFRESH))) for _ in range(3)]
        await fake.wait_for_requests(1)
        await until_waiting(client, 2)
        bypass = [asyncio.create_task(client.generate(cacheable(text, gen.CACHE_POLICY_BYPASS))) for _ in range(2)]
        await fake.wait_for_requests(3)
        fake.release()
        await asyncio.gather(*refresh, *bypass)

    assert len(fake.requests) == 3  # one for the refreshes, one per bypassing request


async def test_replicas_sharing_redis_make_one_upstream_call_between_them(fake: FakeUpstream, redis: str) -> None:
    request = cacheable()
    shared = shared_redis(redis)
    fake.hold()
    async with (
        routed_server(fake, metrics_port=-1, **shared) as first,
        routed_server(fake, metrics_port=-1, **shared) as second,
    ):
        calls = [asyncio.create_task(first.generate(request))]
        await fake.wait_for_requests(1)
        # 50 in all: 25 on the first replica (the leader among them), 25 on the second.
        calls += [asyncio.create_task(first.generate(request)) for _ in range(24)]
        calls += [asyncio.create_task(second.generate(request)) for _ in range(25)]
        await until_waiting(first, 24)
        await until_waiting(second, 25)
        fake.release()
        answers = await asyncio.gather(*calls)

    assert len(fake.requests) == 1
    assert len({a.text for a in answers}) == 1
    assert sum(not a.cache_hit for a in answers) == 1


async def test_two_server_processes_on_redis_make_one_upstream_call(
    fake: FakeUpstream, redis: str, tmp_path: Path
) -> None:
    request = cacheable()
    config = routed_config(fake, **shared_redis(redis))  # type: ignore[arg-type]
    ports = [free_port(), free_port()]
    fake.hold()
    servers = []
    for port in ports:
        (tmp_path / str(port)).mkdir()
        servers.append(ServerProcess({**config, "server": {"metrics_port": port}}, tmp_path / str(port)))
    try:
        async with (
            OrchestratorClient(servers[0].target, default_timeout=60) as first,
            OrchestratorClient(servers[1].target, default_timeout=60) as second,
        ):
            calls = [asyncio.create_task(first.generate(request))]
            await fake.wait_for_requests(1)
            calls += [asyncio.create_task(first.generate(request)) for _ in range(24)]
            calls += [asyncio.create_task(second.generate(request)) for _ in range(25)]
            await until_waiting(ports[0], 24)
            await until_waiting(ports[1], 25)
            fake.release()
            answers = await asyncio.gather(*calls)
    finally:
        for server in servers:
            server.stop()

    assert len(fake.requests) == 1
    assert len({a.text for a in answers}) == 1 and sum(not a.cache_hit for a in answers) == 1


async def test_streams_that_join_receive_every_delta_even_when_they_join_mid_stream(fake: FakeUpstream) -> None:
    request = cacheable()
    fake.set_default(Behaviour(text="one two three four five six", wait_after=2))
    async with routed_server(fake, metrics_port=-1) as client:
        leader = client.stream_generate(request)
        first = [await anext(leader) for _ in range(3)]  # start and two deltas: the answer is under way
        late = asyncio.create_task(_collect(client.stream_generate(request)))
        await until_waiting(client, 1)
        fake.release()
        rest = [e async for e in leader]
        late = await late

    led = first + rest
    assert [e.WhichOneof("event") for e in late] == [e.WhichOneof("event") for e in led]
    assert [e.delta.text for e in late if e.HasField("delta")] == [e.delta.text for e in led if e.HasField("delta")]
    assert late[0].start.model == led[0].start.model and late[0].start.request_id != led[0].start.request_id
    assert late[-1].final.cache_hit and not led[-1].final.cache_hit
    assert len(fake.requests) == 1


async def test_a_unary_request_and_a_stream_share_one_call(fake: FakeUpstream) -> None:
    request = cacheable()
    fake.hold()
    async with routed_server(fake, metrics_port=-1) as client:
        unary = asyncio.create_task(client.generate(request))
        await fake.wait_for_requests(1)
        stream = asyncio.create_task(_collect(client.stream_generate(request)))
        await until_waiting(client, 1)
        fake.release()
        answer, events = await unary, await stream

    assert [e.WhichOneof("event") for e in events] == ["start", "delta", "final"]
    assert events[1].delta.text == answer.text
    assert len(fake.requests) == 1


async def test_cancelled_waiters_do_not_cancel_the_leader(fake: FakeUpstream) -> None:
    request = cacheable()
    fake.hold()
    async with routed_server(fake, metrics_port=-1) as client:
        leader = asyncio.create_task(client.generate(request))
        await fake.wait_for_requests(1)
        waiters = [asyncio.create_task(client.generate(request)) for _ in range(10)]
        await until_waiting(client, 10)
        for waiter in waiters[:5]:
            waiter.cancel()
        await until_waiting(client, 5)
        fake.release()
        answer = await leader
        rest = await asyncio.gather(*waiters[5:])

    assert not answer.cache_hit and answer.text
    assert all(r.text == answer.text and r.cache_hit for r in rest)
    assert len(fake.requests) == 1 and fake.disconnects == 0


async def test_a_waiter_keeps_its_own_deadline_and_the_leader_goes_on(fake: FakeUpstream) -> None:
    request = cacheable()
    fake.hold()
    async with routed_server(fake, metrics_port=-1) as client:
        leader = asyncio.create_task(client.generate(request, timeout=60))
        await fake.wait_for_requests(1)
        hurried = await outcome(client.generate(request, timeout=0.5))
        fake.release()
        answer = await leader

    assert isinstance(hurried, Failure) and hurried.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert answer.text and not answer.cache_hit
    assert len(fake.requests) == 1


async def test_when_the_leader_goes_away_a_waiter_leads(fake: FakeUpstream) -> None:
    request = cacheable()
    fake.hold()
    async with routed_server(fake, metrics_port=-1) as client:
        leader = asyncio.create_task(client.generate(request))
        await fake.wait_for_requests(1)
        waiters = [asyncio.create_task(client.generate(request)) for _ in range(3)]
        await until_waiting(client, 3)
        leader.cancel()
        await fake.wait_for_requests(2)  # one waiter took over; the others now wait for it
        await until_waiting(client, 2)
        fake.release()
        answers = await asyncio.gather(*waiters)

    assert len({a.text for a in answers}) == 1
    assert sum(not a.cache_hit for a in answers) == 1
    assert len(fake.requests) == 2


async def test_a_failing_leader_gives_every_waiter_the_same_error_without_a_second_call(fake: FakeUpstream) -> None:
    request = cacheable()
    fake.hold()
    fake.set_default(Behaviour(status=400))  # not retried: by the router or the client
    async with routed_server(fake, metrics_port=-1, max_attempts_per_model=1) as client:
        calls = [asyncio.create_task(outcome(client.generate(request))) for _ in range(10)]
        await fake.wait_for_requests(1)
        await until_waiting(client, 9)
        fake.release()
        errors = await asyncio.gather(*calls)

    assert all(isinstance(e, Failure) for e in errors)
    assert {(e.code, e.reason) for e in errors} == {(grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_INVALID_REQUEST")}
    assert len(fake.requests) == 1


async def test_a_failing_leader_on_another_replica_fails_the_waiters_here_the_same_way(
    fake: FakeUpstream, redis: str
) -> None:
    request = cacheable()
    shared = shared_redis(redis)
    fake.hold()
    fake.set_default(Behaviour(status=400))  # not retried: by the router or the client
    async with (
        routed_server(fake, max_attempts_per_model=1, **shared) as first,
        routed_server(fake, metrics_port=-1, max_attempts_per_model=1, **shared) as second,
    ):
        leader = asyncio.create_task(outcome(first.generate(request)))
        await fake.wait_for_requests(1)
        waiters = [asyncio.create_task(outcome(second.generate(request))) for _ in range(3)]
        await until_waiting(second, 3)
        fake.release()
        errors = [await leader, *await asyncio.gather(*waiters)]

    assert {(e.code, e.reason) for e in errors} == {(grpc.StatusCode.INVALID_ARGUMENT, "UPSTREAM_INVALID_REQUEST")}
    assert len(fake.requests) == 1


async def test_a_stream_on_another_replica_joins_with_every_delta(fake: FakeUpstream, redis: str) -> None:
    request = cacheable()
    shared = shared_redis(redis)
    fake.set_default(Behaviour(text="alpha beta gamma delta epsilon", wait_after=2))
    async with routed_server(fake, **shared) as first, routed_server(fake, metrics_port=-1, **shared) as second:
        leader = first.stream_generate(request)
        head = [await anext(leader) for _ in range(3)]
        joining = asyncio.create_task(_collect(second.stream_generate(request)))
        await until_waiting(second, 1)
        fake.release()
        led = head + [e async for e in leader]
        joined = await joining

    assert [e.delta.text for e in joined if e.HasField("delta")] == [e.delta.text for e in led if e.HasField("delta")]
    assert joined[-1].final.cache_hit and not led[-1].final.cache_hit
    assert len(fake.requests) == 1


async def test_with_redis_unreachable_each_process_still_makes_one_call(fake: FakeUpstream) -> None:
    request = cacheable()
    broken = {"cache": {"type": "redis"}, "shared_state": {"redis_url": "redis://127.0.0.1:1/0"}}
    fake.hold()
    async with routed_server(fake, metrics_port=-1, **broken) as client:
        calls = [asyncio.create_task(client.generate(request)) for _ in range(10)]
        await fake.wait_for_requests(1)
        await until_waiting(client, 9)
        fake.release()
        answers = await asyncio.gather(*calls)

    assert len({a.text for a in answers}) == 1
    assert len(fake.requests) == 1


KEYS = {"rd": "orc_rd-sf-key", "qa": "orc_qa-sf-key"}


def services(shared: bool, requests_per_minute: int | None = None) -> dict[str, object]:
    limits = {"requests_per_minute": requests_per_minute} if requests_per_minute else {}
    entries = [{"name": name, "key_sha256": digest(key), "limits": limits} for name, key in KEYS.items()]
    return {"auth": {"mode": "required", "services": entries}, "tasks": {"shared_task": {"cache": {"shared": shared}}}}


def as_service(name: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {KEYS[name]}")]


@pytest.mark.parametrize(("shared", "upstream_calls"), [(False, 2), (True, 1)])
async def test_services_never_join_each_other_unless_the_task_is_shared(
    fake: FakeUpstream, shared: bool, upstream_calls: int
) -> None:
    request = cacheable()
    request.task_type = "shared_task"
    fake.hold()
    async with routed_server(fake, metrics_port=-1, sections=services(shared)) as client:
        rd = asyncio.create_task(client.generate(request, metadata=as_service("rd")))
        await fake.wait_for_requests(1)
        qa = asyncio.create_task(client.generate(request, metadata=as_service("qa")))
        if shared:
            await until_waiting(client, 1)
        else:
            await fake.wait_for_requests(2)
        fake.release()
        answers = [await rd, await qa]

    assert len(fake.requests) == upstream_calls
    assert answers[1].cache_hit is shared


async def test_a_joined_answer_counts_as_a_request_against_the_callers_limit(fake: FakeUpstream) -> None:
    request = cacheable()
    request.task_type = "shared_task"
    fake.hold()
    async with routed_server(fake, metrics_port=-1, sections=services(False, requests_per_minute=1)) as client:
        leader = asyncio.create_task(client.generate(request, metadata=as_service("rd")))
        await fake.wait_for_requests(1)
        waiter = asyncio.create_task(outcome(client.generate(request, metadata=as_service("rd"))))
        await until_waiting(client, 1)
        fake.release()
        answer, refused = await leader, await waiter

    assert answer.text
    assert isinstance(refused, Failure) and refused.reason == "QUOTA_EXCEEDED"
    assert len(fake.requests) == 1


async def _collect(events: AsyncIterator[gen.StreamGenerateResponse]) -> list[gen.StreamGenerateResponse]:
    return [e async for e in events]
