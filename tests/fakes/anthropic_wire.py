"""The Anthropic Messages wire format, as the fake upstream speaks it: JSON bodies and named SSE events.

Every function here is pure: it turns an `Answer` (what to say) into bytes or a JSON-able dict.
The shapes follow what api.anthropic.com sends, so the official `anthropic` SDK parses them unchanged.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.behaviour import Answer

_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 402: "billing_error"}
_ERROR_TYPES |= {403: "permission_error", 404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error"}
_ERROR_TYPES |= {500: "api_error", 504: "timeout_error", 529: "overloaded_error"}
_ERROR_MESSAGES = {
    "invalid_request_error": "Invalid request.",
    "authentication_error": "invalid x-api-key",
    "permission_error": "Your API key does not have permission to use the specified resource.",
    "not_found_error": "The requested resource could not be found.",
    "request_too_large": "Request exceeds the maximum allowed number of bytes.",
    "rate_limit_error": "Number of request tokens has exceeded your per-minute rate limit.",
    "api_error": "Internal server error",
    "timeout_error": "Request timed out.",
    "overloaded_error": "Overloaded",
}
# OpenAI's finish reasons, accepted too, so one Behaviour serves both APIs.
_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "content_filter": "refusal", "tool_calls": "tool_use"}

#: Sent by `Behaviour.malformed_after`: a named event (the SDK skips unnamed ones) whose data is not valid JSON.
MALFORMED = b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, "delta": {\n\n'


def content_text(content: Any) -> str:
    """The text of a message's `content` (or of `system`): a string, or a list of blocks of which text ones count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and "text" in b)
    return ""


def parse_prompt(body: dict[str, Any]) -> tuple[str, int]:
    """The last user message's text and the deterministic prompt token count (words + 3 per message, + system)."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    last_user = next((content_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    words = sum(len(content_text(m.get("content")).split()) for m in messages)
    words += len(content_text(body.get("system")).split())
    return last_user, words + 3 * len(messages)


def stop_reason(reason: str) -> str:
    return _STOP_REASONS.get(reason, reason)


def _usage(answer: Answer, output_tokens: int) -> dict[str, Any]:
    return {
        "input_tokens": answer.prompt_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": answer.cached_tokens,
        "output_tokens": output_tokens,
    }


def message(answer: Answer) -> dict[str, Any]:
    """A unary `message` body."""
    return {
        "id": answer.id,
        "type": "message",
        "role": "assistant",
        "model": answer.model,
        "content": [{"type": "text", "text": "".join(answer.deltas)}],
        "stop_reason": stop_reason(answer.finish_reason),
        "stop_sequence": None,
        "usage": _usage(answer, answer.completion_tokens),
    }


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n".encode()


def stream_prelude(answer: Answer) -> list[bytes]:
    """`message_start`, `content_block_start` and a `ping`, as the real API opens every stream."""
    start = message(answer) | {"content": [], "stop_reason": None, "usage": _usage(answer, 1)}
    return [
        _event("message_start", {"type": "message_start", "message": start}),
        _event(
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        ),
        _event("ping", {"type": "ping"}),
    ]


def stream_delta(answer: Answer, text: str) -> bytes:
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}}
    return _event("content_block_delta", delta)


def stream_error(body: dict[str, Any]) -> bytes:
    """An error mid-stream (overloaded, say): an `error` event with the API's error body."""
    return _event("error", body)


def stream_epilogue(answer: Answer) -> list[bytes]:
    """`content_block_stop`, `message_delta` (stop reason, cumulative usage) and `message_stop`."""
    return [
        _event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason(answer.finish_reason), "stop_sequence": None},
                "usage": _usage(answer, answer.completion_tokens),
            },
        ),
        _event("message_stop", {"type": "message_stop"}),
    ]


def error_body(status: int, error_type: str | None, message: str | None) -> dict[str, Any]:
    """`{"type": "error", "error": {"type", "message"}}`; `error_type` overrides the type.

    OpenAI's `context_length_exceeded` becomes Anthropic's own form of it: an `invalid_request_error` saying
    "prompt is too long", so one Behaviour serves both APIs.
    """
    kind = error_type or _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    default = _ERROR_MESSAGES.get(kind)
    if kind == "context_length_exceeded":  # OpenAI's code; Anthropic says it this way
        kind, default = "invalid_request_error", "prompt is too long: 250000 tokens > 200000 maximum"
    text = message or default or f"Upstream error {status}."
    return {"type": "error", "error": {"type": kind, "message": text}}


def not_found_message(method: str, path: str) -> str:
    return f"Not found: {method} {path}"


def models(names: list[str], created: int) -> dict[str, Any]:
    """A `GET /v1/models` page."""
    data = [{"type": "model", "id": n, "display_name": n, "created_at": "2025-01-01T00:00:00Z"} for n in names]
    return {
        "data": data,
        "has_more": False,
        "first_id": names[0] if names else None,
        "last_id": names[-1] if names else None,
    }
