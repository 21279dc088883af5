"""The two quota counter stores (Redis for replicas, memory for one process) keep the same books."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from orchestrator.policy.counters import Counters, Entry, MemoryCounters, RedisCounters
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
        store = RedisCounters(shared, settle_delay=60)  # settlements go only with a reservation, a read or close
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
