"""The load generator's aiohttp client for OpenAI-format HTTP targets: the peer gateways and the fake called directly.

One pooled session for every HTTP target (keep-alive, no per-call connection set-up), the request body encoded once,
answers parsed with `json.loads` and nothing else: as cheap per call as a Python HTTP client gets, so a gateway
speaking HTTP/JSON is driven by a client that costs about what the gRPC client costs the orchestrator (the loadgen's
CPU per call is measured for every target and reported beside the servers').

A target: `{"kind": "aiohttp", "url": ".../v1/chat/completions", "headers": {...}}` (headers: a peer's own, e.g.
Portkey's `x-portkey-provider` / `x-portkey-custom-host`, LiteLLM's master key).
"""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

_JSON = {"content-type": "application/json"}


class AiohttpTargets:
    def __init__(self, timeout: float) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None:  # created inside the running loop
            connector = aiohttp.TCPConnector(limit=2000, limit_per_host=2000, ttl_dns_cache=None)
            self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def unary(self, target: dict[str, Any], body: bytes) -> None:
        headers = {**_JSON, **target.get("headers", {})}
        async with self.session().post(target["url"], data=body, headers=headers) as response:
            payload = await response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {payload[:200]!r}")
        if not json.loads(payload)["choices"][0]["message"]["content"]:
            raise RuntimeError("empty answer")

    async def stream(self, target: dict[str, Any], body: bytes) -> tuple[int, list[int], bool, int]:
        """One SSE answer: (headers-received time, content-delta times, [DONE] seen, completion tokens)."""
        headers = {**_JSON, **target.get("headers", {})}
        times: list[int] = []
        done = False
        output_tokens = 0
        async with self.session().post(target["url"], data=body, headers=headers) as response:
            start_at = time.perf_counter_ns()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {(await response.read())[:200]!r}")
            async for raw in response.content:
                if not raw.startswith(b"data:"):
                    continue
                data = raw[5:].strip()
                if data == b"[DONE]":
                    done = True
                    break
                chunk = json.loads(data)
                if chunk.get("usage"):
                    output_tokens = chunk["usage"].get("completion_tokens", 0)
                choices = chunk.get("choices")
                if choices and (choices[0].get("delta") or {}).get("content"):
                    times.append(time.perf_counter_ns())
        return start_at, times, done, output_tokens
