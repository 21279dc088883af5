"""Quota counters: check every limit and book the amounts in one atomic step, in Redis or in this process.

Redis runs one Lua script per reservation, so concurrent calls on every replica see one another's
reservations and no limit is overshot; the memory counters do the same within one process (no await
between check and book).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from orchestrator.state.redis import SharedRedis


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    amount: float
    maximum: float
    ttl_seconds: int


@dataclass(frozen=True, slots=True)
class Booked:
    """The outcome of one reservation: booked, or the index of the first entry that would go over."""

    ok: bool
    # Each counter's value after booking (ok), or before the refused booking (not ok).
    used: tuple[float, ...]
    failed: int = -1


class Counters(Protocol):
    async def reserve(self, entries: list[Entry]) -> Booked | None:
        """None: the counters are unreachable."""
        ...

    async def adjust(self, deltas: list[tuple[str, float]]) -> None: ...

    async def read(self, keys: list[str]) -> list[float] | None: ...


class MemoryCounters:
    """Counters in this process; expired windows are dropped as they are met."""

    SWEEP_EVERY_SECONDS = 60.0

    def __init__(self) -> None:
        self._values: dict[str, tuple[float, float]] = {}  # key -> (value, expires at, monotonic)
        self._swept = time.monotonic()

    def _sweep(self, now: float) -> None:
        """Drop the counters of windows that have ended (each window has keys of its own)."""
        if now - self._swept >= self.SWEEP_EVERY_SECONDS:
            self._swept = now
            self._values = {k: v for k, v in self._values.items() if v[1] > now}

    def _get(self, key: str, now: float) -> float:
        entry = self._values.get(key)
        if entry is None or entry[1] <= now:
            self._values.pop(key, None)
            return 0.0
        return entry[0]

    async def reserve(self, entries: list[Entry]) -> Booked:
        now = time.monotonic()
        self._sweep(now)
        used = [self._get(e.key, now) for e in entries]
        for index, (entry, value) in enumerate(zip(entries, used, strict=True)):
            if entry.amount > 0 and value + entry.amount > entry.maximum:
                return Booked(False, tuple(used), index)
        for entry, value in zip(entries, used, strict=True):
            self._values[entry.key] = (value + entry.amount, now + entry.ttl_seconds)
        return Booked(True, tuple(v + e.amount for v, e in zip(used, entries, strict=True)))

    async def adjust(self, deltas: list[tuple[str, float]]) -> None:
        now = time.monotonic()
        for key, delta in deltas:
            entry = self._values.get(key)
            if entry is not None and entry[1] > now:
                self._values[key] = (max(entry[0] + delta, 0.0), entry[1])

    async def read(self, keys: list[str]) -> list[float]:
        now = time.monotonic()
        return [self._get(key, now) for key in keys]


# KEYS: counters. ARGV: per key amount, maximum, ttl. Returns {0, used...} or {failed index, used...}.
_RESERVE = """
local used = {}
for i = 1, #KEYS do
  used[i] = tonumber(redis.call('GET', KEYS[i]) or '0')
end
for i = 1, #KEYS do
  local amount = tonumber(ARGV[3 * i - 2])
  if amount > 0 and used[i] + amount > tonumber(ARGV[3 * i - 1]) then
    local out = {tostring(i)}
    for j = 1, #KEYS do out[j + 1] = tostring(used[j]) end
    return out
  end
end
local out = {'0'}
for i = 1, #KEYS do
  local amount = tonumber(ARGV[3 * i - 2])
  if amount ~= 0 then
    used[i] = tonumber(redis.call('INCRBYFLOAT', KEYS[i], ARGV[3 * i - 2]))
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[3 * i]))
  end
  out[i + 1] = tostring(used[i])
end
return out
"""
# Returns what a settled call did not use (or adds what it used beyond its reservation); a window that
# has already expired is left alone.
_ADJUST = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    local value = tonumber(redis.call('INCRBYFLOAT', KEYS[i], ARGV[i]))
    if value < 0 then redis.call('SET', KEYS[i], '0', 'KEEPTTL') end
  end
end
return 1
"""
_FAILED = object()


class RedisCounters:
    def __init__(self, shared: SharedRedis) -> None:
        self._shared = shared
        self._prefix = shared.key_prefix + "quota:"
        self._reserve = shared.client.register_script(_RESERVE)
        self._adjust = shared.client.register_script(_ADJUST)

    async def reserve(self, entries: list[Entry]) -> Booked | None:
        keys = [self._prefix + e.key for e in entries]
        args: list[str | float | int] = []
        for e in entries:
            args += [repr(e.amount), repr(e.maximum), e.ttl_seconds]
        result = await self._shared.call("quota_reserve", lambda _: self._reserve(keys=keys, args=args), _FAILED)
        if result is _FAILED:
            return None
        values = [x.decode() if isinstance(x, bytes) else str(x) for x in result]  # type: ignore[union-attr]
        failed = int(values[0])
        used = tuple(float(v) for v in values[1:])
        return Booked(True, used) if failed == 0 else Booked(False, used, failed - 1)

    async def adjust(self, deltas: list[tuple[str, float]]) -> None:
        if deltas:
            keys = [self._prefix + key for key, _ in deltas]
            args = [repr(delta) for _, delta in deltas]
            await self._shared.call("quota_settle", lambda _: self._adjust(keys=keys, args=args), None)

    async def read(self, keys: list[str]) -> list[float] | None:
        full = [self._prefix + key for key in keys]
        values = await self._shared.call("quota_read", lambda r: r.mget(full), _FAILED)
        if values is _FAILED:
            return None
        return [float(v) if v is not None else 0.0 for v in values]  # type: ignore[union-attr]
