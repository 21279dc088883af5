"""Quota counters: check every limit and book the amounts in one atomic step, in Redis or in this process.

Redis runs one Lua script per reservation, so concurrent calls on every replica see one another's
reservations and no limit is overshot; the memory counters do the same within one process (no await
between check and book).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from orchestrator.state.redis import SharedRedis
from orchestrator.state.redis_pipe import Script


class Entry(NamedTuple):  # a tuple: built several times per request
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

    def adjust(self, deltas: list[tuple[str, float]]) -> None:
        """Apply `deltas` without waiting (settlements happen after the answer has gone out)."""
        ...

    async def read(self, keys: list[str]) -> list[float] | None: ...

    async def aclose(self) -> None: ...


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

    def adjust(self, deltas: list[tuple[str, float]]) -> None:
        now = time.monotonic()
        for key, delta in deltas:
            entry = self._values.get(key)
            if entry is not None and entry[1] > now:
                self._values[key] = (max(entry[0] + delta, 0.0), entry[1])

    async def read(self, keys: list[str]) -> list[float]:
        now = time.monotonic()
        return [self._get(key, now) for key in keys]

    async def aclose(self) -> None:
        pass


# Settlements wait this long to ride along with the next reservation's script (one Redis command instead
# of two per call, and many settlements of one window merged into one increment); then they go alone.
SETTLE_DELAY_SECONDS = 0.02

# KEYS: the n counters to reserve on, then counters owed a settlement only. ARGV: n; per counter to reserve
# amount, maximum, ttl, owed settlement; per counter owed only, its settlement. A settlement applies only to
# a window that still exists (never below 0), then the reservation is checked and booked, all or nothing.
# One MGET and one SET per changed counter: each redis.call costs, and this runs for every request.
# Returns {0, used...} or {failed index, used before...} for the n counters.
_RESERVE = Script("""
local n = tonumber(ARGV[1])
local found = redis.call('MGET', unpack(KEYS))
local used = {}
for i = 1, #KEYS do
  used[i] = tonumber(found[i] or '0')
  if found[i] then
    local owed = tonumber(i <= n and ARGV[4 * i + 1] or ARGV[3 * n + 1 + i])
    used[i] = math.max(used[i] + owed, 0)
  end
end
local failed = 0
for i = 1, n do
  local amount = tonumber(ARGV[4 * i - 2])
  if amount > 0 and used[i] + amount > tonumber(ARGV[4 * i - 1]) then
    failed = i
    break
  end
end
local out = {tostring(failed)}
for i = 1, #KEYS do
  local value = used[i]
  if failed == 0 and i <= n then value = value + tonumber(ARGV[4 * i - 2]) end
  if found[i] and value ~= tonumber(found[i]) then
    redis.call('SET', KEYS[i], string.format('%.17g', value), 'KEEPTTL')
  elseif not found[i] and value ~= 0 then
    redis.call('SET', KEYS[i], string.format('%.17g', value), 'EX', ARGV[4 * i])
  end
  if i <= n then out[i + 1] = string.format('%.17g', failed == 0 and value or used[i]) end
end
return out
""")
# KEYS: counters to read (a script, so that it runs after the settlements written before it).
_READ = Script("return redis.call('MGET', unpack(KEYS))")
_FAILED = object()


class RedisCounters:
    """Reservations are awaited; settlements are owed, merged, and sent with the next reservation."""

    def __init__(self, shared: SharedRedis, settle_delay: float = SETTLE_DELAY_SECONDS) -> None:
        self._shared = shared
        self._prefix = shared.key_prefix + "quota:"
        self._settle_delay = settle_delay
        self._owed: dict[str, float] = {}
        self._flush_timer: asyncio.TimerHandle | None = None

    async def reserve(self, entries: list[Entry]) -> Booked | None:
        prefix, owed = self._prefix, self._owed
        keys = [prefix + e.key for e in entries]
        args: list[str | float | int] = [len(entries)]
        for key, e in zip(keys, entries, strict=True):
            args += (repr(e.amount), repr(e.maximum), e.ttl_seconds, repr(owed.pop(key, 0.0)))
        if owed:
            keys += owed.keys()
            args += map(repr, owed.values())
            self._owed = {}
        result = await self._shared.script("quota_reserve", _RESERVE, keys, args, _FAILED)
        if result is _FAILED:
            return None
        failed = int(result[0])  # type: ignore[index]
        used = tuple(float(v) for v in result[1:])  # type: ignore[index]
        return Booked(True, used) if failed == 0 else Booked(False, used, failed - 1)

    def adjust(self, deltas: list[tuple[str, float]]) -> None:
        owed = self._owed
        for key, delta in deltas:
            full = self._prefix + key
            owed[full] = owed.get(full, 0.0) + delta
        if self._flush_timer is None or self._flush_timer.cancelled():
            self._flush_timer = asyncio.get_running_loop().call_later(self._settle_delay, self.flush)

    def flush(self) -> None:
        """Send what is owed now (the timer, a read, closing)."""
        if self._flush_timer is not None:
            self._flush_timer.cancel()
            self._flush_timer = None
        if self._owed:
            owed, self._owed = self._owed, {}
            self._shared.send_script("quota_settle", _RESERVE, list(owed), [0, *map(repr, owed.values())])

    async def read(self, keys: list[str]) -> list[float] | None:
        self.flush()
        values = await self._shared.script("quota_read", _READ, [self._prefix + key for key in keys], [], _FAILED)
        if values is _FAILED:
            return None
        return [float(v) if v is not None else 0.0 for v in values]  # type: ignore[union-attr]

    async def aclose(self) -> None:
        self.flush()
