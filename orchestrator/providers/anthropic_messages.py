"""Anthropic Messages: top-level `system`, usage from message_start + message_delta, tool-forced JSON.

Like the OpenAI adapter, the wire JSON is built and read by pure functions here, whichever transport posts it
(`transport: native`, our aiohttp client, or `sdk`, the anthropic SDK: providers/transports.py).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Mapping
from typing import Any

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, FinishReason, SamplingParams, TextDelta, TokenCount, TokenUsage
from orchestrator.errors import ConfigError
from orchestrator.providers import tokens
from orchestrator.providers.base import (
    Completion,
    ProviderError,
    ProviderErrorKind,
    ProviderRequest,
    StreamEvent,
    WireApi,
)
from orchestrator.providers.errors import status_error
from orchestrator.providers.transports import create_transport
from orchestrator.redaction import SECRETS

STOP_REASONS = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "tool_use": FinishReason.STOP,
    "pause_turn": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "refusal": FinishReason.CONTENT_FILTER,
}
JSON_TOOL = "respond_with_json"
# Claude's tokenizer is not public; offline counts are cl100k_base scaled by this documented
# factor and marked estimated. CountTokens asks Anthropic's count endpoint instead when it can.
ESTIMATE_FACTOR = 1.15
# Anthropic's context-length rejection is a plain 400 invalid_request_error; only its text tells.
_TOO_LONG = ("prompt is too long", "input is too long")
# The Messages API version our bodies follow (the one the SDK we test against sends).
API_VERSION = "2026-10-21"


def messages_request(request: ProviderRequest, stream: bool) -> dict[str, Any]:
    """The Messages API body for one call (pure). System turns go to the top-level `system`."""
    params = request.params
    system = "\n\n".join(m.content for m in request.messages if m.role == "system")
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages if m.role != "system"],
        "max_tokens": params.max_output_tokens or 1024,
    }
    if system:
        body["system"] = system
    # temperature and top_p are not sent: the current Messages API (SDK 2.x) no longer takes them.
    if params.stop:
        body["stop_sequences"] = list(params.stop)
    if request.json_schema is not None:
        body["tools"] = [{"name": JSON_TOOL, "description": "Give the answer.", "input_schema": request.json_schema}]
        body["tool_choice"] = {"type": "tool", "name": JSON_TOOL}
    if stream:
        body["stream"] = True
    return body


def usage_from(raw: dict[str, Any], output: int | None = None) -> TokenUsage:
    """Input includes cache reads and writes (OTel GenAI convention); cached = cache reads."""
    read = raw.get("cache_read_input_tokens") or 0
    created = raw.get("cache_creation_input_tokens") or 0
    out = (raw.get("output_tokens") or 0) if output is None else output
    return TokenUsage((raw.get("input_tokens") or 0) + read + created, out, read)


def text_of(content: list[dict[str, Any]]) -> str:
    parts = []
    for block in content:
        if block.get("type") == "text":
            parts.append(block.get("text") or "")
        elif block.get("type") == "tool_use" and block.get("name") == JSON_TOOL:
            parts.append(json.dumps(block.get("input")))
    return "".join(parts)


def stop_reason(value: str | None) -> FinishReason:
    return STOP_REASONS.get(value or "", FinishReason.UNSPECIFIED)


def error_from(provider: str, status: int, body: Any, headers: Mapping[str, str], fallback: str) -> ProviderError:
    """An error answer (`{"type": "error", "error": {"type": ..., "message": ...}}`) classified (pure)."""
    inner = body.get("error") if isinstance(body, dict) else None
    error = inner if isinstance(inner, dict) else {}
    code = error.get("type")
    message = str(error.get("message") or fallback)
    if status in (400, 413) and any(marker in message.lower() for marker in _TOO_LONG):
        code = "context_length_exceeded"
    return status_error(provider, status, code, message, headers)


def _auth_headers(key: str | None) -> dict[str, str]:
    return {"x-api-key": key or "", "anthropic-version": API_VERSION}


WIRE = WireApi("anthropic", "https://api.anthropic.com", "ANTHROPIC_BASE_URL", _auth_headers, error_from)


class AnthropicProvider:
    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key is None:
            raise ConfigError(f"providers.{name}.api_key: required (or set ANTHROPIC_API_KEY)")
        SECRETS.add(key)
        self._timeout = settings.timeout_seconds
        self._transport = create_transport(name, settings, WIRE, key)

    async def start(self) -> None:
        # Load the estimating tokenizer now rather than on the first request that needs a count.
        await asyncio.to_thread(tokens.encoding, "cl100k_base")
        await self._transport.start()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def count_tokens(self, model: str, messages: tuple[ChatMessage, ...], exact: bool = False) -> TokenCount:
        if exact:
            body = messages_request(ProviderRequest(model, messages, _NO_PARAMS), stream=False)
            body.pop("max_tokens")
            try:
                counted = await self._transport.post("/v1/messages/count_tokens", body, self._timeout)
                return TokenCount(int(counted["input_tokens"]))
            except (ProviderError, KeyError, TypeError, ValueError):
                pass  # the estimate below is still useful
        estimate = tokens.count_chat(messages, tokens.encoding("cl100k_base")) * ESTIMATE_FACTOR
        return TokenCount(math.ceil(estimate), estimated=True)

    async def generate(self, request: ProviderRequest) -> Completion:
        message = await self._transport.post("/v1/messages", messages_request(request, False), request.timeout)
        if not isinstance(message, dict) or "content" not in message:
            raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, f"{self.name}: answer without content")
        usage = usage_from(message.get("usage") or {})
        return Completion(
            text_of(message["content"]), stop_reason(message.get("stop_reason")), usage, message.get("model") or ""
        )

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        events = await self._transport.stream("/v1/messages", messages_request(request, True), request.timeout)
        start_usage: dict[str, Any] | None = None
        output_tokens = 0
        reason: str | None = None
        finished = False
        model = request.model
        try:
            async for event in events:
                kind = event.get("type") if isinstance(event, dict) else None
                if kind == "message_start":
                    message = event.get("message") or {}
                    start_usage, model = message.get("usage") or {}, message.get("model") or model
                    output_tokens = start_usage.get("output_tokens") or 0
                elif kind == "content_block_delta":
                    delta = event.get("delta") or {}
                    text = delta.get("text") or delta.get("partial_json")
                    if text:
                        yield TextDelta(text)
                elif kind == "message_delta":
                    reason = (event.get("delta") or {}).get("stop_reason") or reason
                    output_tokens = (event.get("usage") or {}).get("output_tokens") or output_tokens
                elif kind == "message_stop":
                    finished = True
                elif kind == "error":
                    # An error event mid-stream (overloaded, say): the SDK raises it as a status error of the
                    # stream's answer (200), refined by its type.
                    raise error_from(self.name, 200, event, {}, "error event in the stream")
        finally:
            await events.aclose()
        if not finished or start_usage is None:
            raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, f"{self.name}: stream ended before message_stop")
        yield Completion("", stop_reason(reason), usage_from(start_usage, output_tokens), model)


_NO_PARAMS = SamplingParams()
