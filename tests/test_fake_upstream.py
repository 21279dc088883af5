"""The fake upstream, exercised with the real `openai` and `anthropic` SDKs: if they parse it, adapters can trust it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest
import pytest_asyncio

from tests.fakes import Behaviour, FakeUpstream

ROOT = Path(__file__).resolve().parent.parent
USER = [{"role": "user", "content": "ping me back"}]
CONTEXT = "context_length_exceeded"

pytestmark = pytest.mark.timeout(30)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream(seed=1234) as server:
        yield server
        assert server.server_errors == []


@pytest_asyncio.fixture
async def oa(fake: FakeUpstream) -> AsyncIterator[openai.AsyncOpenAI]:
    client = openai.AsyncOpenAI(base_url=f"{fake.base_url}/v1", api_key="sk-test", max_retries=0)
    yield client
    await client.close()


@pytest_asyncio.fixture
async def an(fake: FakeUpstream) -> AsyncIterator[anthropic.AsyncAnthropic]:
    client = anthropic.AsyncAnthropic(base_url=fake.base_url, api_key="ak-test", max_retries=0)
    yield client
    await client.close()


async def _oa_call(oa: openai.AsyncOpenAI, **kwargs: Any) -> Any:
    return await oa.chat.completions.create(model=kwargs.pop("model", "gpt-test"), messages=USER, **kwargs)


async def _an_call(an: anthropic.AsyncAnthropic, **kwargs: Any) -> Any:
    return await an.messages.create(model=kwargs.pop("model", "claude-test"), max_tokens=64, messages=USER, **kwargs)


# -- OpenAI ------------------------------------------------------------------------------------------------------------


async def test_openai_unary_echoes_the_prompt_with_usage(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(cached_tokens=2, finish_reason="max_tokens"))
    result = await _oa_call(oa)
    assert result.choices[0].message.content == "Hello! You said: ping me back"
    assert result.choices[0].finish_reason == "length"  # Anthropic's vocabulary is translated
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (6, 6, 12)
    assert result.usage.prompt_tokens_details is not None
    assert result.usage.prompt_tokens_details.cached_tokens == 2


async def test_openai_stream_with_include_usage(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(text="one two three", prompt_tokens=11))
    stream = await _oa_call(oa, stream=True, stream_options={"include_usage": True})
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    deltas = [c.choices[0].delta.content for c in chunks[1:] if c.choices and c.choices[0].delta.content]
    assert deltas == ["one ", "two ", "three"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (11, 3)
    assert fake.requests[-1].stream is True
    assert fake.requests[-1].body["stream_options"] == {"include_usage": True}


async def test_openai_stream_usage_only_when_asked_and_not_omitted(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    plain = [chunk async for chunk in await _oa_call(oa, stream=True)]
    assert all(c.usage is None and c.choices for c in plain)
    fake.enqueue(Behaviour(omit_usage=True), Behaviour(omit_usage=True))
    omitted = [chunk async for chunk in await _oa_call(oa, stream=True, stream_options={"include_usage": True})]
    assert all(c.usage is None and c.choices for c in omitted)
    assert (await _oa_call(oa)).usage is None


async def test_chunks_knob_splits_the_text_evenly(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(text="abcdefghi", chunks=3))
    stream = await _oa_call(oa, stream=True)
    deltas = [c.choices[0].delta.content async for c in stream if c.choices and c.choices[0].delta.content]
    assert deltas == ["abc", "def", "ghi"]


@pytest.mark.parametrize(
    ("behaviour", "error", "code"),
    [
        (Behaviour(status=429, retry_after=1.5), openai.RateLimitError, "rate_limit_exceeded"),
        (Behaviour(status=500), openai.InternalServerError, None),
        (Behaviour(status=503), openai.InternalServerError, None),
        (
            Behaviour(status=400, error_type="context_length_exceeded"),
            openai.BadRequestError,
            "context_length_exceeded",
        ),
        (Behaviour(status=401), openai.AuthenticationError, "invalid_api_key"),
    ],
)
async def test_openai_error_statuses_raise_typed_errors(
    fake: FakeUpstream, oa: openai.AsyncOpenAI, behaviour: Behaviour, error: type[Exception], code: str | None
) -> None:
    for stream in (False, True):
        fake.enqueue(behaviour)
        with pytest.raises(error) as caught:
            await _oa_call(oa, stream=stream)
        assert isinstance(caught.value, openai.APIStatusError)
        assert caught.value.status_code == behaviour.status
        assert caught.value.code == code
        body = caught.value.response.json()
        assert set(body["error"]) == {"message", "type", "param", "code"}
        assert caught.value.response.headers.get("retry-after") == ("1.5" if behaviour.retry_after else None)
    assert len(fake.requests) == 2  # failed requests are recorded too


async def test_echo_auth_in_error_puts_the_secret_in_the_message(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(status=401, echo_auth_in_error=True))
    with pytest.raises(openai.AuthenticationError) as caught:
        await _oa_call(oa)
    assert "sk-test" in caught.value.message


# -- Anthropic ---------------------------------------------------------------------------------------------------------


async def test_anthropic_unary_with_usage(fake: FakeUpstream, an: anthropic.AsyncAnthropic) -> None:
    fake.enqueue(Behaviour(text="Sure.", cached_tokens=4, finish_reason="length"))
    message = await _an_call(an, system="Be brief.")
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Sure."  # type: ignore[union-attr]
    assert message.stop_reason == "max_tokens"
    assert message.usage.input_tokens == 3 + 3 + 2  # words + 3 per message + system words
    assert message.usage.output_tokens == 1
    assert message.usage.cache_read_input_tokens == 4
    assert message.usage.cache_creation_input_tokens == 0


async def test_anthropic_stream_events_and_final_message(fake: FakeUpstream, an: anthropic.AsyncAnthropic) -> None:
    stream = await _an_call(an, stream=True)
    events = [event async for event in stream]
    kinds = [e.type for e in events]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta")  # type: ignore[union-attr]
    assert text == "Hello! You said: ping me back"

    fake.enqueue(Behaviour(text="a b c", finish_reason="content_filter"))
    async with an.messages.stream(model="claude-test", max_tokens=64, messages=USER) as helper:
        assert [t async for t in helper.text_stream] == ["a ", "b ", "c"]
        final = await helper.get_final_message()
    assert final.stop_reason == "refusal"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (6, 3)


@pytest.mark.parametrize(
    ("behaviour", "error", "kind"),
    [
        (Behaviour(status=429, retry_after=3), anthropic.RateLimitError, "rate_limit_error"),
        (Behaviour(status=529), anthropic.OverloadedError, "overloaded_error"),
        (Behaviour(status=500), anthropic.InternalServerError, "api_error"),
        (Behaviour(status=401), anthropic.AuthenticationError, "authentication_error"),
        (
            Behaviour(status=400, error_type="context_length_exceeded"),
            anthropic.BadRequestError,
            "invalid_request_error",
        ),
    ],
)
async def test_anthropic_error_statuses_raise_typed_errors(
    fake: FakeUpstream, an: anthropic.AsyncAnthropic, behaviour: Behaviour, error: type[Exception], kind: str
) -> None:
    for stream in (False, True):
        fake.enqueue(behaviour)
        with pytest.raises(error) as caught:
            await _an_call(an, stream=stream)
        assert isinstance(caught.value, anthropic.APIStatusError)
        assert caught.value.status_code == behaviour.status
        body = caught.value.response.json()
        assert body["type"] == "error"
        assert body["error"]["type"] == kind
        assert caught.value.response.headers.get("retry-after") == ("3" if behaviour.retry_after else None)


async def test_anthropic_count_tokens_consumes_no_behaviour(fake: FakeUpstream, an: anthropic.AsyncAnthropic) -> None:
    fake.enqueue(Behaviour(text="kept"))
    count = await an.messages.count_tokens(model="claude-test", messages=USER)
    assert count.input_tokens == 6
    assert (await _an_call(an)).content[0].text == "kept"  # type: ignore[union-attr]


# -- Stream faults -----------------------------------------------------------------------------------------------------


async def test_cut_stream_raises_in_both_sdks(
    fake: FakeUpstream, oa: openai.AsyncOpenAI, an: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Behaviour(text="a b c d", cut_after=2), Behaviour(text="a b c d", cut_after=2))
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError) as caught:
        async for chunk in await _oa_call(oa, stream=True):
            received += [chunk.choices[0].delta.content or ""]
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert "".join(received) == "a b "

    with pytest.raises(httpx2.RemoteProtocolError):  # the anthropic SDK does not wrap it
        async for _event in await _an_call(an, stream=True):
            pass
    assert fake.disconnects == 0  # the fake hung up, not the client


async def test_malformed_chunk_raises_in_both_sdks(
    fake: FakeUpstream, oa: openai.AsyncOpenAI, an: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Behaviour(malformed_after=1), Behaviour(malformed_after=1))
    with pytest.raises(json.JSONDecodeError):
        async for _chunk in await _oa_call(oa, stream=True):
            pass
    with pytest.raises(json.JSONDecodeError):
        async for _event in await _an_call(an, stream=True):
            pass
    assert (await _oa_call(oa)).choices[0].message.content  # the connection is still usable


async def test_an_error_event_mid_stream_is_raised_by_both_sdks(
    fake: FakeUpstream, oa: openai.AsyncOpenAI, an: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(*[Behaviour(error_event_after=1, error_type="overloaded_error", error_message="Overloaded")] * 2)
    texts: list[str] = []
    with pytest.raises(openai.APIError) as openai_error:
        async for chunk in await _oa_call(oa, stream=True):
            texts += [c.delta.content for c in chunk.choices if c.delta.content]
    with pytest.raises(anthropic.APIStatusError) as anthropic_error:
        async for _event in await _an_call(an, stream=True):
            pass

    assert len(texts) == 1 and openai_error.value.message == "Overloaded"
    assert anthropic_error.value.body["error"] == {"type": "overloaded_error", "message": "Overloaded"}  # type: ignore[index]


async def test_stall_with_client_timeout_counts_a_disconnect(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(stall_after=1))
    with pytest.raises(openai.APITimeoutError):
        async for _chunk in await _oa_call(oa, stream=True, timeout=0.3):
            pass
    await fake.wait_for_disconnects(1, timeout=1)
    assert fake.disconnects == 1


async def test_cancelled_request_during_delay_is_noticed_promptly(
    fake: FakeUpstream, an: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Behaviour(delay=2.0))
    task = asyncio.create_task(_an_call(an))
    await asyncio.sleep(0.05)
    task.cancel()
    started = time.monotonic()
    await fake.wait_for_disconnects(1, timeout=1)
    assert time.monotonic() - started < 0.2
    assert fake.disconnects == 1
    assert task.cancelled()
    await asyncio.sleep(0.05)
    assert fake.disconnects == 1  # counted once


async def test_closing_a_stream_midway_closes_the_upstream_connection(
    fake: FakeUpstream, oa: openai.AsyncOpenAI
) -> None:
    fake.enqueue(Behaviour(text="a b c d e f g h", chunk_delay=0.05))
    stream = await _oa_call(oa, stream=True)
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    await stream.close()
    await fake.wait_for_disconnects(1, timeout=1)
    assert fake.open_connections == 0


# -- Behaviour selection, recording, connections -----------------------------------------------------------------------


async def test_fail_ratio_is_roughly_honoured_and_deterministic(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    async def failures() -> list[int]:
        fake.reset()
        fake.set_default(Behaviour(status=500, fail_ratio=0.3))
        failed = []
        for i in range(100):
            try:
                await _oa_call(oa)
            except openai.InternalServerError:
                failed.append(i)
        return failed

    first = await failures()
    assert 20 <= len(first) <= 40
    assert await failures() == first  # reset reseeds


async def test_requests_are_recorded_with_model_stream_and_auth(
    fake: FakeUpstream, oa: openai.AsyncOpenAI, an: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Behaviour(text="for a"), model="model-a")
    fake.set_default(Behaviour(text="default b"), model="model-b")
    fake.enqueue(Behaviour(status=500))
    with pytest.raises(openai.InternalServerError):
        await _oa_call(oa, model="model-b")  # the any-model queue comes before model-b's default
    assert (await _oa_call(oa, model="model-b")).choices[0].message.content == "default b"
    assert (await _oa_call(oa, model="model-a")).choices[0].message.content == "for a"
    assert (await _oa_call(oa, model="model-a")).choices[0].message.content.startswith("Hello!")  # type: ignore[union-attr]
    await _an_call(an, model="model-a", stream=True)

    assert [r.model for r in fake.requests] == ["model-b", "model-b", "model-a", "model-a", "model-a"]
    assert [r.stream for r in fake.requests_for("model-a")] == [False, False, True]
    assert [r.api for r in fake.requests_for("model-a")] == ["openai", "openai", "anthropic"]
    assert fake.requests[0].headers["authorization"] == "Bearer sk-test"
    assert fake.requests[-1].headers["authorization"] == "Bearer ak-test"  # anthropic 2.x: Bearer, no x-api-key
    assert fake.requests[-1].path == "/v1/messages"
    assert fake.requests[0].received_at <= fake.requests[-1].received_at
    assert [m.id async for m in oa.models.list()] == ["model-a", "model-b"]

    fake.reset()
    assert fake.requests == []
    assert (await _oa_call(oa, model="model-b")).choices[0].message.content.startswith("Hello!")  # type: ignore[union-attr]


async def test_unknown_paths_get_the_apis_404(fake: FakeUpstream) -> None:
    async with httpx2.AsyncClient(base_url=fake.base_url) as http:
        openai_404 = await http.post("/v1/audio/speech", json={"model": "x"})
        anthropic_404 = await http.get("/v1/files", headers={"anthropic-version": "2023-06-01"})
    assert openai_404.status_code == anthropic_404.status_code == 404
    assert openai_404.json()["error"]["type"] == "invalid_request_error"
    assert anthropic_404.json()["error"]["type"] == "not_found_error"
    assert [r.path for r in fake.requests] == ["/v1/audio/speech", "/v1/files"]


async def test_embeddings_count_words_whatever_their_order_and_case(fake: FakeUpstream) -> None:
    oa = openai.AsyncOpenAI(base_url=f"{fake.base_url}/v1", api_key="sk-test", max_retries=0)
    answer = await oa.embeddings.create(model="e", input=["Reverse a string", "string a REVERSE", "sort a list"])
    same, reordered, other = (d.embedding for d in answer.data)
    assert same == reordered and same != other
    assert sum(same) == 3 and answer.model == "e"


async def test_raw_http_chunked_request_body_and_connection_close(fake: FakeUpstream) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", fake.port)
    body = json.dumps({"model": "raw", "messages": USER}).encode()
    head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    writer.write(head + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    response = await asyncio.wait_for(reader.read(), timeout=2)  # to EOF: the fake honours Connection: close
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 200 OK"
    assert b"connection: close" in rest
    answer = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert answer["choices"][0]["message"]["content"] == "Hello! You said: ping me back"
    assert fake.requests_for("raw")[0].body["messages"] == USER


async def test_clients_reuse_one_keep_alive_connection(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    for stream in (False, True, False, True):
        result = await _oa_call(oa, stream=stream)
        if stream:
            _ = [chunk async for chunk in result]
    assert fake.connections_total == 1
    assert fake.open_connections == 1


async def test_delays_are_honoured(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(text="a b c", delay=0.1, chunk_delay=0.03))
    started = time.monotonic()
    _ = [chunk async for chunk in await _oa_call(oa, stream=True)]
    assert time.monotonic() - started >= 0.1 + 4 * 0.03  # three deltas, then the closing events


def test_standalone_process_serves_until_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.fakes.upstream", "--port", "0", "--stream-chunks", "4"]
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert line.startswith("fake upstream listening on port ")
            port = int(line.rsplit(" ", 1)[1])
            with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0) as client:
                stream = client.chat.completions.create(model="m", messages=USER, stream=True)  # type: ignore[arg-type]
                deltas = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
            assert len(deltas) == 4
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=5) == 0
        finally:
            if process.poll() is None:
                process.kill()
