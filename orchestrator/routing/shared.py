"""Holds shared between replicas through Redis: a model one replica stops sending to, all stop.

When a replica opens a model's circuit or receives a Retry-After, it writes the hold's end (wall
clock) to Redis; every replica polls the holds of all models every `interval` seconds and applies
the ones still running. A hold only ever lengthens, so replaying one is harmless. Redis being
unreachable costs the sharing, never a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping

from orchestrator.routing.health import ModelHealth

log = logging.getLogger(__name__)


class SharedHolds:
    def __init__(self, url: str, interval: float = 0.5, prefix: str = "orchestrator:hold:") -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._interval = interval
        self._prefix = prefix
        self._health: Mapping[str, ModelHealth] = {}
        self._poller: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[None]] = set()

    def publisher(self, model: str) -> Callable[[float], None]:
        """The on_hold hook for one model's health."""

        def publish(seconds: float) -> None:
            task = asyncio.get_running_loop().create_task(self._write(model, time.time() + seconds, seconds))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)

        return publish

    async def _write(self, model: str, until: float, seconds: float) -> None:
        key = self._prefix + model
        try:
            current = await self._redis.get(key)
            if current is None or float(current) < until:
                await self._redis.set(key, repr(until), px=max(int(seconds * 1000), 1))
        except Exception as exc:
            log.warning("could not share a hold on %s: %s", model, type(exc).__name__)

    def start(self, health: Mapping[str, ModelHealth]) -> None:
        self._health = health
        self._poller = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        names = list(self._health)
        keys = [self._prefix + name for name in names]
        while True:
            try:
                values = await self._redis.mget(keys)
                now = time.time()
                for name, value in zip(names, values, strict=True):
                    if value is not None and float(value) > now:
                        self._health[name].apply_hold(float(value) - now)
            except Exception as exc:
                log.warning("could not read shared holds: %s", type(exc).__name__)
            await asyncio.sleep(self._interval)

    async def aclose(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        for task in list(self._writes):
            task.cancel()
        await self._redis.aclose()
