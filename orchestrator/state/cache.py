"""Response cache backends: this replica's memory, or the shared Redis."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Protocol

from orchestrator.state.redis import SharedRedis


class CacheBackend(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None: ...
    async def aclose(self) -> None: ...


class MemoryCache:
    """Least-recently-used entries with expiry, in this process."""

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        self._entries[key] = (time.monotonic() + ttl_seconds, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    async def aclose(self) -> None:
        self._entries.clear()


class RedisCache:
    """Entries in the shared Redis; a miss when Redis is unreachable (the request goes to the model)."""

    def __init__(self, shared: SharedRedis) -> None:
        self._shared = shared
        self._prefix = shared.key_prefix + "cache:"

    async def get(self, key: str) -> bytes | None:
        value = await self._shared.call("cache_get", lambda r: r.get(self._prefix + key), None)
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        ttl = max(int(ttl_seconds * 1000), 1)
        await self._shared.call("cache_set", lambda r: r.set(self._prefix + key, value, px=ttl), None)

    async def aclose(self) -> None:
        return None  # the pool belongs to SharedRedis
