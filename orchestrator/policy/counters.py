"""Quota counters: check every limit and book the amounts in one atomic step, in Redis or in this process.

The memory counters check and book with no await in between, so no limit is overshot within the process;
the shared ones (redis_counters.py) do the same for every replica with one Lua script per booking.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple, Protocol


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
