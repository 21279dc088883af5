"""Conversations in the shared Redis: a list of turns, a hash of facts, an index per service, a lease key.

Every key expires `ttl_seconds` after the conversation's last turn. Redis being unreachable makes the
conversation unavailable (UNAVAILABLE): answering without the earlier turns would silently change the
conversation, which is not safe.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from orchestrator.conversations.model import (
    ConversationInfo,
    ConversationPage,
    Summary,
    Turn,
    decode_page_token,
    encode_page_token,
)
from orchestrator.errors import Reason, UnavailableError
from orchestrator.state.redis import SharedRedis

_FAILED = object()
# Appends the turns, trims to the newest max_turns, stamps the facts, renews every key's TTL and indexes it.
_APPEND = """
local turns, meta, index = KEYS[1], KEYS[2], KEYS[3]
local now, ttl, max_turns, id = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
for i = 5, #ARGV do redis.call('RPUSH', turns, ARGV[i]) end
local length = redis.call('LLEN', turns)
if length > max_turns then
  redis.call('LTRIM', turns, length - max_turns, -1)
  redis.call('HDEL', meta, 'summary')
end
redis.call('HSETNX', meta, 'created', now)
redis.call('HSET', meta, 'updated', now)
redis.call('EXPIRE', turns, ttl)
redis.call('EXPIRE', meta, ttl)
redis.call('ZADD', index, now, id)
redis.call('EXPIRE', index, ttl)
return redis.call('LLEN', turns)
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _turn(raw: bytes) -> Turn:
    data: dict[str, Any] = json.loads(raw)
    created = datetime.fromtimestamp(data["t"], UTC) if data.get("t") else None
    return Turn(data["r"], data["c"], data.get("q", ""), data.get("m", ""), created)


class RedisConversationStore:
    def __init__(self, shared: SharedRedis, max_turns: int = 200, ttl_seconds: int = 7 * 86_400) -> None:
        self._shared = shared
        self._prefix = shared.key_prefix + "conv:"
        self._max_turns = max_turns
        self._ttl = ttl_seconds
        self._append = shared.client.register_script(_APPEND)
        self._release = shared.client.register_script(_RELEASE)

    def _key(self, service: str, conversation_id: str, part: str) -> str:
        return f"{self._prefix}{service}:{conversation_id}:{part}"

    async def _call(self, operation: str, command: Any) -> Any:
        result = await self._shared.call(f"conversation_{operation}", command, _FAILED)
        if result is _FAILED:
            raise UnavailableError(
                "the conversation store is unavailable; retry later",
                reason=Reason.CONVERSATION_STORE_UNAVAILABLE,
                retry_after=1.0,
            )
        return result

    async def turns(self, service: str, conversation_id: str) -> list[Turn]:
        raw = await self._call("read", lambda r: r.lrange(self._key(service, conversation_id, "turns"), 0, -1))
        return [_turn(item) for item in raw]

    async def info(self, service: str, conversation_id: str) -> ConversationInfo | None:
        meta_key, turns_key = self._key(service, conversation_id, "meta"), self._key(service, conversation_id, "turns")

        async def read(r: Any) -> Any:
            async with r.pipeline(transaction=False) as pipe:
                return await pipe.hgetall(meta_key).llen(turns_key).execute()

        meta, count = await self._call("read", read)
        if not meta:
            return None
        return self._info(conversation_id, meta, count)

    def _info(self, conversation_id: str, meta: dict[bytes, bytes], count: int) -> ConversationInfo:
        updated = datetime.fromtimestamp(float(meta[b"updated"]), UTC)
        created = datetime.fromtimestamp(float(meta.get(b"created", meta[b"updated"])), UTC)
        return ConversationInfo(conversation_id, count, created, updated, updated + timedelta(seconds=self._ttl))

    async def append(self, service: str, conversation_id: str, turns: list[Turn]) -> None:
        now = time.time()
        encoded = [json.dumps({"r": t.role, "c": t.content, "q": t.request_id, "m": t.model, "t": now}) for t in turns]
        keys = [self._key(service, conversation_id, p) for p in ("turns", "meta")] + [f"{self._prefix}{service}:index"]
        args = [repr(now), self._ttl, self._max_turns, conversation_id, *encoded]
        await self._call("append", lambda _: self._append(keys=keys, args=args))

    async def list(self, service: str, page_size: int, page_token: str = "") -> ConversationPage:
        offset = decode_page_token(page_token) if page_token else 0
        index = f"{self._prefix}{service}:index"
        horizon = time.time() - self._ttl

        async def read(r: Any) -> Any:
            await r.zremrangebyscore(index, "-inf", horizon)  # forget expired conversations
            return await r.zrevrange(index, offset, offset + page_size)  # one more: is there a next page?

        ids = [i.decode() for i in await self._call("list", read)]
        page = []
        for conversation_id in ids[:page_size]:
            info = await self.info(service, conversation_id)
            if info is not None:
                page.append(info)
        more = len(ids) > page_size
        return ConversationPage(page, encode_page_token(offset + page_size) if more else "")

    async def delete(self, service: str, conversation_id: str) -> int:
        turns_key = self._key(service, conversation_id, "turns")

        async def remove(r: Any) -> Any:
            async with r.pipeline(transaction=True) as pipe:
                pipe.llen(turns_key).delete(turns_key, self._key(service, conversation_id, "meta"))
                pipe.zrem(f"{self._prefix}{service}:index", conversation_id)
                return await pipe.execute()

        count, *_ = await self._call("delete", remove)
        return int(count)

    async def acquire(self, service: str, conversation_id: str, token: str, seconds: float) -> bool:
        key = self._key(service, conversation_id, "lease")
        held = await self._call("lease", lambda r: r.set(key, token, nx=True, px=max(int(seconds * 1000), 1)))
        return bool(held)

    async def release(self, service: str, conversation_id: str, token: str) -> None:
        key = self._key(service, conversation_id, "lease")
        await self._shared.call("conversation_lease", lambda _: self._release(keys=[key], args=[token]), None)

    async def summary(self, service: str, conversation_id: str) -> Summary | None:
        raw = await self._call("read", lambda r: r.hget(self._key(service, conversation_id, "meta"), "summary"))
        if not raw:
            return None
        data = json.loads(raw)
        return Summary(int(data["upto"]), str(data["text"]))

    async def save_summary(self, service: str, conversation_id: str, summary: Summary) -> None:
        value = json.dumps({"upto": summary.upto, "text": summary.text})
        meta = self._key(service, conversation_id, "meta")
        await self._call("write", lambda r: r.hset(meta, "summary", value))

    async def aclose(self) -> None:
        return None  # the pool belongs to SharedRedis
