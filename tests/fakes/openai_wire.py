"""The OpenAI Chat Completions wire format, as the fake upstream speaks it: JSON bodies and SSE chunks.

Every function here is pure: it turns an `Answer` (what to say) into bytes or a JSON-able dict.
The shapes follow what api.openai.com sends, so the official `openai` SDK parses them unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakes.behaviour import Answer

_ERROR_TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "invalid_request_error"}
_ERROR_TYPES |= {404: "invalid_request_error", 409: "invalid_request_error", 422: "invalid_request_error"}
_ERROR_TYPES |= {429: "requests"}
_ERROR_CODES = {401: "invalid_api_key", 403: "unsupported_country_region_territory", 429: "rate_limit_exceeded"}
_ERROR_MESSAGES = {
    400: "Invalid request.",
    401: "Incorrect API key provided.",
    403: "Country, region, or territory not supported.",
    404: "The model does not exist or you do not have access to it.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}
_CONTEXT_LENGTH_MESSAGE = (
    "This model's maximum context length is 8192 tokens. Please reduce the length of the messages."
)
# Values of `Behaviour.error_type` that OpenAI uses as an error *type*; any other value only becomes the `code`.
_KNOWN_TYPES = {"invalid_request_error", "server_error", "requests", "tokens", "insufficient_quota"}
# Anthropic's stop reasons, accepted too, so one Behaviour serves both APIs.
_FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "refusal": "content_filter"}
_FINISH_REASONS |= {"tool_use": "tool_calls", "pause_turn": "stop"}

#: Sent by `Behaviour.malformed_after`: an SSE data line that is not valid JSON.
MALFORMED = b'data: {"id": "chatcmpl-broken", "object": "chat.completion.chunk", "choices": [{"delta": {\n\n'


def content_text(content: Any) -> str:
    """The text of a message's `content`: a string, or a list of parts of which the text ones count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p)
    return ""


def parse_prompt(body: dict[str, Any]) -> tuple[str, int]:
    """The last user message's text and the deterministic prompt token count (words + 3 per message)."""
    messages = [m for m in body.get("messages") or [] if isinstance(m, dict)]
    last_user = next((content_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    words = sum(len(content_text(m.get("content")).split()) for m in messages)
    return last_user, words + 3 * len(messages)


def finish_reason(reason: str) -> str:
    return _FINISH_REASONS.get(reason, reason)


def usage(answer: Answer) -> dict[str, Any]:
    return {
        "prompt_tokens": answer.prompt_tokens,
        "completion_tokens": answer.completion_tokens,
        "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": answer.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion(answer: Answer) -> dict[str, Any]:
    """A unary `chat.completion` body."""
    body: dict[str, Any] = {
        "id": answer.id,
        "object": "chat.completion",
        "created": answer.created,
        "model": answer.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "".join(answer.deltas), "refusal": None},
                "finish_reason": finish_reason(answer.finish_reason),
                "logprobs": None,
            }
        ],
        "system_fingerprint": "fp_fake",
    }
    if not answer.omit_usage:
        body["usage"] = usage(answer)
    return body


def _chunk(answer: Answer, choices: list[dict[str, Any]], **extra: Any) -> bytes:
    chunk: dict[str, Any] = {
        "id": answer.id,
        "object": "chat.completion.chunk",
        "created": answer.created,
        "model": answer.model,
        "system_fingerprint": "fp_fake",
        "choices": choices,
    }
    if answer.include_usage and not answer.omit_usage:
        chunk["usage"] = None  # as OpenAI does on every chunk but the last when include_usage is set
    chunk.update(extra)
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


def _choice(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}


def stream_prelude(answer: Answer) -> list[bytes]:
    """The events before the first content delta: one chunk carrying the role."""
    return [_chunk(answer, [_choice({"role": "assistant", "content": "", "refusal": None})])]


def stream_delta(answer: Answer, text: str) -> bytes:
    return _chunk(answer, [_choice({"content": text})])


def stream_error(body: dict[str, Any]) -> bytes:
    """An error mid-stream: a data line holding the error body (no event name), as the API sends it."""
    return f"data: {json.dumps(body)}\n\n".encode()


def stream_epilogue(answer: Answer) -> list[bytes]:
    """The finish chunk, the usage chunk (only when the request asked for it), and `[DONE]`."""
    events = [_chunk(answer, [_choice({}, finish_reason(answer.finish_reason))])]
    if answer.include_usage and not answer.omit_usage:
        events.append(_chunk(answer, [], usage=usage(answer)))
    events.append(b"data: [DONE]\n\n")
    return events


def error_body(status: int, error_type: str | None, message: str | None) -> dict[str, Any]:
    """`{"error": {"message", "type", "param", "code"}}`; `error_type` sets the code (and the type if it is one)."""
    kind = _ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")
    code = _ERROR_CODES.get(status)
    param = None
    if error_type is not None:
        code = error_type
        if error_type in _KNOWN_TYPES:
            kind = error_type
        if error_type == "context_length_exceeded":
            param = "messages"
    default = _CONTEXT_LENGTH_MESSAGE if code == "context_length_exceeded" else _ERROR_MESSAGES.get(status)
    text = message or default or f"Upstream error {status}."
    return {"error": {"message": text, "type": kind, "param": param, "code": code}}


def not_found_message(method: str, path: str) -> str:
    return f"Invalid URL ({method} {path})"


def models(names: list[str], created: int) -> dict[str, Any]:
    """A `GET /v1/models` list."""
    data = [{"id": n, "object": "model", "created": created, "owned_by": "fake-upstream"} for n in names]
    return {"object": "list", "data": data}


EMBEDDING_DIMENSIONS = 64


def embeddings(body: dict[str, Any]) -> dict[str, Any]:
    """A deterministic bag-of-words embedding per input: each lower-cased word adds 1 to a hashed dimension."""
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else [t for t in inputs or [] if isinstance(t, str)]
    data = []
    for i, text in enumerate(texts):
        vector = [0.0] * EMBEDDING_DIMENSIONS
        for word in re.findall(r"[a-z0-9]+", text.lower()):
            vector[int(hashlib.sha256(word.encode()).hexdigest(), 16) % EMBEDDING_DIMENSIONS] += 1.0
        data.append({"object": "embedding", "index": i, "embedding": vector})
    words = sum(len(t.split()) for t in texts)
    return {
        "object": "list",
        "data": data,
        "model": body.get("model", ""),
        "usage": {"prompt_tokens": words, "total_tokens": words},
    }
