"""Response cache: a finished answer stored under a hash of everything that shaped it.

Policy per request (`cache.policy`): USE reads and writes, REFRESH only writes, BYPASS neither;
UNSPECIFIED takes `cache.default_policy` (bypass unless configured: sampling makes answers vary, so
callers opt in). Backends (orchestrator.state.cache): `memory` (this replica) and `redis` (shared by
every replica). A hit costs no upstream call: its usage is zero and `cache_hit` is set. A broken Redis
never fails a request: the shared state turns it into a miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import asdict
from typing import Any

from orchestrator.domain import (
    CachePolicy,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    TokenUsage,
)
from orchestrator.state.cache import CacheBackend

log = logging.getLogger(__name__)


def cache_key(request: GenerationRequest, template_version: str, shared: bool = False) -> str:
    """Everything that shapes the answer, and whose answer it is (unless the task's cache is shared across
    services); not the request id, metadata or deadline."""
    material = {
        "service": "" if shared else request.caller.service,
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

    def __init__(
        self,
        backend: CacheBackend | None,
        ttl_seconds: float,
        default_policy: CachePolicy,
        shared_tasks: frozenset[str] = frozenset(),
    ) -> None:
        self._backend = backend
        self._shared_tasks = shared_tasks
        self._ttl = ttl_seconds
        self._default = default_policy

    def _key(self, request: GenerationRequest, template_version: str) -> str:
        return cache_key(request, template_version, request.task_type in self._shared_tasks)

    def _policy(self, request: GenerationRequest) -> CachePolicy:
        if request.conversation_id:
            return CachePolicy.BYPASS  # the answer depends on the conversation so far
        return self._default if request.cache_policy is CachePolicy.DEFAULT else request.cache_policy

    async def lookup(self, request: GenerationRequest, template_version: str) -> GenerationResult | None:
        if self._backend is None or self._policy(request) is not CachePolicy.USE:
            return None
        started = time.monotonic()
        raw = await self._backend.get(self._key(request, template_version))
        if raw is None:
            return None
        return decode_result(raw, request.request_id, (time.monotonic() - started) * 1000)

    async def store(self, request: GenerationRequest, template_version: str, result: GenerationResult) -> None:
        if self._backend is None or self._policy(request) not in (CachePolicy.USE, CachePolicy.REFRESH):
            return
        if result.finish_reason not in (FinishReason.STOP, FinishReason.LENGTH):
            return
        await self._backend.set(
            cache_key(request, template_version, request.task_type in self._shared_tasks),
            encode_result(result),
            self._ttl,
        )

    async def aclose(self) -> None:
        if self._backend is not None:
            await self._backend.aclose()
