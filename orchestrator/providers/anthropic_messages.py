"""Anthropic Messages: top-level `system`, usage from message_start + message_delta, tool-forced JSON."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, FinishReason, SamplingParams, TextDelta, TokenCount, TokenUsage
from orchestrator.providers import tokens
from orchestrator.providers.base import Completion, ProviderError, ProviderErrorKind, ProviderRequest, StreamEvent
from orchestrator.providers.errors import status_error, transport_error
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


def usage_from(input_tokens: int, cache_read: int | None, cache_creation: int | None, output: int) -> TokenUsage:
    """Input includes cache reads and writes (OTel GenAI convention); cached = cache reads."""
    read, created = cache_read or 0, cache_creation or 0
    return TokenUsage(input_tokens + read + created, output, read)


def text_of(content: list[Any]) -> str:
    parts = []
    for block in content:
        if block.type == "text":
            parts.append(block.text)
        elif block.type == "tool_use" and block.name == JSON_TOOL:
            parts.append(json.dumps(block.input))
    return "".join(parts)


class AnthropicProvider:
    def __init__(self, name: str, settings: ProviderSettings) -> None:
        self.name = name
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key is None:
            from orchestrator.config import ConfigError

            raise ConfigError(f"providers.{name}.api_key: required (or set ANTHROPIC_API_KEY)")
        SECRETS.add(key)
        self._client = anthropic.AsyncAnthropic(
            api_key=key, base_url=settings.base_url, max_retries=0, timeout=settings.timeout_seconds
        )

    async def start(self) -> None:
        return None

    async def aclose(self) -> None:
        await self._client.close()

    async def count_tokens(self, model: str, messages: tuple[ChatMessage, ...], exact: bool = False) -> TokenCount:
        if exact:
            body = messages_request(ProviderRequest(model, messages, _NO_PARAMS), stream=False)
            body.pop("max_tokens")
            try:
                counted = await self._client.messages.count_tokens(**body)
                return TokenCount(counted.input_tokens)
            except anthropic.APIError:
                pass  # the estimate below is still useful
        estimate = tokens.count_chat(messages, tokens.encoding("cl100k_base")) * ESTIMATE_FACTOR
        return TokenCount(math.ceil(estimate), estimated=True)

    async def generate(self, request: ProviderRequest) -> Completion:
        try:
            message = await self._client.messages.create(
                **messages_request(request, stream=False), timeout=request.timeout
            )
        except anthropic.APIError as exc:
            raise self._error(exc) from None
        u = message.usage
        usage = usage_from(u.input_tokens, u.cache_read_input_tokens, u.cache_creation_input_tokens, u.output_tokens)
        return Completion(
            text_of(message.content), STOP_REASONS.get(message.stop_reason or "", FinishReason.UNSPECIFIED), usage,
            message.model,
        )  # fmt: skip

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        try:
            events = await self._client.messages.create(
                **messages_request(request, stream=True), timeout=request.timeout
            )
        except anthropic.APIError as exc:
            raise self._error(exc) from None
        start_usage: Any = None
        output_tokens = 0
        stop_reason: str | None = None
        finished = False
        model = request.model
        try:
            async for event in events:
                if event.type == "message_start":
                    start_usage, model = event.message.usage, event.message.model or model
                    output_tokens = start_usage.output_tokens or 0
                elif event.type == "content_block_delta":
                    text = getattr(event.delta, "text", None) or getattr(event.delta, "partial_json", None)
                    if text:
                        yield TextDelta(text)
                elif event.type == "message_delta":
                    stop_reason = event.delta.stop_reason or stop_reason
                    output_tokens = event.usage.output_tokens or output_tokens
                elif event.type == "message_stop":
                    finished = True
        except anthropic.APIStatusError as exc:
            raise self._error(exc) from None
        except (anthropic.APITimeoutError, httpx2.TimeoutException) as exc:  # the SDK leaves these unwrapped here
            raise transport_error(self.name, ProviderErrorKind.TIMEOUT, "stream stalled", exc) from None
        except Exception as exc:  # a cut connection or an undecodable event
            raise transport_error(self.name, ProviderErrorKind.MALFORMED_RESPONSE, "stream broke", exc) from None
        finally:
            await events.close()
        if not finished or start_usage is None:
            raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, f"{self.name}: stream ended before message_stop")
        usage = usage_from(
            start_usage.input_tokens, start_usage.cache_read_input_tokens, start_usage.cache_creation_input_tokens,
            output_tokens,
        )  # fmt: skip
        yield Completion("", STOP_REASONS.get(stop_reason or "", FinishReason.UNSPECIFIED), usage, model)

    def _error(self, exc: anthropic.APIError) -> ProviderError:
        if isinstance(exc, anthropic.APIStatusError):
            body = exc.body if isinstance(exc.body, dict) else {}
            error = body.get("error") if isinstance(body.get("error"), dict) else {}
            code = error.get("type")
            message = str(error.get("message") or exc.message)
            if exc.status_code in (400, 413) and any(marker in message.lower() for marker in _TOO_LONG):
                code = "context_length_exceeded"
            return status_error(self.name, exc.status_code, code, message, exc.response.headers)
        if isinstance(exc, anthropic.APITimeoutError):
            return transport_error(self.name, ProviderErrorKind.TIMEOUT, "request timed out", exc)
        if isinstance(exc, anthropic.APIConnectionError):
            return transport_error(self.name, ProviderErrorKind.UNAVAILABLE, "connection failed", exc)
        return transport_error(self.name, ProviderErrorKind.MALFORMED_RESPONSE, "unexpected response", exc)


_NO_PARAMS = SamplingParams()
