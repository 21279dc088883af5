"""The events of an answer in flight, as other replicas read them: start, deltas, then final, error or abandoned.

A final event carries the answer as the cache stores it (no usage, no attempts: the reader did not pay for
it); an error carries what the caller of the leader saw (class, reason, message, details), so every waiter
fails the same way; `abandoned` says the leader stopped without an answer and someone else must lead.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from typing import Any

from orchestrator import errors
from orchestrator.domain import GenerationResult, StreamStarted, TextDelta
from orchestrator.errors import FieldViolation, OrchestratorError, QuotaViolation, Reason
from orchestrator.pipeline.answers import decode_result, encode_result

Event = StreamStarted | TextDelta | GenerationResult
ABANDONED = b'{"t":"abandoned"}'

# Every error class a leader may end with, by name (a reader builds the same class).
_ERRORS: dict[str, type[OrchestratorError]] = {
    cls.__name__: cls for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, OrchestratorError)
}


def encode_event(event: Event) -> bytes:
    if isinstance(event, TextDelta):
        return json.dumps({"t": "delta", "text": event.text}).encode()
    if isinstance(event, StreamStarted):
        return json.dumps({"t": "start", "model": event.model, "provider": event.provider}).encode()
    return b'{"t":"final","result":' + encode_result(event) + b"}"


def encode_error(error: BaseException) -> bytes:
    if not isinstance(error, OrchestratorError):
        error = errors.InternalError("the request failed", reason=Reason.INTERNAL)
    return json.dumps(
        {
            "t": "error",
            "class": type(error).__name__,
            "message": error.message,
            "reason": str(error.reason),
            "retry_after": error.retry_after,
            "metadata": error.metadata,
            "fields": [asdict(v) for v in error.field_violations],
            "quotas": [asdict(v) for v in error.quota_violations],
        }
    ).encode()


def decode_event(raw: bytes) -> Event | OrchestratorError | None:
    """The event, the leader's error, or None for `abandoned` (and for anything unreadable)."""
    try:
        data: dict[str, Any] = json.loads(raw)
        kind = data["t"]
        if kind == "delta":
            return TextDelta(data["text"])
        if kind == "start":
            return StreamStarted("", data["model"], data["provider"])
        if kind == "final":
            result: GenerationResult | None = decode_result(json.dumps(data["result"]).encode(), "", 0.0)
            return result
        if kind == "error":
            cls = _ERRORS.get(data["class"], errors.InternalError)
            return cls(
                data["message"],
                reason=Reason(data["reason"]),
                retry_after=data["retry_after"],
                metadata=data["metadata"],
                field_violations=[FieldViolation(**v) for v in data["fields"]],
                quota_violations=[QuotaViolation(**v) for v in data["quotas"]],
            )
    except (ValueError, KeyError, TypeError):
        pass
    return None


def shared_error(error: OrchestratorError) -> OrchestratorError:
    """The leader's error for one waiter: the same class and details, without the leader's paid attempts."""
    return replace(error, attempts=())
