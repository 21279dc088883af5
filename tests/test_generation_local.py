"""Generate / StreamGenerate / CountTokens / ListModels against the embedded model, through the client helper."""

from __future__ import annotations

from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen

SHORT = gen.GenerationParams(max_output_tokens=24, temperature=0.0)


def code_request(**fields: object) -> gen.GenerateRequest:
    request = gen.GenerateRequest(task_type="code_generation", template_id="code_generation", params=SHORT, **fields)
    request.variables.update({"requirement": "a function that reverses a string", "language": "python"})
    return request


async def test_generate_renders_the_template_and_answers_with_usage(client: OrchestratorClient) -> None:
    response = await client.generate(code_request(request_id="req-1"))

    assert response.request_id == "req-1"
    assert response.text.strip()
    assert response.model == "smollm2-135m-instruct"
    assert response.provider == "local"
    assert response.usage.input_tokens > 50  # the seed's system message and user template were sent
    assert 0 < response.usage.output_tokens <= 24
    assert not response.usage.estimated
    assert response.finish_reason in (gen.FINISH_REASON_STOP, gen.FINISH_REASON_LENGTH)
    assert response.template_id == "code_generation"
    assert response.template_version == "1.0"
    assert [a.outcome for a in response.attempts] == [gen.ATTEMPT_OUTCOME_SUCCESS]
    assert response.latency_ms > 0


async def test_generate_without_request_id_gets_a_generated_one(client: OrchestratorClient) -> None:
    response = await client.generate(code_request())

    assert len(response.request_id) == 32


async def test_generate_with_raw_messages(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(
        messages=[common_pb2.Message(role=common_pb2.ROLE_USER, content="Say hello.")], params=SHORT
    )

    response = await client.generate(request)

    assert response.text.strip()
    assert response.template_id == ""
    assert response.usage.input_tokens > 0


async def test_stream_generate_sends_start_then_deltas_then_final(client: OrchestratorClient) -> None:
    events = [event async for event in client.stream_generate(code_request(request_id="stream-1"))]

    kinds = [event.WhichOneof("event") for event in events]
    assert kinds[0] == "start"
    assert kinds[-1] == "final"
    assert set(kinds[1:-1]) == {"delta"} and len(kinds) > 3
    start, final = events[0].start, events[-1].final
    assert (start.request_id, start.model, start.provider) == ("stream-1", "smollm2-135m-instruct", "local")
    text = "".join(event.delta.text for event in events[1:-1])
    assert text.strip()
    assert final.text == ""  # the deltas carried it
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0
    assert final.finish_reason != gen.FINISH_REASON_UNSPECIFIED


async def test_streamed_and_unary_answers_agree_at_temperature_zero(client: OrchestratorClient) -> None:
    unary = await client.generate(code_request())
    events = [e async for e in client.stream_generate(code_request())]

    streamed = "".join(e.delta.text for e in events if e.WhichOneof("event") == "delta")
    assert streamed == unary.text
    assert events[-1].final.usage.output_tokens == unary.usage.output_tokens


async def test_code_output_format_extracts_the_fenced_block(client: OrchestratorClient) -> None:
    request = code_request(output_format=gen.OUTPUT_FORMAT_CODE)
    request.params.max_output_tokens = 120

    response = await client.generate(request)

    assert "```" in response.text
    assert response.code and "```" not in response.code
    assert response.code in response.text


async def test_count_tokens_uses_the_models_tokenizer(client: OrchestratorClient) -> None:
    short = await client.generation.CountTokens(gen.CountTokensRequest(text="hello"), timeout=10)
    longer = await client.generation.CountTokens(gen.CountTokensRequest(text="hello " * 50), timeout=10)

    assert short.model == "smollm2-135m-instruct"
    assert not short.estimated
    assert 0 < short.token_count < longer.token_count


async def test_list_models_shows_the_embedded_model(client: OrchestratorClient) -> None:
    response = await client.generation.ListModels(gen.ListModelsRequest(), timeout=10)

    (model,) = response.models
    assert model.name == "smollm2-135m-instruct"
    assert model.provider == "local"
    assert model.context_window == 4096
    assert "code_generation" in model.capabilities
    assert "local" in model.aliases
    assert model.circuit_state == gen.CIRCUIT_STATE_CLOSED
