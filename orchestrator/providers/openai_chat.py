"""OpenAI Chat Completions, for `openai` and for `openai_compatible` endpoints (vLLM, Ollama, llama.cpp).

The two types share this wire code; what differs is data (`OpenAIDialect`). Request and response
conversion are pure functions on the wire JSON, used by both the unary and the streaming path, whichever
transport posts it (`transport: native`, our aiohttp client, or `sdk`, the openai SDK: providers/transports.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, FinishReason, TextDelta, TokenCount, TokenUsage
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

FINISH_REASONS = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "content_filter": FinishReason.CONTENT_FILTER,
    "tool_calls": FinishReason.STOP,
    "function_call": FinishReason.STOP,
}


@dataclass(frozen=True, slots=True)
class OpenAIDialect:
    max_tokens_field: str
    # response_format json_schema (structured outputs) is understood.
    native_json_schema: bool
    # tiktoken is the models' real tokenizer (not true of self-hosted models).
    exact_tokenizer: bool
    # Self-hosted servers usually need no key.
    key_optional: bool


OPENAI = OpenAIDialect("max_completion_tokens", native_json_schema=True, exact_tokenizer=True, key_optional=False)
COMPATIBLE = OpenAIDialect("max_tokens", native_json_schema=False, exact_tokenizer=False, key_optional=True)


def chat_request(request: ProviderRequest, dialect: OpenAIDialect, stream: bool) -> dict[str, Any]:
    """The Chat Completions body for one call (pure)."""
    params = request.params
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
    }
    if params.max_output_tokens is not None:
        body[dialect.max_tokens_field] = params.max_output_tokens
    if params.temperature is not None:
        body["temperature"] = params.temperature
    if params.top_p is not None:
        body["top_p"] = params.top_p
    if params.stop:
        body["stop"] = list(params.stop)
    if request.json_schema is not None and dialect.native_json_schema:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "response", "schema": request.json_schema, "strict": False},
        }
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def usage_from(raw: dict[str, Any] | None) -> TokenUsage | None:
    """Usage as reported, or None when the endpoint sent none."""
    if not raw:
        return None
    cached = (raw.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
    return TokenUsage(raw.get("prompt_tokens") or 0, raw.get("completion_tokens") or 0, cached)


def finish_reason(value: str | None) -> FinishReason:
    return FINISH_REASONS.get(value or "", FinishReason.UNSPECIFIED)


def error_from(provider: str, status: int, body: Any, headers: Mapping[str, str], fallback: str) -> ProviderError:
    """An error answer (`{"error": {...}}`, or the inner object as the SDK keeps it) classified (pure)."""
    inner = body.get("error", body) if isinstance(body, dict) else None
    error = inner if isinstance(inner, dict) else {}
    code = error.get("code") or error.get("type")
    return status_error(provider, status, code, str(error.get("message") or fallback), headers)


def _auth_headers(key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"} if key else {}


WIRE = WireApi("openai", "https://api.openai.com/v1", "OPENAI_BASE_URL", _auth_headers, error_from)


class OpenAIChatProvider:
    def __init__(self, name: str, settings: ProviderSettings, dialect: OpenAIDialect) -> None:
        self.name = name
        self._dialect = dialect
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key is None and not dialect.key_optional:
            raise ConfigError(f"providers.{name}.api_key: required (or set OPENAI_API_KEY)")
        SECRETS.add(key)
        self._transport = create_transport(name, settings, WIRE, key)

    async def start(self) -> None:
        # Load the tokenizer now (~0.2 s) rather than on the first request that needs a count.
        await asyncio.to_thread(tokens.encoding, tokens.DEFAULT_ENCODING)
        await self._transport.start()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def count_tokens(self, model: str, messages: tuple[ChatMessage, ...], exact: bool = False) -> TokenCount:
        return TokenCount(
            tokens.count_chat(messages, tokens.encoding_for_model(model)), estimated=not self._dialect.exact_tokenizer
        )

    def _estimate(self, request: ProviderRequest, text: str) -> TokenUsage:
        enc = tokens.encoding_for_model(request.model)
        return TokenUsage(tokens.count_chat(request.messages, enc), tokens.count_text(text, enc), estimated=True)

    async def generate(self, request: ProviderRequest) -> Completion:
        body = chat_request(request, self._dialect, stream=False)
        response = await self._transport.post("/chat/completions", body, request.timeout)
        choices = response.get("choices") if isinstance(response, dict) else None
        if not choices:
            raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, f"{self.name}: answer without choices")
        choice = choices[0]
        text = (choice.get("message") or {}).get("content") or ""
        usage = usage_from(response.get("usage")) or self._estimate(request, text)
        return Completion(text, finish_reason(choice.get("finish_reason")), usage, response.get("model") or "")

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        body = chat_request(request, self._dialect, stream=True)
        chunks = await self._transport.stream("/chat/completions", body, request.timeout)
        parts: list[str] = []
        usage: TokenUsage | None = None
        reason: str | None = None
        model = request.model
        try:
            async for chunk in chunks:
                if not isinstance(chunk, dict) or chunk.get("error"):
                    # The SDK raises a plain APIError for an error event: a broken answer, like ours.
                    raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, f"{self.name}: error event in the stream")
                model = chunk.get("model") or model
                if chunk.get("usage"):
                    usage = usage_from(chunk["usage"])
                for choice in chunk.get("choices") or ():
                    if choice.get("finish_reason"):
                        reason = choice["finish_reason"]
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        parts.append(content)
                        yield TextDelta(content)
        finally:
            # Closing at once matters when our caller went away: it drops the upstream connection.
            await chunks.aclose()
        if reason is None:
            raise ProviderError(
                ProviderErrorKind.MALFORMED_RESPONSE, f"{self.name}: stream ended without a finish reason"
            )
        yield Completion("", finish_reason(reason), usage or self._estimate(request, "".join(parts)), model)
