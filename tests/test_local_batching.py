"""The embedded model serving many callers at once: shared decode steps, kept prompt prefixes, grammars
refused before queueing, cancelled streams freed (test_local_serving.py: the same behind the gRPC server).

Batching must not change what one caller gets: at temperature 0 every concurrent answer is the answer the
same prompt gets alone (llama.cpp computes each sequence's row of logits from its own KV cells).
A wedged decode is made by holding the scheduler's context lock (the lock every llama.cpp call takes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, FinishReason, SamplingParams, TextDelta
from orchestrator.errors import InvalidArgumentError, Reason
from orchestrator.providers.base import Completion, ProviderRequest
from orchestrator.providers.local import LocalProvider
from orchestrator.providers.local.text import TextStream
from tests.local_env import BAD_SCHEMAS, until, wedged

pytestmark = pytest.mark.timeout(240)

TASKS = ["reverses a string", "adds two numbers", "sorts a list", "counts vowels", "checks for a palindrome",
         "computes a factorial", "finds the largest number", "merges two dictionaries"]  # fmt: skip


def ask(task: str, max_tokens: int = 16, **params: object) -> ProviderRequest:
    message = ChatMessage("user", f"Write a python function that {task}.")
    return ProviderRequest(
        "smollm2", (message,), SamplingParams(temperature=0.0, max_output_tokens=max_tokens, **params)
    )  # type: ignore[arg-type]


async def answer(provider: LocalProvider, request: ProviderRequest) -> tuple[str, Completion]:
    parts: list[str] = []
    async for event in provider.stream(request):
        if isinstance(event, TextDelta):
            parts.append(event.text)
        else:
            return "".join(parts), event
    raise AssertionError("the stream ended without a Completion")


@pytest_asyncio.fixture(scope="module")
async def provider() -> AsyncIterator[LocalProvider]:
    provider = LocalProvider("local", ProviderSettings(type="local", n_ctx=1024, max_batch=8, max_queue=4))
    await provider.start()
    yield provider
    await provider.aclose()


async def test_eight_concurrent_streams_answer_as_each_prompt_does_alone(provider: LocalProvider) -> None:
    alone = [await answer(provider, ask(task)) for task in TASKS]
    steps_before = provider.scheduler.steps

    together = await asyncio.gather(*(answer(provider, ask(task)) for task in TASKS))

    assert [text for text, _ in together] == [text for text, _ in alone]
    assert [done.usage for _, done in together] == [done.usage for _, done in alone]
    assert all(done.usage.output_tokens == 16 and done.finish_reason is FinishReason.LENGTH for _, done in together)
    # Shared steps: 8 answers of 16 tokens took far fewer than the 8 x 16 steps one after another would.
    assert provider.scheduler.steps - steps_before < 8 * 16 / 2


async def test_a_prompt_sharing_a_kept_prefix_prefills_only_the_rest_and_answers_the_same(
    provider: LocalProvider,
) -> None:
    first, _ = await answer(provider, ask("doubles a number"))
    reused_before = provider.scheduler.reused_tokens

    again, _ = await answer(provider, ask("doubles a number"))  # the whole prompt but its last token is kept
    reused_again = provider.scheduler.reused_tokens - reused_before
    other, _ = await answer(provider, ask("halves a number"))  # only the shared beginning is kept
    reused_other = provider.scheduler.reused_tokens - reused_before - reused_again
    fresh = LocalProvider("fresh", ProviderSettings(type="local", n_ctx=1024, max_batch=1))
    await fresh.start()
    try:
        other_fresh, _ = await answer(fresh, ask("halves a number"))
    finally:
        await fresh.aclose()

    assert again == first and other == other_fresh
    assert reused_again > reused_other > 0


async def test_a_stop_string_ends_the_answer_before_it_and_usage_counts_what_was_sampled(
    provider: LocalProvider,
) -> None:
    full, _ = await answer(provider, ask(TASKS[0], max_tokens=24))
    assert "(" in full

    text, done = await answer(provider, ask(TASKS[0], max_tokens=24, stop=("(",)))

    assert text == full[: full.index("(")]
    assert done.finish_reason is FinishReason.STOP
    assert 0 < done.usage.output_tokens < 24


async def test_grammars_and_sampling_settings_stay_with_their_own_sequence(provider: LocalProvider) -> None:
    """Constrained, sampled and greedy requests share steps; each keeps its own grammar and sampler."""
    schema = {
        "type": "object",
        "properties": {"name": {"type": "string", "maxLength": 12}, "count": {"type": "integer"}},
        "required": ["name", "count"],
        "additionalProperties": False,
    }
    constrained = ProviderRequest(
        "smollm2",
        (ChatMessage("user", "Give a fruit name and a count as JSON."),),
        SamplingParams(temperature=0.0, max_output_tokens=48),
        None,
        schema,
    )
    sampled = [ProviderRequest("smollm2", ask(task).messages, SamplingParams(0.9, 0.9, 16)) for task in TASKS[:3]]
    greedy_alone = await answer(provider, ask(TASKS[3]))

    results = await asyncio.gather(
        *(answer(provider, constrained) for _ in range(3)),
        *(answer(provider, request) for request in sampled),
        answer(provider, ask(TASKS[3])),
    )

    for text, done in results[:3]:
        value = json.loads(text)
        assert set(value) == {"name", "count"} and isinstance(value["count"], int)
        assert done.finish_reason is FinishReason.STOP
    assert len({text for text, _ in results[:3]}) == 1  # greedy under a grammar: the same answer each time
    assert all(done.usage.output_tokens > 0 for _, done in results[3:6])
    assert results[6] == greedy_alone


def test_text_is_held_back_only_while_it_may_begin_a_stop_string() -> None:
    stream = TextStream(("STOP",))

    assert stream.push(b"ab") == ("ab", False)
    assert stream.push(b"cS") == ("c", False)  # "S" may begin "STOP"
    assert stream.push(b"x") == ("Sx", False)
    assert stream.push(b"ST") == ("", False)
    assert stream.push(b"OP and more") == ("", True)


def test_a_character_split_across_tokens_is_sent_whole() -> None:
    stream = TextStream(())
    snowman = "\N{SNOWMAN}".encode()

    assert stream.push(snowman[:1]) == ("", False)
    assert stream.push(snowman[1:] + b"!") == ("\N{SNOWMAN}!", False)
    assert stream.push(b"\xe2") == ("", False)
    assert stream.flush() == "\ufffd"  # the answer ended inside a character


async def test_schemas_without_a_grammar_are_refused_before_queueing(provider: LocalProvider) -> None:
    for name, schema in BAD_SCHEMAS.items():
        request = ProviderRequest("smollm2", ask(TASKS[0]).messages, SamplingParams(max_output_tokens=8), None, schema)
        with wedged(provider.scheduler):  # nothing could be answered: the refusal cannot have waited for it
            with pytest.raises(InvalidArgumentError) as refused:
                await answer(provider, request)
            assert provider.scheduler.queued == 0, name
        assert refused.value.reason is Reason.INVALID_JSON_SCHEMA, name
        assert refused.value.field_violations[0].field.startswith("json_schema"), name


async def test_a_cancelled_stream_frees_its_sequence_at_the_next_step(provider: LocalProvider) -> None:
    stream = provider.stream(ask(TASKS[1], max_tokens=900))
    first = await anext(stream)
    assert isinstance(first, TextDelta)
    with wedged(provider.scheduler):
        await stream.aclose()
        steps = provider.scheduler.steps
        assert provider.scheduler.running == 1
    await until(lambda: provider.scheduler.running == 0)

    assert provider.scheduler.steps - steps <= 1


async def test_a_cancelled_queued_request_leaves_the_queue_at_once(provider: LocalProvider) -> None:
    with wedged(provider.scheduler):
        streams = [provider.stream(ask(task)) for task in TASKS]
        tasks = [asyncio.create_task(anext(s)) for s in [*streams, provider.stream(ask(TASKS[0]))]]
        await until(lambda: provider.scheduler.queued + provider.scheduler.running == 9)
        waiting = provider.scheduler.queued
        tasks[-1].cancel()
        await asyncio.gather(tasks[-1], return_exceptions=True)

        assert provider.scheduler.queued == waiting - 1
    await asyncio.gather(*tasks[:-1])
    for stream in streams:
        await stream.aclose()


# ---- through the server ---------------------------------------------------------------------------------
