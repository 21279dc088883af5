"""The pipelined Redis connection quotas use: answers in order, outages that fail fast and heal, scripts reloaded."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from orchestrator.state.redis_pipe import RECONNECT_BACKOFF_SECONDS, RedisPipe, RedisUnavailable, Script
from tests.redis_server import redis_process, redis_url

pytestmark = pytest.mark.timeout(60)

INCR = Script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
GET = Script("return redis.call('GET', KEYS[1])")


@dataclass
class Pipe:
    redis: RedisPipe
    url: str
    failures: list[str]


@pytest_asyncio.fixture
async def pipe() -> AsyncIterator[Pipe]:
    with redis_url() as url:
        failures: list[str] = []
        redis = RedisPipe(url, 0.5, lambda operation, exc: failures.append(f"{operation}: {exc}"))
        yield Pipe(redis, url, failures)
        await redis.aclose()


def key() -> str:
    return f"test-pipe:{uuid.uuid4()}"


async def test_concurrent_commands_get_their_own_answers(pipe: Pipe) -> None:
    redis = pipe.redis
    counter = key()

    answers = await asyncio.gather(*(redis.run(INCR, [counter], [1]) for _ in range(500)))

    assert sorted(answers) == list(range(1, 501))  # every caller saw its own increment, none was lost


async def test_commands_sent_without_waiting_land_before_later_ones(pipe: Pipe) -> None:
    redis, failures = pipe.redis, pipe.failures
    counter = key()
    await redis.run(INCR, [counter], [0])  # the connection exists: sends go straight out

    for _ in range(100):
        redis.send("test_send", INCR, [counter], [2])
    value = await redis.run(GET, [counter], [])

    assert value == b"200" and failures == []


async def test_a_flushed_script_cache_is_refilled(pipe: Pipe) -> None:
    redis, failures = pipe.redis, pipe.failures
    counter = key()
    await redis.run(INCR, [counter], [1])
    await asyncio.to_thread(_flush_scripts, pipe.url)

    awaited = await redis.run(INCR, [counter], [1])  # NOSCRIPT: sent again in full
    redis.send("test_send", INCR, [counter], [1])
    final = await redis.run(GET, [counter], [])

    assert awaited == 2 and final == b"3" and failures == []


async def test_a_redis_that_never_answers_costs_one_timeout_then_fails_fast() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts (in the kernel) and never replies
    try:
        redis = RedisPipe(f"redis://127.0.0.1:{silent.getsockname()[1]}/0", 0.3)
        started = time.monotonic()
        with pytest.raises(RedisUnavailable, match="no answer"):
            await redis.run(INCR, [key()], [1])
        waited = time.monotonic() - started
        await redis.aclose()
    finally:
        silent.close()

    assert 0.25 <= waited < 5


async def test_a_stopped_redis_fails_fast_and_is_used_again_once_back() -> None:
    with redis_process() as server:
        redis = RedisPipe(server.url, 0.5)
        counter = key()
        assert await redis.run(INCR, [counter], [1]) == 1
        await asyncio.to_thread(server.kill)

        for _ in range(2):  # the connection is found lost, then a new one is refused
            with pytest.raises(RedisUnavailable):
                await redis.run(INCR, [counter], [1])
        started = time.monotonic()
        with pytest.raises(RedisUnavailable, match="a moment ago"):
            await redis.run(INCR, [counter], [1])  # no new connection attempt during the back-off
        assert time.monotonic() - started < 0.1

        await asyncio.to_thread(server.start)
        await asyncio.sleep(RECONNECT_BACKOFF_SECONDS)
        answer = await redis.run(INCR, [counter], [5])
        await redis.aclose()

    assert answer == 5  # a fresh Redis (nothing saved): the script was loaded again and ran


async def test_the_password_and_database_in_the_url_are_used() -> None:
    with redis_process("--requirepass", "s3cret") as server:
        base = f"redis://:s3cret@127.0.0.1:{server.port}"
        in_db_3 = RedisPipe(f"{base}/3", 0.5)
        in_db_0 = RedisPipe(f"{base}/0", 0.5)
        wrong = RedisPipe(f"redis://:nope@127.0.0.1:{server.port}/0", 0.5)
        try:
            await in_db_3.run(INCR, ["shared-name"], [7])
            seen_from_db_0 = await in_db_0.run(GET, ["shared-name"], [])
            seen_from_db_3 = await in_db_3.run(GET, ["shared-name"], [])
            with pytest.raises(RedisUnavailable, match="AUTH"):
                await wrong.run(GET, ["shared-name"], [])
        finally:
            for pipe in (in_db_3, in_db_0, wrong):
                await pipe.aclose()

    assert seen_from_db_3 == b"7" and seen_from_db_0 is None


def _flush_scripts(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.script_flush()
    finally:
        client.close()
