"""Holds shared between replicas through Redis: a model one replica stops sending to, all stop.

When a replica opens a model's circuit or receives a Retry-After, it writes the hold's end (wall
clock) to Redis; every replica polls the holds of all models every `interval` seconds and applies
the ones still running. A hold only ever lengthens, so replaying one is harmless. Redis being
unreachable costs the sharing, never a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from orchestrator.state.redis import SharedRedis


class Holdable(Protocol):
    """A model's health as the holds see it (routing's ModelHealth)."""

    def apply_hold(self, seconds: float) -> None: ...


class SharedHolds:
    """A routing HoldBoard over the shared Redis."""

    def __init__(self, shared: SharedRedis, interval: float = 0.5) -> None:
        self._shared = shared
        self._interval = interval
        self._prefix = shared.key_prefix + "hold:"
        self._health: Mapping[str, Holdable] = {}
        self._poller: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()

    def publisher(self, model: str) -> Callable[[float], None]:
        def publish(seconds: float) -> None:
            task = asyncio.get_running_loop().create_task(self._write(model, time.time() + seconds, seconds))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

        return publish

    async def _write(self, model: str, until: float, seconds: float) -> None:
        key = self._prefix + model
        current = await self._shared.call("holds_read", lambda r: r.get(key), None)
        if current is None or float(current) < until:
            ttl = max(int(seconds * 1000), 1)
            await self._shared.call("holds_write", lambda r: r.set(key, repr(until), px=ttl), None)

    def start(self, health: Mapping[str, Holdable]) -> None:
        self._health = health
        self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        names = list(self._health)
        keys = [self._prefix + name for name in names]
        while True:
            values = await self._shared.call("holds_poll", lambda r: r.mget(keys), None)
            now = time.time()
            for name, value in zip(names, values or (), strict=False):
                if value is not None and float(value) > now:
                    self._health[name].apply_hold(float(value) - now)
            await asyncio.sleep(self._interval)

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        for task in list(self._writes):
            task.cancel()
