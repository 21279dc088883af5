"""One pooled aiohttp session per provider: posts the wire JSON, reads JSON answers and SSE streams back.

Mirrors what the vendor SDKs do with the same settings, so `transport: native` and `transport: sdk` cannot be told
apart by results (tests/provider_conformance runs against both):
- URLs: the base URL gets a trailing slash and the path is joined under it (".../v1" + "/chat/completions" is
  ".../v1/chat/completions"), the SDKs' `_prepare_url`; without a base_url, the SDK's environment variable, else
  the API's default.
- Errors: the same classification (orchestrator/providers/errors.py), mapped in one place for the request and
  for every read of a stream, like httpx's map_httpcore_exceptions; messages never carry the key.
- Timeouts: a unary call's `timeout` bounds all of it (connect, send, answer). A stream must get its connection
  within `timeout` and then wait at most `timeout` for each read, the SDKs' per-read timeout (the caller's
  deadline ends the whole stream by cancelling it, and the router times each event with its idle timeout).
- Proxies: HTTP(S)_PROXY / ALL_PROXY / NO_PROXY from the environment, like httpx's trust_env, but looked up once.
- TLS: the system's trust store, SSL_CERT_FILE / SSL_CERT_DIR honoured (what httpcore2 uses by default).
Unlike the SDKs, it keeps no cookies and retries nothing (the router owns retries).
"""

from __future__ import annotations

import contextlib
import json
import os
import urllib.request
from collections.abc import AsyncIterator, Mapping
from typing import Any

import aiohttp
from yarl import URL

from orchestrator.config import ProviderSettings
from orchestrator.providers.base import ProviderError, WireApi
from orchestrator.providers.errors import mapped_errors
from orchestrator.providers.wire.sse import sse_events

USER_AGENT = "llm-orchestrator"
# Idle pooled connections are closed after this: under the 5 s after which uvicorn (vLLM, many self-hosted servers)
# closes them, so a request never goes out on a connection the server is closing.
KEEPALIVE_SECONDS = 4.0
_DONE = b"[DONE]"  # OpenAI's last event
_PING = b"ping"  # Anthropic's keep-alive event
# A connection that fails, or a body that ends early: unavailable before the answer began, a cut answer after.
_CONNECTION_ERRORS = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError)


def wire_errors(provider: str, stage: str) -> contextlib.AbstractContextManager[None]:
    """aiohttp's failures as ProviderErrors (its timeouts are TimeoutErrors); HTTP errors are raised as such."""
    return mapped_errors(provider, stage, connection_errors=_CONNECTION_ERRORS)


def join_url(base_url: str, path: str) -> URL:
    """The SDKs' join: the path goes under the base URL's path, whatever slashes either has."""
    return URL(base_url if base_url.endswith("/") else base_url + "/").join(URL(path.lstrip("/")))


def env_proxy(url: URL) -> str | None:
    """The proxy the environment names for `url` (None when NO_PROXY covers it or none is set)."""
    if url.host is None or urllib.request.proxy_bypass(url.host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(url.scheme) or proxies.get("all")


class WireClient:
    """The native transport of one provider (see the module docstring). Start (or first use) on the serving loop."""

    def __init__(self, provider: str, settings: ProviderSettings, api: WireApi, key: str | None) -> None:
        self._provider = provider
        self._api = api
        self._base_url = settings.base_url or os.environ.get(api.base_url_env) or api.default_base_url
        self._timeout = settings.timeout_seconds
        self._max_connections = settings.max_connections
        self._headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
        self._headers |= api.auth_headers(key)
        self._urls: dict[str, URL] = {}
        self._proxy = env_proxy(join_url(self._base_url, ""))
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._open()

    async def aclose(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=0, keepalive_timeout=KEEPALIVE_SECONDS
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=self._headers,
                timeout=aiohttp.ClientTimeout(total=None),  # every request passes its own
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    def _url(self, path: str) -> URL:
        url = self._urls.get(path)
        if url is None:
            url = self._urls[path] = join_url(self._base_url, path)
        return url

    async def post(self, path: str, body: dict[str, Any], timeout: float | None) -> Any:
        session = self._session or self._open()
        limit = aiohttp.ClientTimeout(total=timeout or self._timeout)
        with wire_errors(self._provider, "request"):
            async with session.post(
                self._url(path), data=json.dumps(body).encode(), proxy=self._proxy, timeout=limit
            ) as response:
                payload = await response.read()
                if response.status >= 400:
                    raise self._status_error(response.status, payload, response.headers)
                return json.loads(payload)

    async def stream(self, path: str, body: dict[str, Any], timeout: float | None) -> SseStream:
        session = self._session or self._open()
        seconds = timeout or self._timeout
        limit = aiohttp.ClientTimeout(total=None, connect=seconds, sock_read=seconds)
        with wire_errors(self._provider, "request"):
            response = await session.post(
                self._url(path), data=json.dumps(body).encode(), proxy=self._proxy, timeout=limit
            )
            if response.status >= 400:
                try:
                    payload = await response.read()
                finally:
                    response.close()
                raise self._status_error(response.status, payload, response.headers)
        return SseStream(self._provider, response)

    def _status_error(self, status: int, payload: bytes, headers: Mapping[str, str]) -> ProviderError:
        """The SDKs' reading of an error answer: its JSON when it parses, else its text."""
        text = payload.decode("utf-8", "replace").strip()
        body: Any
        try:
            body = json.loads(text)
            fallback = f"Error code: {status} - {body}"
        except ValueError:
            body, fallback = text, text or f"Error code: {status}"
        return self._api.status_error(self._provider, status, body, headers, fallback)


class SseStream:
    """An SSE answer: its events' JSON in order (OpenAI's `[DONE]` ends it, Anthropic's pings are skipped)."""

    __slots__ = ("_events", "_provider", "_response")

    def __init__(self, provider: str, response: aiohttp.ClientResponse) -> None:
        self._provider = provider
        self._response = response
        self._events = self._read()

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._events

    async def _read(self) -> AsyncIterator[Any]:
        content = self._response.content
        done = False
        with wire_errors(self._provider, "stream"):
            async with contextlib.aclosing(sse_events(content.readany)) as events:
                async for event, data in events:
                    if done or event == _PING:
                        continue  # after [DONE], the rest is read (and ignored) so the connection can be reused
                    if data == _DONE:
                        done = True
                        continue
                    yield json.loads(data)

    async def aclose(self) -> None:
        """Read to its end, the connection goes back to the pool; otherwise it is closed at once (never reused
        mid-body), which the upstream sees as the caller going away."""
        try:
            await self._events.aclose()
        finally:
            if self._response.content.is_eof():
                self._response.release()
            else:
                self._response.close()
