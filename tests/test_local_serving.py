"""The embedded model behind the gRPC server: a bounded queue answered with RESOURCE_EXHAUSTED, queue and
slots metered, queued time not counted as idle, a wedged scheduler reported by health, grammars refused.

A wedged decode is made by holding the scheduler's context lock (the lock every llama.cpp call takes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.api.server import OrchestratorServer
from orchestrator.providers.local import LocalProvider
from tests.helpers import ErrorDetails, local_settings, served_in_process
from tests.local_env import BAD_SCHEMAS, until, wedged

pytestmark = pytest.mark.timeout(240)

IDLE_SECONDS = 5.0  # generous: steps slow down a lot when other processes share the two cores


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
    async with served_in_process(settings, timeout=120) as both:
        yield both


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
