"""Single-flight across replicas: a short lease per request key, and the leader's events for the others.

The replica that takes the lease (`SET NX` in a script: it answers with the holder when taken) calls the
model and appends every event of its answer (start, deltas, final or error) to a Redis stream named after
its flight id; every other replica reads that stream from the beginning and waits on it (XREAD BLOCK). The
leader renews the lease while it runs, so a lease outlives only a leader that died. Redis being unreachable
makes every operation answer "lead it yourself", which leaves single-flight to each process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from orchestrator.state.redis import SharedRedis

# Takes the lease unless someone holds it; answers with the holder's flight id (nil when taken here).
_ACQUIRE = """
local holder = redis.call('GET', KEYS[1])
if holder then return holder end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""
# Renews (ARGV[2] > 0) or releases (ARGV[2] == 0) the lease, only while it is still ours.
_KEEP = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if tonumber(ARGV[2]) > 0 then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('DEL', KEYS[1])
"""
# How long a finished flight's events stay readable for replicas that joined late.
EVENTS_TTL_SECONDS = 60


class RedisFlightBoard:
    """Leases and event streams in the shared Redis, under `key_prefix + "flight:"`."""

    def __init__(self, shared: SharedRedis) -> None:
        self._shared = shared
        self._prefix = shared.key_prefix + "flight:"
        # A blocking read must return before the client's socket timeout, or the pool calls it a failure.
        self.read_block_seconds = shared.timeout_seconds / 2

    def _lease(self, key: str) -> str:
        return self._prefix + key

    def _events(self, key: str, flight: str) -> str:
        return f"{self._prefix}{key}:{flight}"

    async def acquire(self, key: str, flight: str, lease_seconds: float) -> str | None:
        """None when this flight now holds the lease (or Redis is unreachable); else the holder's flight id."""
        ms = max(int(lease_seconds * 1000), 1)
        holder = await self._shared.call(
            "flight_acquire", lambda r: r.eval(_ACQUIRE, 1, self._lease(key), flight, ms), None
        )
        return holder.decode() if isinstance(holder, bytes) else None

    async def holder(self, key: str) -> str | None:
        """The flight holding the lease; None when nobody does (or Redis is unreachable)."""
        value = await self._shared.call("flight_holder", lambda r: r.get(self._lease(key)), None)
        return value.decode() if isinstance(value, bytes) else None

    async def renew(self, key: str, flight: str, lease_seconds: float) -> None:
        ms = max(int(lease_seconds * 1000), 1)
        await self._shared.call("flight_renew", lambda r: r.eval(_KEEP, 1, self._lease(key), flight, ms), None)

    async def release(self, key: str, flight: str) -> None:
        await self._shared.call("flight_release", lambda r: r.eval(_KEEP, 1, self._lease(key), flight, 0), None)

    async def publish(self, key: str, flight: str, events: Sequence[bytes]) -> None:
        """Append events in order (one round trip for the batch)."""
        stream = self._events(key, flight)

        async def append(redis: Any) -> None:
            async with redis.pipeline(transaction=False) as pipe:
                for event in events:
                    pipe.xadd(stream, {"e": event})
                pipe.expire(stream, EVENTS_TTL_SECONDS)
                await pipe.execute()

        await self._shared.call("flight_publish", append, None)

    async def read(self, key: str, flight: str, after: str, block_seconds: float) -> list[tuple[str, bytes]] | None:
        """Events after `after` ("0" for all), waiting up to `block_seconds` for one; None when Redis fails."""
        stream = self._events(key, flight)
        block = max(int(min(block_seconds, self.read_block_seconds) * 1000), 1)
        answer = await self._shared.call("flight_read", lambda r: r.xread({stream: after}, block=block), _FAILED)
        if answer is _FAILED:
            return None
        entries: list[tuple[str, bytes]] = []
        for _, messages in answer or ():
            entries += [(_text(entry_id), bytes(fields[b"e"])) for entry_id, fields in messages]
        return entries


_FAILED: Any = object()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
