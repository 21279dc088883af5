"""OpenAI Chat Completions, for `openai` and for `openai_compatible` endpoints (vLLM, Ollama, llama.cpp).

The two types share this wire code; what differs is data (`OpenAIDialect`). Request and response
conversion are pure functions on the wire JSON, used by both the unary and the streaming path.

We call the SDK's `post` (its documented way to reach an endpoint with a body it need not model)
rather than `chat.completions.create`: the SDK still owns the connection pool, auth, timeouts, SSE
decoding and error types, but we skip its per-call TypedDict transform of the parameters and the
pydantic model of the answer, which the benchmark profile showed cost ~40% of our CPU per request.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai
from openai import AsyncStream

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, FinishReason, TextDelta, TokenCount, TokenUsage
from orchestrator.errors import ConfigError
from orchestrator.providers import tokens
from orchestrator.providers.base import Completion, ProviderError, ProviderErrorKind, ProviderRequest, StreamEvent
from orchestrator.providers.errors import mapped_errors, status_error
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
    # The SDK insists on a key; self-hosted servers usually ignore it.
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


class OpenAIChatProvider:
    def __init__(self, name: str, settings: ProviderSettings, dialect: OpenAIDialect) -> None:
        self.name = name
        self._dialect = dialect
        key = settings.api_key.get_secret_value() if settings.api_key else None
        if key is None and not dialect.key_optional:
            raise ConfigError(f"providers.{name}.api_key: required (or set OPENAI_API_KEY)")
        SECRETS.add(key)
        # Created once and reused; the router owns retries, so the SDK makes exactly one request per call.
        self._client = openai.AsyncOpenAI(
            api_key=key or "not-needed",
            base_url=settings.base_url,
            max_retries=0,
            timeout=settings.timeout_seconds,
        )

    async def start(self) -> None:
        # Load the tokenizer now (~0.2 s) rather than on the first request that needs a count.
        await asyncio.to_thread(tokens.encoding, tokens.DEFAULT_ENCODING)

    async def aclose(self) -> None:
        await self._client.close()

    async def count_tokens(self, model: str, messages: tuple[ChatMessage, ...], exact: bool = False) -> TokenCount:
        return TokenCount(
            tokens.count_chat(messages, tokens.encoding_for_model(model)), estimated=not self._dialect.exact_tokenizer
        )

    def _estimate(self, request: ProviderRequest, text: str) -> TokenUsage:
        enc = tokens.encoding_for_model(request.model)
        return TokenUsage(tokens.count_chat(request.messages, enc), tokens.count_text(text, enc), estimated=True)

    async def _post(self, request: ProviderRequest, stream: bool) -> Any:
        with self._mapped_errors("request"):
            return await self._client.post(
                "/chat/completions",
                body=chat_request(request, self._dialect, stream),
                cast_to=object,  # the JSON as it came: dicts, converted by the pure functions above
                options={"timeout": request.timeout, "security": {"bearer_auth": True}},
                stream=stream,
                stream_cls=AsyncStream[object],
            )

    async def generate(self, request: ProviderRequest) -> Completion:
        response = await self._post(request, stream=False)
        choices = response.get("choices") if isinstance(response, dict) else None
        if not choices:
            raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, f"{self.name}: answer without choices")
        choice = choices[0]
        text = (choice.get("message") or {}).get("content") or ""
        usage = usage_from(response.get("usage")) or self._estimate(request, text)
        return Completion(text, finish_reason(choice.get("finish_reason")), usage, response.get("model") or "")

    async def stream(self, request: ProviderRequest) -> AsyncIterator[StreamEvent]:
        chunks = await self._post(request, stream=True)
        parts: list[str] = []
        usage: TokenUsage | None = None
        reason: str | None = None
        model = request.model
        try:
            with self._mapped_errors("stream"):
                async for chunk in chunks:
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
            # Closing at once matters when our caller went away: it releases the upstream connection.
            await chunks.close()
        if reason is None:
            raise ProviderError(
                ProviderErrorKind.MALFORMED_RESPONSE, f"{self.name}: stream ended without a finish reason"
            )
        yield Completion("", finish_reason(reason), usage or self._estimate(request, "".join(parts)), model)

    def _mapped_errors(self, stage: str) -> contextlib.AbstractContextManager[None]:
        return mapped_errors(
            self.name, stage, openai.APIStatusError, self._status_error, (openai.APITimeoutError,),
            (openai.APIConnectionError,),
        )  # fmt: skip

    def _status_error(self, exc: Exception) -> ProviderError:
        assert isinstance(exc, openai.APIStatusError)
        body = exc.body if isinstance(exc.body, dict) else {}
        error = body.get("error", body) if isinstance(body.get("error", body), dict) else {}
        code = error.get("code") or error.get("type")
        message = str(error.get("message") or exc.message)
        return status_error(self.name, exc.status_code, code, message, exc.response.headers)
