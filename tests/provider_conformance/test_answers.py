"""Answers, streams, usage, errors and faults: the same whichever adapter and transport answers."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.domain import ChatMessage, FinishReason, SamplingParams, TextDelta
from orchestrator.providers.base import Completion, ProviderError, ProviderErrorKind, ProviderRequest
from tests.fakes import Behaviour, FakeUpstream
from tests.provider_conformance.env import (
    AUTH_HEADERS,
    ERRORS,
    MESSAGES,
    TRANSPORTS,
    Subject,
    collect,
    fake_provider,
)

pytestmark = pytest.mark.timeout(60)


async def test_unary_answers_with_text_usage_and_a_normalised_finish_reason(subject: Subject) -> None:
    completion = await subject.provider.generate(subject.request())

    assert completion.text.strip()
    assert completion.usage.input_tokens > 0 and completion.usage.output_tokens > 0
    assert completion.finish_reason in (FinishReason.STOP, FinishReason.LENGTH)
    if subject.fake:
        assert completion.text == "Hello! You said: Say hello to the conformance suite."
        assert completion.finish_reason is FinishReason.STOP
        assert not completion.usage.estimated


async def test_stream_sends_deltas_then_one_completion_with_usage(subject: Subject) -> None:
    deltas, finals = await collect(subject, subject.request())

    assert len(deltas) >= 2
    (final,) = finals
    assert final.text == ""
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0
    assert final.finish_reason in (FinishReason.STOP, FinishReason.LENGTH)
    if subject.fake:
        assert "".join(deltas) == "Hello! You said: Say hello to the conformance suite."
        assert final.usage.output_tokens == len(deltas)


async def test_exactly_one_upstream_request_per_call(subject: Subject) -> None:
    if subject.fake is None:
        pytest.skip("the embedded model has no upstream")
    subject.fake.enqueue(Behaviour(status=500))

    with pytest.raises(ProviderError):
        await subject.provider.generate(subject.request())
    await subject.provider.generate(subject.request())
    await collect(subject, subject.request())

    assert len(subject.fake.requests) == 3  # no hidden SDK retry of the 500


async def test_length_finish_reason_is_normalised(subject: Subject) -> None:
    if subject.fake:
        subject.fake.enqueue(Behaviour(finish_reason="length"), Behaviour(finish_reason="length"))

    unary = await subject.provider.generate(subject.request(max_tokens=3))
    _, (streamed,) = await collect(subject, subject.request(max_tokens=3))

    assert unary.finish_reason is streamed.finish_reason is FinishReason.LENGTH


async def test_offline_token_counts_grow_with_the_text(subject: Subject) -> None:
    short = await subject.provider.count_tokens(subject.model, (ChatMessage("user", "hi"),))
    long = await subject.provider.count_tokens(subject.model, (ChatMessage("user", "hi " * 200),))

    assert 0 < short.count < long.count
    assert short.estimated == (subject.kind in ("anthropic", "openai_compatible"))


@pytest.mark.parametrize(("behaviour", "kind"), ERRORS, ids=[f"{b.status}-{k.name}" for b, k in ERRORS])
@pytest.mark.parametrize("streaming", [False, True], ids=["unary", "stream"])
async def test_errors_are_classified_identically(
    faked: Subject, behaviour: Behaviour, kind: ProviderErrorKind, streaming: bool
) -> None:
    assert faked.fake is not None
    faked.fake.enqueue(behaviour)

    with pytest.raises(ProviderError) as caught:
        if streaming:
            await collect(faked, faked.request())
        else:
            await faked.provider.generate(faked.request())

    assert caught.value.kind is kind
    assert caught.value.status_code == behaviour.status
    assert caught.value.retry_after == (2.0 if kind is ProviderErrorKind.RATE_LIMITED else None)
    assert "key-123456" not in caught.value.message


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_anthropic_overloaded_529_is_unavailable(transport: str) -> None:
    async with FakeUpstream() as fake:
        provider = fake_provider("anthropic", fake, transport)
        fake.enqueue(Behaviour(status=529))
        with pytest.raises(ProviderError) as caught:
            await provider.generate(ProviderRequest("claude", MESSAGES, SamplingParams(max_output_tokens=8)))
        await provider.aclose()

    assert caught.value.kind is ProviderErrorKind.UNAVAILABLE and caught.value.kind.retryable


STREAM_FAULTS = [
    (Behaviour(cut_after=2), ProviderErrorKind.MALFORMED_RESPONSE),
    (Behaviour(malformed_after=2), ProviderErrorKind.MALFORMED_RESPONSE),
]


@pytest.mark.parametrize(("behaviour", "kind"), STREAM_FAULTS, ids=["cut", "malformed"])
async def test_broken_streams_raise_after_the_deltas_already_sent(
    faked: Subject, behaviour: Behaviour, kind: ProviderErrorKind
) -> None:
    assert faked.fake is not None
    faked.fake.enqueue(behaviour)
    deltas: list[str] = []

    with pytest.raises(ProviderError) as caught:
        async for event in faked.provider.stream(faked.request()):
            assert isinstance(event, TextDelta), "a broken stream must not end with a Completion"
            deltas.append(event.text)

    assert caught.value.kind is kind
    assert len(deltas) == 2


async def test_an_error_event_mid_stream_ends_it_with_an_error_after_the_deltas_sent(faked: Subject) -> None:
    assert faked.fake is not None
    faked.fake.enqueue(Behaviour(error_event_after=2, error_type="overloaded_error"))
    deltas: list[str] = []

    with pytest.raises(ProviderError) as caught:
        async for event in faked.provider.stream(faked.request()):
            assert isinstance(event, TextDelta)
            deltas.append(event.text)

    assert len(deltas) == 2
    # Anthropic names the error: overloaded is worth another try. OpenAI's error chunk is a broken answer.
    expected = ProviderErrorKind.UNAVAILABLE if faked.kind == "anthropic" else ProviderErrorKind.MALFORMED_RESPONSE
    assert caught.value.kind is expected and caught.value.kind.retryable


async def test_a_stalled_stream_times_out(faked: Subject) -> None:
    assert faked.fake is not None
    faked.fake.enqueue(Behaviour(stall_after=1))

    with pytest.raises(ProviderError) as caught:
        await collect(faked, faked.request(timeout=0.3))

    assert caught.value.kind is ProviderErrorKind.TIMEOUT
    await faked.fake.wait_for_disconnects(1)


async def test_cancelling_a_call_closes_the_upstream_connection(faked: Subject) -> None:
    assert faked.fake is not None
    faked.fake.enqueue(Behaviour(delay=2.0))

    call = asyncio.create_task(faked.provider.generate(faked.request()))
    await asyncio.sleep(0.05)
    call.cancel()

    with pytest.raises(asyncio.CancelledError):
        await call
    await faked.fake.wait_for_disconnects(1, timeout=3.0)


async def test_closing_a_stream_early_closes_the_upstream_connection(faked: Subject) -> None:
    assert faked.fake is not None
    faked.fake.enqueue(Behaviour(stall_after=2))

    stream = faked.provider.stream(faked.request())
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()

    await faked.fake.wait_for_disconnects(1, timeout=3.0)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_missing_usage_is_counted_locally_and_marked_estimated(transport: str) -> None:
    async with FakeUpstream() as fake:
        provider = fake_provider("openai_compatible", fake, transport)
        fake.enqueue(Behaviour(omit_usage=True), Behaviour(omit_usage=True))
        request = ProviderRequest("llama", MESSAGES, SamplingParams(max_output_tokens=16))
        unary = await provider.generate(request)
        finals = [e async for e in provider.stream(request) if isinstance(e, Completion)]
        await provider.aclose()

    for usage in (unary.usage, finals[0].usage):
        assert usage.estimated
        assert usage.input_tokens > 0 and usage.output_tokens > 0


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_anthropic_counts_cache_reads_and_writes_as_input(transport: str) -> None:
    async with FakeUpstream() as fake:
        provider = fake_provider("anthropic", fake, transport)
        fake.enqueue(Behaviour(prompt_tokens=10, cached_tokens=90), Behaviour(prompt_tokens=10, cached_tokens=90))
        request = ProviderRequest("claude", MESSAGES, SamplingParams(max_output_tokens=16))
        unary = await provider.generate(request)
        finals = [e async for e in provider.stream(request) if isinstance(e, Completion)]
        await provider.aclose()

    for usage in (unary.usage, finals[0].usage):
        assert (usage.input_tokens, usage.cached_input_tokens) == (100, 90)


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_openai_reports_cached_prompt_tokens(transport: str) -> None:
    async with FakeUpstream() as fake:
        provider = fake_provider("openai", fake, transport)
        fake.enqueue(Behaviour(prompt_tokens=100, cached_tokens=64))
        unary = await provider.generate(ProviderRequest("gpt", MESSAGES, SamplingParams(max_output_tokens=16)))
        await provider.aclose()

    assert (unary.usage.input_tokens, unary.usage.cached_input_tokens) == (100, 64)


async def test_wire_requests_follow_each_api(faked: Subject) -> None:
    assert faked.fake is not None

    await faked.provider.generate(faked.request(temperature=0.5, stop=("END",)))
    await collect(faked, faked.request())

    unary, streamed = faked.fake.requests
    body = unary.body
    assert body["model"] == faked.model
    if faked.kind == "anthropic":
        assert "temperature" not in body  # the Messages API no longer takes sampling temperature
        assert body["system"] == "You are terse."
        assert [m["role"] for m in body["messages"]] == ["user"]
        assert body["max_tokens"] == 16 and body["stop_sequences"] == ["END"]
    else:
        assert [m["role"] for m in body["messages"]] == ["system", "user"]
        assert body["stop"] == ["END"] and body["temperature"] == 0.5
        field = "max_completion_tokens" if faked.kind == "openai" else "max_tokens"
        assert body[field] == 16
        assert streamed.body["stream_options"] == {"include_usage": True}
    assert streamed.stream
    for recorded in (unary, streamed):
        assert recorded.path == ("/v1/messages" if faked.kind == "anthropic" else "/v1/chat/completions")
        assert {h: recorded.headers.get(h) for h in AUTH_HEADERS[faked.kind, faked.transport]} == AUTH_HEADERS[
            faked.kind, faked.transport
        ]


# What carries the key: the native client sends each API's documented headers; the SDKs what they send (anthropic
# 2.x a bearer token; openai a placeholder key when none is configured).
