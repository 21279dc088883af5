"""One suite, every adapter and both transports: the same behaviour whichever provider answers, however it is reached.

openai, anthropic and openai_compatible run against the fake upstream on loopback through each transport, the
native aiohttp client and the official SDKs, so the two cannot drift; local runs the embedded model for real
(faults cannot be injected into it, so those cases skip it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, FinishReason, SamplingParams, TextDelta
from orchestrator.providers import create_provider
from orchestrator.providers.base import Completion, Provider, ProviderError, ProviderErrorKind, ProviderRequest
from orchestrator.providers.local import LocalProvider
from tests.fakes import Behaviour, FakeUpstream

pytestmark = pytest.mark.timeout(60)

FAKE_KINDS = ["openai", "anthropic", "openai_compatible"]
TRANSPORTS = ["native", "sdk"]
FAKED = [(kind, transport) for kind in FAKE_KINDS for transport in TRANSPORTS]
FAKED_IDS = [f"{kind}-{transport}" for kind, transport in FAKED]
MESSAGES = (ChatMessage("system", "You are terse."), ChatMessage("user", "Say hello to the conformance suite."))


@dataclass
class Subject:
    kind: str
    provider: Provider
    model: str
    fake: FakeUpstream | None
    transport: str = "native"

    def request(self, max_tokens: int = 16, timeout: float | None = 10.0, **params: object) -> ProviderRequest:
        return ProviderRequest(self.model, MESSAGES, SamplingParams(max_output_tokens=max_tokens, **params), timeout)  # type: ignore[arg-type]


@pytest_asyncio.fixture(scope="module")
async def local_provider() -> AsyncIterator[LocalProvider]:
    provider = LocalProvider("local", ProviderSettings(type="local"))
    await provider.start()
    yield provider
    await provider.aclose()


def fake_provider(kind: str, fake: FakeUpstream, transport: str = "native") -> Provider:
    base_url = fake.base_url if kind == "anthropic" else f"{fake.base_url}/v1"
    key = None if kind == "openai_compatible" else f"{kind}-key-123456"
    settings = ProviderSettings(type=kind, base_url=base_url, api_key=key, timeout_seconds=10, transport=transport)  # type: ignore[arg-type]
    return create_provider(kind, settings)


@pytest_asyncio.fixture(params=[*FAKED, ("local", "")], ids=[*FAKED_IDS, "local"])
async def subject(request: pytest.FixtureRequest, local_provider: LocalProvider) -> AsyncIterator[Subject]:
    kind, transport = request.param
    if kind == "local":
        yield Subject("local", local_provider, "smollm2", None)
        return
    async with FakeUpstream(seed=7) as fake:
        provider = fake_provider(kind, fake, transport)
        yield Subject(kind, provider, f"{kind}-model", fake, transport)
        await provider.aclose()
        assert fake.server_errors == []


@pytest_asyncio.fixture(params=FAKED, ids=FAKED_IDS)
async def faked(request: pytest.FixtureRequest) -> AsyncIterator[Subject]:
    kind, transport = request.param
    async with FakeUpstream(seed=7) as fake:
        provider = fake_provider(kind, fake, transport)
        yield Subject(kind, provider, f"{kind}-model", fake, transport)
        await provider.aclose()
        assert fake.server_errors == []


async def collect(subject: Subject, request: ProviderRequest) -> tuple[list[str], list[Completion]]:
    deltas, finals = [], []
    async for event in subject.provider.stream(request):
        assert not finals, "nothing may follow the final Completion"
        if isinstance(event, TextDelta):
            deltas.append(event.text)
        else:
            finals.append(event)
    return deltas, finals


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


ERRORS = [
    (Behaviour(status=429, retry_after=2), ProviderErrorKind.RATE_LIMITED),
    (Behaviour(status=500), ProviderErrorKind.UNAVAILABLE),
    (Behaviour(status=503), ProviderErrorKind.UNAVAILABLE),
    (Behaviour(status=400), ProviderErrorKind.INVALID_REQUEST),
    (Behaviour(status=400, error_type="context_length_exceeded"), ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED),
    (Behaviour(status=401), ProviderErrorKind.AUTHENTICATION),
    (Behaviour(status=404), ProviderErrorKind.MODEL_NOT_FOUND),
]


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
AUTH_HEADERS = {
    ("openai", "native"): {"authorization": "Bearer openai-key-123456"},
    ("openai", "sdk"): {"authorization": "Bearer openai-key-123456"},
    ("anthropic", "native"): {"x-api-key": "anthropic-key-123456", "anthropic-version": "2026-10-21"},
    ("anthropic", "sdk"): {"authorization": "Bearer anthropic-key-123456", "anthropic-version": "2026-10-21"},
    ("openai_compatible", "native"): {"authorization": None},
    ("openai_compatible", "sdk"): {"authorization": "Bearer not-needed"},
}


async def test_cancelling_the_caller_mid_stream_drops_the_upstream_connection(faked: Subject) -> None:
    assert faked.fake is not None
    faked.fake.enqueue(Behaviour(stall_after=2))
    reading = asyncio.Event()

    async def caller() -> None:
        async for _ in faked.provider.stream(faked.request()):
            reading.set()

    task = asyncio.create_task(caller())
    await reading.wait()
    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task
    await faked.fake.wait_for_disconnects(1, timeout=3.0)
    # Closed, not pooled half-read: the next call is answered in full.
    answer = await faked.provider.generate(faked.request())
    assert answer.text == "Hello! You said: Say hello to the conformance suite."


async def test_a_slow_answer_times_out_within_the_request_timeout(faked: Subject) -> None:
    assert faked.fake is not None
    faked.fake.enqueue(Behaviour(delay=3.0))

    with pytest.raises(ProviderError) as caught:
        await faked.provider.generate(faked.request(timeout=0.3))

    assert caught.value.kind is ProviderErrorKind.TIMEOUT
    await faked.fake.wait_for_disconnects(1)


# Everything the fake can do, each unary and streamed: the two transports must agree on every event and error.
SCENARIOS = [
    Behaviour(),
    Behaviour(finish_reason="length"),
    Behaviour(prompt_tokens=10, cached_tokens=90),
    Behaviour(omit_usage=True),
    Behaviour(chunks=1),
    *(behaviour for behaviour, _ in ERRORS),
    Behaviour(status=429, error_type="insufficient_quota"),
    Behaviour(status=529),
    Behaviour(status=503, retry_after=1),
    Behaviour(cut_after=2),
    Behaviour(malformed_after=2),
    Behaviour(error_event_after=2, error_type="overloaded_error"),
    Behaviour(error_event_after=0, error_type="invalid_request_error"),
]


async def outcome(provider: Provider, streaming: bool) -> list[object]:
    request = ProviderRequest("model-x", MESSAGES, SamplingParams(max_output_tokens=16), 10.0)
    events: list[object] = []
    try:
        if streaming:
            events += [event async for event in provider.stream(request)]
        else:
            events.append(await provider.generate(request))
    except ProviderError as error:
        events.append((error.kind, error.status_code, error.retry_after))
    return events


@pytest.mark.parametrize("kind", FAKE_KINDS)
async def test_both_transports_give_the_same_answers_errors_and_events(kind: str) -> None:
    seen: dict[str, list[list[object]]] = {}
    for transport in TRANSPORTS:
        async with FakeUpstream(seed=7) as fake:
            provider = fake_provider(kind, fake, transport)
            seen[transport] = []
            for behaviour in SCENARIOS:
                for streaming in (False, True):
                    fake.enqueue(behaviour)
                    seen[transport].append(await outcome(provider, streaming))
            await provider.aclose()

    assert seen["native"] == seen["sdk"]
    assert len({repr(events) for events in seen["native"]}) > len(SCENARIOS)  # the scenarios do differ


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_anthropic_counts_through_its_count_endpoint_and_estimates_when_it_cannot(transport: str) -> None:
    async with FakeUpstream() as fake:
        provider = fake_provider("anthropic", fake, transport)
        exact = await provider.count_tokens("claude", MESSAGES, exact=True)
        await provider.aclose()
    (asked,) = fake.requests
    unreachable = fake_provider("anthropic", fake, transport)  # the fake has stopped listening
    fallback = await unreachable.count_tokens("claude", MESSAGES, exact=True)
    await unreachable.aclose()

    assert asked.path == "/v1/messages/count_tokens" and "max_tokens" not in asked.body
    assert exact.count > 0 and not exact.estimated
    assert fallback.count > 0 and fallback.estimated
