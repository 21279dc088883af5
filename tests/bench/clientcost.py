"""What the upstream HTTP client costs per call, measured as this process's CPU time against the 0 ms fake.

The orchestrator's provider calls the fake through the `openai` SDK (`post()` of the wire JSON, answers as plain
dicts; before commit 1918b1a through the typed `chat.completions.create()`); the direct baseline uses raw httpx2.
Sequential calls (c=1), variants interleaved: the differences are client-side CPU per call (and per chunk).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx2
import openai
from openai import AsyncStream

from tests.bench.procs import MODEL
from tests.bench.stats import median


async def _measure(base_url: str, messages: list[dict[str, str]], calls: int, streams: int, rounds: int) -> Any:
    body: dict[str, Any] = {"model": MODEL, "messages": messages, "max_tokens": 256}
    stream_body = {**body, "stream": True, "stream_options": {"include_usage": True}}
    payload, stream_payload = json.dumps(body).encode(), json.dumps(stream_body).encode()
    headers = {"content-type": "application/json"}
    url = f"{base_url}/chat/completions"
    sdk = openai.AsyncOpenAI(api_key="not-needed", base_url=base_url, max_retries=0)
    raw = httpx2.AsyncClient()

    async def sdk_create() -> int:  # the typed call (OpenAIChatProvider before 1918b1a)
        return len((await sdk.chat.completions.create(**body)).choices[0].message.content or "")

    async def sdk_post() -> int:  # OpenAIChatProvider.generate now: post() the wire JSON, read plain dicts
        answer: Any = await sdk.post("/chat/completions", body=body, cast_to=object)
        return len(answer["choices"][0]["message"]["content"])

    async def raw_httpx2() -> int:  # the bench's direct baseline
        response = await raw.post(url, content=payload, headers=headers)
        return len(json.loads(response.content)["choices"][0]["message"]["content"])

    async def sdk_stream() -> int:  # the typed call (OpenAIChatProvider.stream before 1918b1a)
        chunks = 0
        async for chunk in await sdk.chat.completions.create(**stream_body):
            chunks += bool(chunk.choices and chunk.choices[0].delta.content)
        return chunks

    async def sdk_post_stream() -> int:  # OpenAIChatProvider.stream now: AsyncStream[object] of plain dicts
        chunks = 0
        events: Any = await sdk.post(
            "/chat/completions", body=stream_body, cast_to=object, stream=True, stream_cls=AsyncStream[object]
        )
        async for chunk in events:
            choices = chunk.get("choices")
            chunks += bool(choices and choices[0]["delta"].get("content"))
        return chunks

    async def raw_stream() -> int:
        chunks = 0
        async with raw.stream("POST", url, content=stream_payload, headers=headers) as response:
            async for line in response.aiter_lines():
                if line.startswith("data: ") and line != "data: [DONE]":
                    choices = json.loads(line[6:])["choices"]
                    chunks += bool(choices and choices[0]["delta"].get("content"))
        return chunks

    variants: dict[str, tuple[Callable[[], Awaitable[int]], int]] = {
        "unary_openai_sdk_create": (sdk_create, calls),
        "unary_openai_sdk_post": (sdk_post, calls),
        "unary_raw_httpx2": (raw_httpx2, calls),
        "stream_openai_sdk_create": (sdk_stream, streams),
        "stream_openai_sdk_post": (sdk_post_stream, streams),
        "stream_raw_httpx2": (raw_stream, streams),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    deltas: dict[str, int] = {}
    try:
        for call, _ in variants.values():
            for _ in range(50):
                await call()
        for r in range(rounds):
            for name in variants if r % 2 == 0 else reversed(list(variants)):
                call, n = variants[name]
                cpu = time.process_time()
                for _ in range(n):
                    deltas[name] = await call()
                samples[name].append((time.process_time() - cpu) / n * 1e6)
    finally:
        await sdk.close()
        await raw.aclose()
    out: dict[str, Any] = {name: {"cpu_us_per_call": median(v)} for name, v in samples.items()}
    for name in ("stream_openai_sdk_create", "stream_openai_sdk_post", "stream_raw_httpx2"):
        out[name]["deltas"] = deltas.get(name, 0)

    def cpu(name: str) -> float:
        return float(out[name]["cpu_us_per_call"])

    out["sdk_create_minus_post_us_per_call"] = cpu("unary_openai_sdk_create") - cpu("unary_openai_sdk_post")
    out["sdk_post_minus_raw_us_per_call"] = cpu("unary_openai_sdk_post") - cpu("unary_raw_httpx2")
    chunks = max(out["stream_raw_httpx2"]["deltas"], 1)
    out["sdk_create_minus_post_us_per_chunk"] = (
        cpu("stream_openai_sdk_create") - cpu("stream_openai_sdk_post")
    ) / chunks
    out["sdk_post_minus_raw_us_per_chunk"] = (cpu("stream_openai_sdk_post") - cpu("stream_raw_httpx2")) / chunks
    return out


def run(base_url: str, messages: list[dict[str, str]], calls: int, streams: int, rounds: int) -> dict[str, Any]:
    return asyncio.run(_measure(base_url, messages, calls, streams, rounds))
