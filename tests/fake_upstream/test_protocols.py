"""Both APIs as the SDKs see them: answers, streams, usage, error bodies, counting."""

from __future__ import annotations

from pathlib import Path

import anthropic
import openai
import pytest

from tests.fake_upstream.sdk_calls import USER, an_call, oa_call
from tests.fakes import Behaviour, FakeUpstream

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.timeout(30)


# -- OpenAI ------------------------------------------------------------------------------------------------------------


async def test_openai_unary_echoes_the_prompt_with_usage(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(cached_tokens=2, finish_reason="max_tokens"))
    result = await oa_call(oa)
    assert result.choices[0].message.content == "Hello! You said: ping me back"
    assert result.choices[0].finish_reason == "length"  # Anthropic's vocabulary is translated
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (6, 6, 12)
    assert result.usage.prompt_tokens_details is not None
    assert result.usage.prompt_tokens_details.cached_tokens == 2


async def test_openai_stream_with_include_usage(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(text="one two three", prompt_tokens=11))
    stream = await oa_call(oa, stream=True, stream_options={"include_usage": True})
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
    plain = [chunk async for chunk in await oa_call(oa, stream=True)]
    assert all(c.usage is None and c.choices for c in plain)
    fake.enqueue(Behaviour(omit_usage=True), Behaviour(omit_usage=True))
    omitted = [chunk async for chunk in await oa_call(oa, stream=True, stream_options={"include_usage": True})]
    assert all(c.usage is None and c.choices for c in omitted)
    assert (await oa_call(oa)).usage is None


async def test_chunks_knob_splits_the_text_evenly(fake: FakeUpstream, oa: openai.AsyncOpenAI) -> None:
    fake.enqueue(Behaviour(text="abcdefghi", chunks=3))
    stream = await oa_call(oa, stream=True)
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
            await oa_call(oa, stream=stream)
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
        await oa_call(oa)
    assert "sk-test" in caught.value.message


# -- Anthropic ---------------------------------------------------------------------------------------------------------


async def test_anthropic_unary_with_usage(fake: FakeUpstream, an: anthropic.AsyncAnthropic) -> None:
    fake.enqueue(Behaviour(text="Sure.", cached_tokens=4, finish_reason="length"))
    message = await an_call(an, system="Be brief.")
    assert [block.type for block in message.content] == ["text"]
    assert message.content[0].text == "Sure."  # type: ignore[union-attr]
    assert message.stop_reason == "max_tokens"
    assert message.usage.input_tokens == 3 + 3 + 2  # words + 3 per message + system words
    assert message.usage.output_tokens == 1
    assert message.usage.cache_read_input_tokens == 4
    assert message.usage.cache_creation_input_tokens == 0


async def test_anthropic_stream_events_and_final_message(fake: FakeUpstream, an: anthropic.AsyncAnthropic) -> None:
    stream = await an_call(an, stream=True)
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
            await an_call(an, stream=stream)
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
    assert (await an_call(an)).content[0].text == "kept"  # type: ignore[union-attr]
