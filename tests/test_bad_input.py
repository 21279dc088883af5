"""Hostile input is the caller's error, never ours: INVALID_ARGUMENT naming the field, a status that always fits the
caller's metadata limit, RESOURCE_EXHAUSTED for a request that runs the process out of memory; never INTERNAL."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2, templates_pb2
from orchestrator_client.v1 import generation_pb2 as gen

from orchestrator.api.handlers import add_service
from orchestrator.api.status import unary
from orchestrator.domain import Caller
from tests.helpers import ErrorDetails


async def failing(call: object) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return ErrorDetails(caught.value)


def ask(**fields: object) -> gen.GenerateRequest:
    return gen.GenerateRequest(messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content="hi")], **fields)


def nested(depth: int) -> struct_pb2.Struct:
    root = struct_pb2.Struct()
    node = root
    for _ in range(depth):
        node = node.fields["a"].struct_value
    node.fields["leaf"].string_value = "x"
    return root


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [(253_402_300_800, 0), (-62_135_596_801, 0), (0, -1), (0, 1_000_000_000)],
    ids=["after-9999", "before-0001", "negative-nanos", "nanos-overflow"],
)
async def test_an_out_of_range_context_timestamp_names_the_field(
    client: OrchestratorClient, seconds: int, nanos: int
) -> None:
    request = ask()
    item = request.context.add(content="notes")
    item.timestamp.seconds, item.timestamp.nanos = seconds, nanos

    error = await failing(client.generate(request, timeout=10))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert list(error.field_violations) == ["context[0].timestamp"]


async def test_a_non_finite_relevance_score_names_the_field(client: OrchestratorClient) -> None:
    request = ask()
    request.context.add(content="notes", relevance_score=math.nan)

    error = await failing(client.generate(request, timeout=10))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert list(error.field_violations) == ["context[0].relevance_score"]


@pytest.mark.parametrize("max_cost", [math.nan, -0.01, math.inf])
async def test_a_nan_or_negative_cost_cap_is_refused_not_ignored(client: OrchestratorClient, max_cost: float) -> None:
    error = await failing(client.generate(ask(selection=gen.ModelSelection(max_cost_usd=max_cost)), timeout=10))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert list(error.field_violations) == ["selection.max_cost_usd"]


@pytest.mark.parametrize("field", ["variables", "json_schema"])
async def test_structs_nested_too_deep_are_refused_naming_the_field(client: OrchestratorClient, field: str) -> None:
    request = gen.GenerateRequest(template_id="code_generation")
    getattr(request, field).CopyFrom(nested(25))

    error = await failing(client.generate(request, timeout=10))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert len(error.field_violations) == 1
    (path,) = error.field_violations
    assert path.startswith(f"{field}.a.a.")
    assert "nested more than" in error.field_violations[path]


async def test_structs_nested_within_the_cap_are_accepted(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(template_id="no_such_template")
    request.variables.CopyFrom(nested(18))

    error = await failing(client.generate(request, timeout=10))

    assert error.code == grpc.StatusCode.NOT_FOUND  # past conversion: the depth was fine


async def test_a_huge_template_id_is_echoed_cut_short(client: OrchestratorClient) -> None:
    huge = "t" * (1024 * 1024)

    error = await failing(client.templates.GetTemplate(templates_pb2.GetTemplateRequest(template_id=huge), timeout=10))

    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.reason == "TEMPLATE_NOT_FOUND"
    assert len(error.message.encode()) <= 1024
    assert error.metadata["template_id"].startswith("tttt")
    assert error.metadata["template_id"].endswith("…")
    assert len(error.metadata["template_id"].encode()) <= 256


async def test_thousands_of_long_bad_fields_still_give_a_status_that_fits(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(template_id="code_generation")
    for i in range(2000):
        request.variables.fields[f"{i:04d}" + "é" * 300].number_value = math.nan

    error = await failing(client.generate(request, timeout=10))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert 1 <= len(error.field_violations) <= 20
    assert all(len(field.encode()) <= 256 for field in error.field_violations)


class _Exhausting(health_pb2_grpc.HealthServicer):
    """A servicer method in the real status wrapper whose work runs out of memory, like a huge allocation would."""

    @unary
    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> None:
        raise MemoryError


@pytest_asyncio.fixture
async def exhausting_target() -> AsyncIterator[str]:
    server = grpc.aio.server()
    health = health_pb2.DESCRIPTOR.services_by_name["Health"]
    add_service(server, _Exhausting(), health, lambda credentials: Caller())
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    yield f"127.0.0.1:{port}"
    await server.stop(0)


async def test_memory_error_in_a_handler_is_resource_exhausted_and_the_server_lives(exhausting_target: str) -> None:
    async with grpc.aio.insecure_channel(exhausting_target) as channel:
        health = health_pb2_grpc.HealthStub(channel)
        for _ in range(2):
            error = await failing(health.Check(health_pb2.HealthCheckRequest(), timeout=5))

            assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert error.reason == "OUT_OF_MEMORY"
