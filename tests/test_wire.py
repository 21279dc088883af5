"""The native transport's own parts: SSE read from bytes however they arrive, URLs joined as the SDKs join them,
proxies from the environment, one pooled session per provider bounded by max_connections."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import openai
import pytest

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, SamplingParams
from orchestrator.providers import create_provider
from orchestrator.providers.base import ProviderRequest
from orchestrator.providers.wire.http import env_proxy, join_url
from orchestrator.providers.wire.sse import sse_events
from tests.fakes import Behaviour, FakeUpstream

STREAM = (
    b": a comment\n"
    b"event: message_start\n"
    b'data: {"type": "message_start"}\n'
    b"\n"
    b"event: ping\r\n"
    b"data:{}\r\n"
    b"\r\n"
    b"id: 7\n"
    b"data: first line\n"
    b"data: second line\n"
    b"retry: 10\n"
    b"\n"
    b"\n"  # a blank line with no event pending dispatches nothing
    b"data: [DONE]\n"
    b"\n"
    b"data: cut off before its blank line\n"
)
EVENTS = [
    (b"message_start", b'{"type": "message_start"}'),
    (b"ping", b"{}"),
    (None, b"first line\nsecond line"),
    (None, b"[DONE]"),
]


async def parse(chunks: list[bytes]) -> list[tuple[bytes | None, bytes]]:
    pending = iter([*chunks, b""])

    async def read() -> bytes:
        return next(pending)

    return [event async for event in sse_events(read)]


def splits(data: bytes) -> Iterator[list[bytes]]:
    yield [data]
    yield [data[i : i + 1] for i in range(len(data))]
    for cut in range(1, len(data)):
        yield [data[:cut], data[cut:]]


async def test_sse_events_are_the_same_however_the_bytes_are_split() -> None:
    for chunks in splits(STREAM):
        assert await parse(chunks) == EVENTS, chunks


BASES = ["http://h:8/v1", "http://h:8/v1/", "http://h:8", "http://h:8/", "https://h/a/b", "https://h/a/b/"]
PATHS = ["/chat/completions", "chat/completions", "/v1/messages", "/v1/messages/count_tokens"]


@pytest.mark.parametrize("base_url", BASES)
async def test_urls_are_joined_as_the_sdk_joins_them(base_url: str) -> None:
    sdk = openai.AsyncOpenAI(api_key="k", base_url=base_url)
    try:
        for path in PATHS:
            assert str(join_url(base_url, path)) == str(sdk._prepare_url(path)), path
    finally:
        await sdk.close()


def test_proxies_come_from_the_environment_unless_no_proxy_covers_the_host(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    assert env_proxy(join_url("https://api.openai.com/v1", "")) is None

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "vllm.llm.svc")

    assert env_proxy(join_url("https://api.openai.com/v1", "")) == "http://proxy.internal:3128"
    assert env_proxy(join_url("https://vllm.llm.svc/v1", "")) is None
    assert env_proxy(join_url("http://api.openai.com/v1", "")) is None  # no proxy named for plain http


def provider_for(fake: FakeUpstream, **settings: object):  # type: ignore[no-untyped-def]
    spec = ProviderSettings(type="openai_compatible", base_url=f"{fake.base_url}/v1", **settings)  # type: ignore[arg-type]
    return create_provider("upstream", spec)


REQUEST = ProviderRequest("m", (ChatMessage("user", "hi"),), SamplingParams(max_output_tokens=8), 10.0)


async def test_calls_reuse_one_pooled_connection_and_a_stream_left_early_is_not_reused() -> None:
    async with FakeUpstream() as fake:
        provider = provider_for(fake)
        await provider.start()
        for _ in range(3):
            await provider.generate(REQUEST)
            _ = [event async for event in provider.stream(REQUEST)]  # read to its end: back to the pool
        assert fake.connections_total == 1

        fake.enqueue(Behaviour(text="a b c d", stall_after=2))
        stream = provider.stream(REQUEST)
        await anext(stream)
        await stream.aclose()
        await fake.wait_for_disconnects(1)
        await provider.generate(REQUEST)
        await provider.aclose()

    assert fake.connections_total == 2


async def test_max_connections_bounds_the_connections_open_at_once() -> None:
    async with FakeUpstream() as fake:
        provider = provider_for(fake, max_connections=2)
        fake.hold()
        calls = [asyncio.create_task(provider.generate(REQUEST)) for _ in range(5)]
        await fake.wait_for_requests(2)
        fake.release()
        answers = await asyncio.gather(*calls)
        await provider.aclose()

    assert [a.text for a in answers] == ["Hello! You said: hi"] * 5
    assert fake.connections_total == 2  # the other three calls waited for one of the two
