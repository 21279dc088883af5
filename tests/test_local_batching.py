"""The embedded model serving many callers at once: shared decode steps, a bounded queue, grammars refused
before queueing, cancelled streams freed, and a wedged scheduler reported.

Batching must not change what one caller gets: at temperature 0 every concurrent answer is the answer the
same prompt gets alone (llama.cpp computes each sequence's row of logits from its own KV cells).
A wedged decode is made by holding the scheduler's context lock (the lock every llama.cpp call takes).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.api.server import OrchestratorServer
from orchestrator.config import ProviderSettings
from orchestrator.domain import ChatMessage, FinishReason, SamplingParams, TextDelta
from orchestrator.errors import InvalidArgumentError, Reason
from orchestrator.providers.base import Completion, ProviderRequest
from orchestrator.providers.local import LocalProvider
from orchestrator.providers.local.scheduler import Scheduler
from orchestrator.providers.local.text import TextStream
from tests.helpers import ErrorDetails, local_settings

pytestmark = pytest.mark.timeout(240)

TASKS = ["reverses a string", "adds two numbers", "sorts a list", "counts vowels", "checks for a palindrome",
         "computes a factorial", "finds the largest number", "merges two dictionaries"]  # fmt: skip
IDLE_SECONDS = 5.0  # generous: steps slow down a lot when other processes share the two cores
BAD_SCHEMAS = {
    "self reference": {"$ref": "#"},
    "reference loop": {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
    "allOf over strings": {"allOf": [{"type": "string"}, {"minLength": 2}]},
    "whole-schema recursion": {"type": "object", "properties": {"child": {"$ref": "#"}}},
    "huge repetition": {"type": "array", "items": {"type": "integer"}, "minItems": 100_000_000},
}


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


@contextlib.contextmanager
def wedged(scheduler: Scheduler) -> Iterator[None]:
    """No decode step can run while this holds the context lock (as if llama_decode never returned)."""
    scheduler.context_lock.acquire()
    try:
        yield
    finally:
        scheduler.context_lock.release()


async def until(condition: Callable[[], Awaitable[bool] | bool]) -> None:
    """Polls a condition the scheduler thread changes (it has no event to wait on); the test timeout bounds it."""
    for _ in itertools.count():
        done = condition()
        if done if isinstance(done, bool) else await done:
            return
        await asyncio.sleep(0.05)


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


@contextlib.asynccontextmanager
async def serving(stall_seconds: float) -> AsyncIterator[tuple[OrchestratorServer, OrchestratorClient]]:
    """Two sequences, one waiting place, one thread, a short stream idle timeout."""
    local = {
        "type": "local",
        "n_ctx": 1024,
        "max_batch": 2,
        "max_queue": 1,
        "n_threads": 1,
        "stall_seconds": stall_seconds,
    }
    settings = local_settings(providers={"local": local}, routing={"stream_idle_timeout_seconds": IDLE_SECONDS})
    server = await OrchestratorServer.create(settings)
    await server.start()
    try:
        async with OrchestratorClient(f"127.0.0.1:{server.port}", default_timeout=120) as client:
            yield server, client
    finally:
        await server.shutdown()


@pytest_asyncio.fixture(scope="module")
async def small() -> AsyncIterator[tuple[OrchestratorServer, OrchestratorClient]]:
    async with serving(stall_seconds=600) as both:
        yield both


@pytest_asyncio.fixture(scope="module")
async def stalling() -> AsyncIterator[tuple[OrchestratorServer, OrchestratorClient]]:
    """Not serving after one second without a decode step."""
    async with serving(stall_seconds=1.0) as both:
        yield both


def local_of(server: OrchestratorServer) -> LocalProvider:
    assert server.app is not None
    router = server.app.models._router
    provider = router.provider(router.catalog.ordered()[0])
    assert isinstance(provider, LocalProvider)
    return provider


def raw(text: str, max_tokens: int = 8) -> gen.GenerateRequest:
    return gen.GenerateRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content=text)],
        params=gen.GenerationParams(max_output_tokens=max_tokens, temperature=0.0),
    )


async def streamed(client: OrchestratorClient, request: gen.GenerateRequest) -> list[gen.StreamGenerateResponse]:
    return [event async for event in client.stream_generate(request)]


async def is_open(client: OrchestratorClient) -> bool:
    return await circuit(client) == gen.CIRCUIT_STATE_OPEN


async def health_is(probe: health_pb2_grpc.HealthStub, status: int) -> bool:
    answer = await probe.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    return answer.status == status


async def circuit(client: OrchestratorClient) -> int:
    (model,) = (await client.generation.ListModels(gen.ListModelsRequest(), timeout=10)).models
    return model.circuit_state


async def test_beyond_the_queue_callers_get_resource_exhausted_with_retry_info_and_the_breaker_stays_closed(
    small: tuple[OrchestratorServer, OrchestratorClient],
) -> None:
    server, client = small
    scheduler = local_of(server).scheduler
    with wedged(scheduler):
        admitted = [asyncio.create_task(streamed(client, raw(f"Say {word}."))) for word in ("one", "two", "three")]
        await until(lambda: scheduler.queued + scheduler.running == 3)
        refusals = []
        for _ in range(8):  # more than the breaker's failure threshold
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await streamed(client, raw("Say four."))
            refusals.append(ErrorDetails(refused.value))
        state_while_full = await circuit(client)
    answers = await asyncio.gather(*admitted)

    assert {r.code for r in refusals} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    assert {r.reason for r in refusals} == {"OVERLOADED"}
    assert all(r.retry_delay is not None and r.retry_delay > 0 for r in refusals)
    assert state_while_full == gen.CIRCUIT_STATE_CLOSED
    assert all(events[-1].WhichOneof("event") == "final" for events in answers)


async def test_the_queue_the_running_sequences_and_reused_prompt_tokens_are_metered(
    small: tuple[OrchestratorServer, OrchestratorClient],
) -> None:
    server, client = small
    scheduler, registry = local_of(server).scheduler, server.metrics.registry
    labels = {"provider": "local"}

    def sample(name: str) -> float | None:
        return registry.get_sample_value(name, labels)

    def load() -> tuple[float | None, float | None]:
        return sample("orchestrator_embedded_running_sequences"), sample("orchestrator_embedded_queued_requests")

    await streamed(client, raw("Name a colour."))
    reused_before = sample("orchestrator_embedded_reused_prompt_tokens_total") or 0.0
    with wedged(scheduler):
        calls = [asyncio.create_task(streamed(client, raw(f"Name a {it}."))) for it in ("colour", "fruit", "tree")]
        await until(lambda: scheduler.queued + scheduler.running == 3)
        while_full, seen_by_scheduler = load(), (scheduler.running, scheduler.queued)
    await asyncio.gather(*calls)
    after = load()
    reused = (sample("orchestrator_embedded_reused_prompt_tokens_total") or 0.0) - reused_before

    # Which of the three hold a slot depends on when the wedged thread last admitted; together they are three.
    assert while_full == seen_by_scheduler and sum(seen_by_scheduler) == 3 and after == (0, 0)
    assert reused > 0  # "Name a colour." again: its whole prompt but the last token was kept


async def test_time_spent_queued_is_not_idle_time(small: tuple[OrchestratorServer, OrchestratorClient]) -> None:
    server, client = small
    scheduler = local_of(server).scheduler
    with wedged(scheduler):
        calls = [asyncio.create_task(streamed(client, raw(f"Say {word}."))) for word in ("one", "two", "three")]
        await until(lambda: scheduler.queued + scheduler.running == 3)
        await asyncio.sleep(2 * IDLE_SECONDS)  # twice the stream idle timeout, all of it waiting for the scheduler
    answers = await asyncio.gather(*calls)

    assert all(events[-1].WhichOneof("event") == "final" for events in answers)


async def test_a_wedged_scheduler_makes_the_model_not_serving_until_it_moves_again(
    stalling: tuple[OrchestratorServer, OrchestratorClient],
) -> None:
    server, client = stalling
    scheduler = local_of(server).scheduler
    probe = health_pb2_grpc.HealthStub(client.channel)
    before = await circuit(client)
    with wedged(scheduler):
        stuck = asyncio.create_task(streamed(client, raw("Say one.")))
        await until(lambda: is_open(client))  # after stall_seconds without a decode step
        with pytest.raises(grpc.aio.AioRpcError) as skipped:
            await client.generate(raw("Say two."))
        await until(lambda: health_is(probe, health_pb2.HealthCheckResponse.NOT_SERVING))  # what liveness probes see
    events = await stuck
    await until(lambda: health_is(probe, health_pb2.HealthCheckResponse.SERVING))

    assert before == gen.CIRCUIT_STATE_CLOSED
    assert skipped.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "not serving" in ErrorDetails(skipped.value).message or "open" in ErrorDetails(skipped.value).message
    assert events[-1].WhichOneof("event") == "final"
    assert await circuit(client) == gen.CIRCUIT_STATE_CLOSED


@pytest.mark.parametrize("name", BAD_SCHEMAS)
async def test_a_schema_without_a_grammar_is_invalid_argument(
    name: str, small: tuple[OrchestratorServer, OrchestratorClient]
) -> None:
    server, client = small
    request = raw("List two tasks as JSON.")
    request.json_schema.update(BAD_SCHEMAS[name])

    with wedged(local_of(server).scheduler), pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.generate(request, timeout=30)

    details = ErrorDetails(refused.value)
    assert details.code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.reason == "INVALID_JSON_SCHEMA"
    assert any(field.startswith("json_schema") for field in details.field_violations)
