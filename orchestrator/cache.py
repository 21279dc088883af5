"""Response cache: a finished answer stored under a hash of everything that shaped it.

Policy per request (`cache.policy`): USE reads and writes, REFRESH only writes, BYPASS neither;
UNSPECIFIED takes `cache.default_policy` (bypass unless configured: sampling makes answers vary, so
callers opt in). Backends: `memory` (this replica) and `redis` (shared by every replica). A hit costs
no upstream call: its usage is zero and `cache_hit` is set. A broken Redis never fails a request; it
is logged and the request goes to the model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import OrderedDict
from dataclasses import asdict
from typing import Any, Protocol

from orchestrator.domain import (
    CachePolicy,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    TokenUsage,
)

log = logging.getLogger(__name__)


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
    def __init__(self, url: str, prefix: str = "orchestrator:cache:") -> None:
        import redis.asyncio as redis

        self._redis = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix

    async def get(self, key: str) -> bytes | None:
        value = await self._redis.get(self._prefix + key)
        return bytes(value) if value is not None else None

    async def set(self, key: str, value: bytes, ttl_seconds: float) -> None:
        await self._redis.set(self._prefix + key, value, px=max(int(ttl_seconds * 1000), 1))

    async def aclose(self) -> None:
        await self._redis.aclose()


def cache_key(request: GenerationRequest, template_version: str) -> str:
    """Everything that shapes the answer; not the request id, metadata or deadline."""
    material = {
        "task": request.task_type,
        "template": [request.template_id, template_version],
        "variables": request.variables,
        "messages": [[m.role, m.content] for m in request.messages],
        "context": [[c.content, c.source, c.relevance_score, str(c.timestamp), c.token_count] for c in request.context],
        "strategy": request.context_strategy,
        "format": request.output_format.value,
        "schema": request.json_schema,
        "selection": asdict(request.selection),
        "params": asdict(request.params),
    }
    encoded = json.dumps(material, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def encode_result(result: GenerationResult) -> bytes:
    return json.dumps(
        {
            "text": result.text,
            "model": result.model,
            "provider": result.provider,
            "finish_reason": result.finish_reason.value,
            "structured": result.structured,
            "has_structured": result.has_structured,
            "code": result.code,
            "template_id": result.template_id,
            "template_version": result.template_version,
            "context_used": result.context_used,
            "context_dropped": result.context_dropped,
        }
    ).encode()


def decode_result(raw: bytes, request_id: str, latency_ms: float) -> GenerationResult | None:
    try:
        data: dict[str, Any] = json.loads(raw)
        return GenerationResult(
            request_id=request_id,
            text=data["text"],
            model=data["model"],
            provider=data["provider"],
            usage=TokenUsage(),  # nothing was sent upstream for this answer
            cost_usd=0.0,
            finish_reason=FinishReason(data["finish_reason"]),
            attempts=[],  # no model was tried for this request
            latency_ms=latency_ms,
            structured=data["structured"],
            has_structured=data["has_structured"],
            code=data["code"],
            cache_hit=True,
            template_id=data["template_id"],
            template_version=data["template_version"],
            context_used=data["context_used"],
            context_dropped=data["context_dropped"],
        )
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring an unreadable cache entry")
        return None


class ResponseCache:
    """Applies the request's policy around a backend; never lets the backend fail a request."""

    def __init__(self, backend: CacheBackend | None, ttl_seconds: float, default_policy: CachePolicy) -> None:
        self._backend = backend
        self._ttl = ttl_seconds
        self._default = default_policy

    def _policy(self, request: GenerationRequest) -> CachePolicy:
        return self._default if request.cache_policy is CachePolicy.DEFAULT else request.cache_policy

    async def lookup(self, request: GenerationRequest, template_version: str) -> GenerationResult | None:
        if self._backend is None or self._policy(request) is not CachePolicy.USE:
            return None
        started = time.monotonic()
        try:
            raw = await self._backend.get(cache_key(request, template_version))
        except Exception as exc:  # an unreachable cache must not fail the request
            log.warning("response cache read failed: %s", type(exc).__name__)
            return None
        if raw is None:
            return None
        return decode_result(raw, request.request_id, (time.monotonic() - started) * 1000)

    async def store(self, request: GenerationRequest, template_version: str, result: GenerationResult) -> None:
        if self._backend is None or self._policy(request) not in (CachePolicy.USE, CachePolicy.REFRESH):
            return
        if result.finish_reason not in (FinishReason.STOP, FinishReason.LENGTH):
            return
        try:
            await self._backend.set(cache_key(request, template_version), encode_result(result), self._ttl)
        except Exception as exc:
            log.warning("response cache write failed: %s", type(exc).__name__)

    async def aclose(self) -> None:
        if self._backend is not None:
            await self._backend.aclose()
