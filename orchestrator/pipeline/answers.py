"""A finished answer as it is stored (cache entries, events of a flight), and served again without a model call.

A stored answer has no usage, cost or attempts: whoever is served from it did not pay for it.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace
from typing import Any

from orchestrator.domain import FinishReason, GenerationResult, StreamStarted, TokenUsage

log = logging.getLogger(__name__)


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


def served_copy(
    result: GenerationResult, request_id: str, started: float, similarity: float = 0.0, joined: bool = False
) -> GenerationResult:
    """Another request's answer, served to this one: no usage, no cost, no attempts, its own id and latency."""
    return replace(
        result,
        request_id=request_id,
        usage=TokenUsage(),
        cost_usd=0.0,
        attempts=[],
        latency_ms=(time.monotonic() - started) * 1000,
        cache_hit=True,
        cache_similarity=similarity,
        joined=joined,
    )


def started_for(event: StreamStarted, request_id: str) -> StreamStarted:
    return replace(event, request_id=request_id)
