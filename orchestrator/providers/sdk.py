"""`transport: sdk`: the vendors' official clients (openai, anthropic), for operators who want them.

We call the SDK's `post` (its documented way to reach an endpoint with a body it need not model) with the same wire
JSON the native transport sends, and read the JSON as it came: the SDK owns the connection pool, auth, timeouts,
SSE decoding and its error types; we skip its per-call parameter transform and response models. The router owns
retries, so the SDK makes exactly one request per call. Which SDK serves an API is a table (SDKS).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.config import ProviderSettings
from orchestrator.providers.base import ProviderError, WireApi
from orchestrator.providers.errors import mapped_errors

# Keep-alive connections an SDK pool holds (the SDKs' default); `max_connections` bounds them all.
KEEPALIVE_CONNECTIONS = 100


@dataclass(frozen=True, slots=True)
class Sdk:
    """One vendor SDK: its client, the options a post needs, and its exception types."""

    client: Any
    options: dict[str, Any]
    status_errors: tuple[type[Exception], ...]
    timeouts: tuple[type[BaseException], ...]
    connection_errors: tuple[type[BaseException], ...]
    stream_cls: Any


def _openai(settings: ProviderSettings, key: str | None) -> Sdk:
    import httpx2
    import openai

    client = openai.AsyncOpenAI(
        api_key=key or "not-needed",  # the SDK insists on a key; self-hosted servers usually ignore it
        base_url=settings.base_url,
        max_retries=0,
        timeout=settings.timeout_seconds,
        http_client=openai.DefaultAsyncHttpxClient(limits=_limits(httpx2, settings)),
    )
    return Sdk(
        client, {"security": {"bearer_auth": True}}, (openai.APIStatusError,), (openai.APITimeoutError,),
        (openai.APIConnectionError,), openai.AsyncStream[object],
    )  # fmt: skip


def _anthropic(settings: ProviderSettings, key: str | None) -> Sdk:
    import anthropic
    import httpx2

    client = anthropic.AsyncAnthropic(
        api_key=key,
        base_url=settings.base_url,
        max_retries=0,
        timeout=settings.timeout_seconds,
        http_client=anthropic.DefaultAsyncHttpxClient(limits=_limits(httpx2, settings)),
    )
    # The SDK leaves httpx2's timeouts unwrapped while a stream is read.
    return Sdk(
        client, {}, (anthropic.APIStatusError,), (anthropic.APITimeoutError, httpx2.TimeoutException),
        (anthropic.APIConnectionError,), anthropic.AsyncStream[object],
    )  # fmt: skip


def _limits(httpx: Any, settings: ProviderSettings) -> Any:
    keepalive = min(settings.max_connections, KEEPALIVE_CONNECTIONS)
    return httpx.Limits(max_connections=settings.max_connections, max_keepalive_connections=keepalive)


SDKS: dict[str, Callable[[ProviderSettings, str | None], Sdk]] = {"openai": _openai, "anthropic": _anthropic}


class SdkTransport:
    def __init__(self, provider: str, settings: ProviderSettings, api: WireApi, key: str | None) -> None:
        self._provider = provider
        self._api = api
        self._sdk = SDKS[api.name](settings, key)

    async def start(self) -> None:
        pass  # the SDK opens its pool on first use

    async def aclose(self) -> None:
        await self._sdk.client.close()

    async def _post(self, path: str, body: dict[str, Any], timeout: float | None, stream: bool) -> Any:
        with self.mapped_errors("request"):
            return await self._sdk.client.post(
                path,
                body=body,
                cast_to=object,  # the JSON as it came: dicts, converted by the adapters' pure functions
                options={"timeout": timeout, **self._sdk.options},
                stream=stream,
                stream_cls=self._sdk.stream_cls,
            )

    async def post(self, path: str, body: dict[str, Any], timeout: float | None) -> Any:
        return await self._post(path, body, timeout, stream=False)

    async def stream(self, path: str, body: dict[str, Any], timeout: float | None) -> SdkStream:
        return SdkStream(self, await self._post(path, body, timeout, stream=True))

    def mapped_errors(self, stage: str) -> contextlib.AbstractContextManager[None]:
        sdk = self._sdk
        return mapped_errors(
            self._provider, stage, timeouts=sdk.timeouts, connection_errors=sdk.connection_errors,
            status_errors=sdk.status_errors, from_status=self._status_error,
        )  # fmt: skip

    def _status_error(self, exc: Exception) -> ProviderError:
        status, body, message = exc.status_code, exc.body, exc.message  # type: ignore[attr-defined]
        return self._api.status_error(self._provider, status, body, exc.response.headers, message)  # type: ignore[attr-defined]


class SdkStream:
    """The SDK's stream of decoded events, its failures mapped; closing it closes the SDK's response."""

    def __init__(self, transport: SdkTransport, chunks: Any) -> None:
        self._transport = transport
        self._chunks = chunks
        self._events = self._read()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._events

    async def _read(self) -> AsyncIterator[Any]:
        with self._transport.mapped_errors("stream"):
            async for chunk in self._chunks:
                yield chunk

    async def aclose(self) -> None:
        try:
            await self._events.aclose()
        finally:
            await self._chunks.close()
