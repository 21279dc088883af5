"""The fault knobs and the transport: cuts, stalls, malformed chunks, error events, disconnects, recording,
keep-alive, delays and the standalone process."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest

from tests.fake_upstream.sdk_calls import USER, an_call, oa_call
from tests.fakes import Behaviour, FakeUpstream

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(30)


# -- Stream faults -----------------------------------------------------------------------------------------------------


async def test_cut_stream_raises_in_both_sdks(
    fake: FakeUpstream, oa: openai.AsyncOpenAI, an: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Behaviour(text="a b c d", cut_after=2), Behaviour(text="a b c d", cut_after=2))
    received: list[str] = []
    with pytest.raises(openai.APIConnectionError) as caught:
        async for chunk in await oa_call(oa, stream=True):
            received += [chunk.choices[0].delta.content or ""]
    assert isinstance(caught.value.__cause__, httpx2.RemoteProtocolError)
    assert "".join(received) == "a b "

    with pytest.raises(httpx2.RemoteProtocolError):  # the anthropic SDK does not wrap it
        async for _event in await an_call(an, stream=True):
            pass
    assert fake.disconnects == 0  # the fake hung up, not the client


async def test_malformed_chunk_raises_in_both_sdks(
    fake: FakeUpstream, oa: openai.AsyncOpenAI, an: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Behaviour(malformed_after=1), Behaviour(malformed_after=1))
    with pytest.raises(json.JSONDecodeError):
        async for _chunk in await oa_call(oa, stream=True):
            pass
    with pytest.raises(json.JSONDecodeError):
        async for _event in await an_call(an, stream=True):
            pass
    assert (await oa_call(oa)).choices[0].message.content  # the connection is still usable


async def test_an_error_event_mid_stream_is_raised_by_both_sdks(
    fake: FakeUpstream, oa: openai.AsyncOpenAI, an: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(*[Behaviour(error_event_after=1, error_type="overloaded_error", error_message="Overloaded")] * 2)
    texts: list[str] = []
    with pytest.raises(openai.APIError) as openai_error:
        async for chunk in await oa_call(oa, stream=True):
            texts += [c.delta.content for c in chunk.choices if c.delta.content]
    with pytest.raises(anthropic.APIStatusError) as anthropic_error:
        async for _event in await an_call(an, stream=True):
            pass

    assert len(texts) == 1 and openai_error.value.message == "Overloaded"
    assert anthropic_error.value.body["error"] == {"type": "overloaded_error", "message": "Overloaded"}  # type: ignore[index]


async def test_stall_with_client_timeout_counts_a_disconnect(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(stall_after=1))
    with pytest.raises(openai.APITimeoutError):
        async for _chunk in await oa_call(oa, stream=True, timeout=0.3):
            pass
    await fake.wait_for_disconnects(1, timeout=1)
    assert fake.disconnects == 1


async def test_cancelled_request_during_delay_is_noticed_promptly(
    fake: FakeUpstream, an: anthropic.AsyncAnthropic
) -> None:
    fake.enqueue(Behaviour(delay=2.0))
    task = asyncio.create_task(an_call(an))
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
    stream = await oa_call(oa, stream=True)
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
                await oa_call(oa)
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
        await oa_call(oa, model="model-b")  # the any-model queue comes before model-b's default
    assert (await oa_call(oa, model="model-b")).choices[0].message.content == "default b"
    assert (await oa_call(oa, model="model-a")).choices[0].message.content == "for a"
    assert (await oa_call(oa, model="model-a")).choices[0].message.content.startswith("Hello!")  # type: ignore[union-attr]
    await an_call(an, model="model-a", stream=True)

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
    assert (await oa_call(oa, model="model-b")).choices[0].message.content.startswith("Hello!")  # type: ignore[union-attr]


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
        result = await oa_call(oa, stream=stream)
        if stream:
            _ = [chunk async for chunk in result]
    assert fake.connections_total == 1
    assert fake.open_connections == 1


async def test_delays_are_honoured(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(text="a b c", delay=0.1, chunk_delay=0.03))
    started = time.monotonic()
    _ = [chunk async for chunk in await oa_call(oa, stream=True)]
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
