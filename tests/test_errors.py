"""Bad input gets the right status, a google.rpc ErrorInfo reason and field violations; the server keeps serving."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import struct_pb2
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen

from tests.helpers import ErrorDetails


async def call_failing(client: OrchestratorClient, request: gen.GenerateRequest) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await client.generate(request, timeout=10)
    return ErrorDetails(caught.value)


async def assert_still_serving(client: OrchestratorClient) -> None:
    models = await client.generation.ListModels(gen.ListModelsRequest(), timeout=5)
    assert models.models


async def test_missing_required_variable_is_invalid_argument_naming_the_variable(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(template_id="code_generation")
    request.variables.update({"language": "go"})

    error = await call_failing(client, request)

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "MISSING_TEMPLATE_VARIABLES"
    assert list(error.field_violations) == ["variables.requirement"]
    assert "requirement" in error.message
    await assert_still_serving(client)


async def test_unknown_template_is_not_found(client: OrchestratorClient) -> None:
    error = await call_failing(client, gen.GenerateRequest(template_id="no_such_template"))

    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.reason == "TEMPLATE_NOT_FOUND"
    assert error.metadata == {"template_id": "no_such_template"}
    await assert_still_serving(client)


async def test_unknown_template_version_is_not_found(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(template_id="code_generation", template_version="9.9")
    request.variables.update({"requirement": "x"})

    error = await call_failing(client, request)

    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.metadata == {"template_id": "code_generation", "version": "9.9"}


async def test_malformed_struct_value_is_invalid_argument(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(template_id="code_generation")
    request.variables.fields["requirement"].CopyFrom(struct_pb2.Value())  # a Value with no kind set
    request.variables.fields["limits"].struct_value.fields["depth"].CopyFrom(struct_pb2.Value())

    error = await call_failing(client, request)

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_REQUEST"
    assert set(error.field_violations) == {"variables.requirement", "variables.limits.depth"}
    await assert_still_serving(client)


async def test_empty_request_is_invalid_argument(client: OrchestratorClient) -> None:
    error = await call_failing(client, gen.GenerateRequest())

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "EMPTY_REQUEST"
    assert set(error.field_violations) == {"template_id", "messages"}


async def test_unknown_enum_values_and_bad_params_are_each_reported(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_UNSPECIFIED, content="hi")],
        output_format=42,  # type: ignore[arg-type]  # an enum value this server does not know
        params=gen.GenerationParams(temperature=3.5, stop=["a", "b", "c", "d", "e"]),
    )

    error = await call_failing(client, request)

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(error.field_violations) == {"messages[0].role", "output_format", "params.temperature", "params.stop"}


async def test_unknown_preferred_model_is_not_found(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content="hi")],
        selection=gen.ModelSelection(preferred_model="gpt-17"),
    )

    error = await call_failing(client, request)

    assert error.code == grpc.StatusCode.NOT_FOUND
    assert error.reason == "MODEL_NOT_FOUND"
    assert "selection.preferred_model" in error.field_violations


async def test_unsatisfiable_capabilities_are_failed_precondition(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content="hi")],
        selection=gen.ModelSelection(required_capabilities=["image_generation"]),
    )

    error = await call_failing(client, request)

    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.reason == "NO_ELIGIBLE_MODEL"
    assert "image_generation" in error.message


async def test_invalid_json_schema_is_rejected_before_any_model_call(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content="hi")])
    request.json_schema.update({"type": "not-a-type"})

    error = await call_failing(client, request)

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_JSON_SCHEMA"
    assert "json_schema.type" in error.field_violations  # the bad keyword itself is named


async def test_stream_error_before_the_first_delta_is_a_status(client: OrchestratorClient) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in client.stream_generate(gen.GenerateRequest(template_id="no_such_template"), timeout=10):
            pytest.fail("no event may arrive for a request that fails before the model is called")

    assert ErrorDetails(caught.value).reason == "TEMPLATE_NOT_FOUND"


async def test_undecodable_request_bytes_are_invalid_argument(client: OrchestratorClient) -> None:
    call = client.channel.unary_unary(
        "/orchestrator.v1.GenerationService/Generate",
        request_serializer=lambda raw: raw,
        response_deserializer=gen.GenerateResponse.FromString,
    )

    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call(b"\x0a\xff\xff\xff\xff\x0f", timeout=5)  # a length-delimited field longer than the message

    error = ErrorDetails(caught.value)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "MALFORMED_REQUEST"
    await assert_still_serving(client)
