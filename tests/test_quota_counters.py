"""The two quota counter stores (Redis for replicas, memory for one process) keep the same books."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from orchestrator.policy.counters import Counters, Entry, MemoryCounters
from orchestrator.policy.redis_counters import RedisCounters
from orchestrator.state.redis import SharedRedis
from tests.redis_server import redis_url

pytestmark = pytest.mark.timeout(60)


@pytest_asyncio.fixture(params=["memory", "redis"])
async def counters(request: pytest.FixtureRequest) -> AsyncIterator[Counters]:
    if request.param == "memory":
        yield MemoryCounters()
        return
    with redis_url() as url:
        shared = SharedRedis(url, 0.5, 4, key_prefix=f"test-counters:{uuid.uuid4()}:")
        # Settlements go only with a booking, a read or close; no leases: the books match the memory counters'.
        store = RedisCounters(shared, settle_delay=60, lease_fraction=0)
        yield store
        await store.aclose()
        await shared.aclose()


def entries(tokens: float, requests: float = 1) -> list[Entry]:
    return [Entry("requests", requests, 3, 60), Entry("tokens", tokens, 1000, 60)]


async def test_a_reservation_books_every_counter_or_none(counters: Counters) -> None:
    first = await counters.reserve(entries(600))
    refused = await counters.reserve(entries(600))  # 1,200 tokens would go over 1,000

    assert first is not None and first.ok and first.used == (1, 600)
    assert refused is not None and not refused.ok and refused.failed == 1 and refused.used == (1, 600)
    assert await counters.read(["requests", "tokens"]) == [1, 600]  # the refused request booked nothing


async def test_settlements_return_what_was_not_used_before_the_next_check(counters: Counters) -> None:
    await counters.reserve(entries(600))
    counters.adjust([("tokens", -500)])  # the call used 100 of its 600

    second = await counters.reserve(entries(600))

    assert second is not None and second.ok and second.used == (2, 700)


async def test_a_settlement_never_takes_a_counter_below_zero(counters: Counters) -> None:
    await counters.reserve(entries(100))
    counters.adjust([("tokens", -250)])

    assert await counters.read(["tokens"]) == [0]


async def test_a_settlement_for_a_window_that_is_gone_is_dropped(counters: Counters) -> None:
    counters.adjust([("never-reserved", 40), ("tokens", 5)])

    assert await counters.read(["never-reserved", "tokens"]) == [0, 0]


async def test_settlements_of_one_counter_add_up(counters: Counters) -> None:
    await counters.reserve(entries(900, requests=0))
    for _ in range(10):
        counters.adjust([("tokens", -10)])
    counters.adjust([("tokens", 3)])

    assert await counters.read(["tokens"]) == [803]


async def test_a_request_that_needs_more_than_the_limit_is_refused_on_that_limit(counters: Counters) -> None:
    booked = await counters.reserve(entries(5000))

    assert booked is not None and not booked.ok and booked.failed == 1 and booked.used == (0, 0)


@pytest_asyncio.fixture
async def shared() -> AsyncIterator[tuple[SharedRedis, str]]:
    with redis_url() as url:
        prefix = f"test-leases:{uuid.uuid4()}:"
        shared = SharedRedis(url, 0.5, 4, key_prefix=prefix)
        yield shared, url
        await shared.aclose()


def in_redis(url: str, prefix: str, key: str) -> float:
    import redis

    client = redis.Redis.from_url(url)
    try:
        value = client.get(f"{prefix}quota:{key}")
    finally:
        client.close()
    return float(value) if value is not None else 0.0


async def test_a_lease_is_booked_in_redis_and_spent_here(shared: tuple[SharedRedis, str]) -> None:
    redis, url = shared
    store = RedisCounters(redis, lease_fraction=0.1)  # leases of up to 100 of 1,000

    await store.reserve([Entry("tokens", 50, 1000, 60)])
    after_first = in_redis(url, redis.key_prefix, "tokens")
    for _ in range(2):
        await store.reserve([Entry("tokens", 50, 1000, 60)])  # from the lease: Redis is not asked
    after_three = in_redis(url, redis.key_prefix, "tokens")
    read = await store.read(["tokens"])  # gives the rest of the lease back first
    await store.aclose()

    assert after_first == after_three == 150  # 50 used + a lease of 100
    assert read == [150]  # three bookings of 50, nothing leased any more


async def test_leases_shrink_as_a_budget_runs_out_so_every_unit_can_be_booked(shared: tuple[SharedRedis, str]) -> None:
    redis, _ = shared
    replicas = [RedisCounters(redis, lease_fraction=0.1) for _ in range(3)]  # three processes, one budget

    admitted = 0
    for turn in range(400):
        booked = await replicas[turn % 3].reserve([Entry("requests", 1, 300, 60)])
        admitted += bool(booked is not None and booked.ok)
    for replica in replicas:
        await replica.aclose()

    assert admitted == 300  # none over, and no unit stranded in another replica's lease


async def test_a_process_that_stops_booking_gives_its_lease_back(shared: tuple[SharedRedis, str]) -> None:
    redis, url = shared
    store = RedisCounters(redis, lease_fraction=0.1, lease_idle_seconds=0.1)

    await store.reserve([Entry("tokens", 50, 1000, 60)])
    leased = in_redis(url, redis.key_prefix, "tokens")
    await asyncio.sleep(0.5)
    returned = in_redis(url, redis.key_prefix, "tokens")
    await store.aclose()

    assert leased == 150 and returned == 50


async def test_unused_budget_goes_back_to_redis_and_overuse_comes_from_the_lease(
    shared: tuple[SharedRedis, str],
) -> None:
    redis, _ = shared
    store = RedisCounters(redis, lease_fraction=0.1)

    await store.reserve([Entry("tokens", 300, 1000, 60)])  # 300 + a lease of 87 (an eighth of what is left)
    store.adjust([("tokens", -200)])  # used 100: 200 owed back to Redis
    store.adjust([("tokens", 500)])  # another call used 500 more than it reserved: 87 from the lease, 413 owed
    used = await store.read(["tokens"])
    await store.aclose()

    assert used == [600]


async def test_a_refused_process_gives_its_lease_back_for_the_others(shared: tuple[SharedRedis, str]) -> None:
    redis, _ = shared
    first, second = (RedisCounters(redis, settle_delay=0.01, lease_fraction=0.1) for _ in range(2))
    limit = [Entry("tokens", 10, 100, 60)]

    await first.reserve(limit)  # 10, and a lease of 10
    await second.reserve([Entry("tokens", 75, 100, 60)])  # 95 booked in all: no room left for a lease
    refused = await first.reserve([Entry("tokens", 25, 100, 60)])  # its lease of 10 + 15 more: over
    await asyncio.sleep(0.2)  # the lease it gave back reaches Redis
    admitted = await second.reserve([Entry("tokens", 15, 100, 60)])
    for store in (first, second):
        await store.aclose()

    assert refused is not None and not refused.ok
    assert admitted is not None and admitted.ok and admitted.used == (100,)
