"""JSON and JSON-Schema output: extraction, validation, re-asking the model, falling back; context pruning."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
import pytest_asyncio
from google.protobuf import json_format
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import generation_pb2 as gen

from tests.fakes import Behaviour, FakeUpstream
from tests.helpers import ErrorDetails
from tests.routing_env import ask, routed_server

pytestmark = pytest.mark.timeout(60)

TASK_SCHEMA = {
    "type": "object",
    "properties": {
        "tasks": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "complexity": {"type": "string", "enum": ["low", "medium", "high"]},
                    "suggested_role": {"type": "string"},
                },
                "required": ["title", "description", "complexity", "suggested_role"],
            },
        },
        "dependencies": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"from_task": {"type": "string"}, "to_task": {"type": "string"}},
                "required": ["from_task", "to_task"],
            },
        },
    },
    "required": ["tasks"],
}
VALID = {
    "tasks": [
        {"title": "Schema", "description": "Design tables", "complexity": "low", "suggested_role": "SA"},
        {"title": "API", "description": "Build endpoints", "complexity": "medium", "suggested_role": "RD"},
    ],
    "dependencies": [{"from_task": "Schema", "to_task": "API"}],
}
INVALID = {"tasks": [{"title": "API", "complexity": "enormous"}]}


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


def with_schema(request: gen.GenerateRequest, schema: dict = TASK_SCHEMA) -> gen.GenerateRequest:
    request.json_schema.update(schema)
    return request


def fenced(value: object) -> str:
    return f"Here is the breakdown:\n```json\n{json.dumps(value)}\n```\nLet me know if you need more."


async def test_invalid_json_then_valid_json_is_a_success_with_two_attempts(fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(text=fenced(INVALID)), Behaviour(text=fenced(VALID)), model="primary")

    async with routed_server(fake) as client:
        answer = await client.generate(with_schema(ask("Break down: login page")))

    assert json_format.MessageToDict(answer.structured) == VALID
    assert [(a.model, a.outcome) for a in answer.attempts] == [
        ("primary", gen.ATTEMPT_OUTCOME_INVALID_OUTPUT),
        ("primary", gen.ATTEMPT_OUTCOME_SUCCESS),
    ]
    reask = fake.requests[1].body["messages"]
    assert reask[-2]["role"] == "assistant" and "enormous" in reask[-2]["content"]
    assert "'description' is a required property" in reask[-1]["content"]


async def test_usage_and_cost_count_every_try(fake: FakeUpstream) -> None:
    fake.enqueue(
        Behaviour(text=fenced(INVALID), completion_tokens=7, prompt_tokens=100),
        Behaviour(text=fenced(VALID), completion_tokens=11, prompt_tokens=150),
        model="primary",
    )

    async with routed_server(fake) as client:
        answer = await client.generate(with_schema(ask()))

    assert (answer.usage.input_tokens, answer.usage.output_tokens) == (250, 18)
    assert answer.usage.cost_usd == pytest.approx(250 * 1.0 / 1_000_000)


async def test_a_model_that_never_complies_falls_back_to_the_next(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text=fenced(INVALID)), model="primary")
    fake.set_default(Behaviour(text=json.dumps(VALID)), model="fallback")

    async with routed_server(fake, schema_reasks=2) as client:
        answer = await client.generate(with_schema(ask()))

    assert answer.model == "fallback"
    assert [a.model for a in answer.attempts] == ["primary"] * 3 + ["fallback"]
    assert answer.structured.struct_value["dependencies"][0]["to_task"] == "API"


async def test_when_no_model_complies_the_error_carries_the_last_validation_errors(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text=fenced(INVALID)))

    async with routed_server(fake, schema_reasks=1) as client:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(with_schema(ask()))

    error = ErrorDetails(caught.value)
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION  # not UNAVAILABLE: a blind retry repeats paid tries
    assert error.reason == "INVALID_MODEL_OUTPUT"
    assert "'enormous' is not one of ['low', 'medium', 'high']" in error.message
    assert "after 4 attempts" in error.message  # primary twice, fallback twice
    assert len(fake.requests) == 4


async def test_json_output_without_schema_accepts_arrays_and_rejects_prose(fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(text="Sure: [1, 2, 3] is the list."), Behaviour(text="I cannot do that."))

    async with routed_server(fake) as client:
        request = ask()
        request.output_format = gen.OUTPUT_FORMAT_JSON
        answer = await client.generate(request)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await client.generate(request)

    assert [v.number_value for v in answer.structured.list_value.values] == [1, 2, 3]
    assert ErrorDetails(caught.value).reason == "INVALID_MODEL_OUTPUT"


async def test_the_seed_requirement_breakdown_end_to_end_with_native_schema(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text=json.dumps(VALID)))
    async with routed_server(fake) as client:
        request = with_schema(
            gen.GenerateRequest(
                task_type="requirement_analysis",
                template_id="requirement_breakdown",
                selection=gen.ModelSelection(preferred_model="primary", required_capabilities=["chat"]),
            )
        )
        request.variables.update({"requirement": "Users can reset their password by email."})
        answer = await client.generate(request)

    body = fake.requests[0].body
    assert "Users can reset their password by email." in body["messages"][-1]["content"]
    assert answer.template_id == "requirement_breakdown"
    assert answer.structured.struct_value["tasks"][0]["suggested_role"] == "SA"


async def test_streamed_json_sends_deltas_and_a_validated_final_event(fake: FakeUpstream) -> None:
    fake.set_default(Behaviour(text=json.dumps(VALID), chunks=6))

    async with routed_server(fake) as client:
        events = [e async for e in client.stream_generate(with_schema(ask()))]

    deltas = [e.delta.text for e in events if e.WhichOneof("event") == "delta"]
    assert len(deltas) == 6 and json.loads("".join(deltas)) == VALID
    assert events[-1].final.structured.struct_value["tasks"][0]["title"] == "Schema"


def item(content: str, relevance: float, age_days: int = 0, source: str = "") -> common_pb2.ContextItem:
    context = common_pb2.ContextItem(content=content, relevance_score=relevance, source=source)
    context.timestamp.FromDatetime(datetime(2026, 11, 1, tzinfo=UTC) - timedelta(days=age_days))
    return context


async def test_context_is_pruned_to_the_models_budget_and_reported(fake: FakeUpstream) -> None:
    filler = "lorem ipsum dolor sit amet " * 30  # ~150 tokens an item
    request = ask("Summarise the context.", preferred="small", fallbacks=(), capability="long")
    request.context.extend(
        [
            item("IRRELEVANT " + filler, 0.1, source="a.md"),
            item("KEY FACT " + filler, 0.9, source="b.md"),
            item("SECOND FACT short", 0.5, source="c.md"),
        ]
    )
    request.context_strategy = gen.CONTEXT_STRATEGY_RELEVANCE
    request.params.max_output_tokens = 32

    async with routed_server(fake) as client:
        answer = await client.generate(request)

    sent = fake.requests[0].body["messages"][-1]["content"]
    assert answer.model == "small"
    assert (answer.context_items_used, answer.context_items_dropped) == (2, 1)
    assert "KEY FACT" in sent and "SECOND FACT" in sent and "IRRELEVANT" not in sent
    assert sent.index("KEY FACT") < sent.index("SECOND FACT")  # survivors keep the caller's order
    assert "[source: b.md]" in sent


async def test_context_is_pruned_again_for_a_fallback_with_a_smaller_window(fake: FakeUpstream) -> None:
    fake.enqueue(Behaviour(status=500), Behaviour(status=500), Behaviour(status=500), model="large")
    request = ask("Summarise.", preferred="large", fallbacks=("small",), capability="long")
    request.context.extend([item(f"ITEM{i} " + "word " * 60, 0.9 - i / 10, age_days=i) for i in range(6)])

    async with routed_server(fake) as client:
        answer = await client.generate(request)

    to_large = fake.requests_for("large")[0].body["messages"][-1]["content"]
    to_small = fake.requests_for("small")[0].body["messages"][-1]["content"]
    assert answer.model == "small"
    assert all(f"ITEM{i}" in to_large for i in range(6))
    assert 0 < answer.context_items_used < 6 and answer.context_items_dropped == 6 - answer.context_items_used
    assert "ITEM0" in to_small and "ITEM5" not in to_small


SMALL_TASK_SCHEMA = {
    "type": "object",
    "required": ["tasks"],
    "properties": {
        "tasks": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "required": ["title", "complexity"],
                "properties": {
                    "title": {"type": "string", "maxLength": 40},
                    "complexity": {"enum": ["low", "medium", "high"]},
                },
            },
        }
    },
}


async def test_the_embedded_model_breaks_down_a_requirement_into_schema_valid_json(client: OrchestratorClient) -> None:
    request = gen.GenerateRequest(
        task_type="requirement_analysis",
        template_id="requirement_breakdown",
        params=gen.GenerationParams(max_output_tokens=200, temperature=0.0),
    )
    request.variables.update({"requirement": "Users can reset their password by email."})
    request.json_schema.update(SMALL_TASK_SCHEMA)

    answer = await client.generate(request)

    tasks = json_format.MessageToDict(answer.structured)["tasks"]
    assert answer.model == "smollm2-135m-instruct"
    assert 1 <= len(tasks) <= 3
    assert all(task["complexity"] in ("low", "medium", "high") and task["title"] for task in tasks)
    assert answer.attempts[-1].outcome == gen.ATTEMPT_OUTCOME_SUCCESS
