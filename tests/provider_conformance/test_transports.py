"""The native and SDK transports side by side: wire headers, cancellation, timeouts, identical outcomes, counting."""

from __future__ import annotations

import asyncio

import pytest

from orchestrator.domain import SamplingParams
from orchestrator.providers.base import Provider, ProviderError, ProviderErrorKind, ProviderRequest
from tests.fakes import Behaviour, FakeUpstream
from tests.provider_conformance.env import (
    ERRORS,
    FAKE_KINDS,
    MESSAGES,
    TRANSPORTS,
    Subject,
    fake_provider,
)

pytestmark = pytest.mark.timeout(60)


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
