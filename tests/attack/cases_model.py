"""Items 4 and 5 of issue 13: the embedded model's queue and grammars, and cost that is never booked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
from orchestrator_client.v1 import generation_pb2 as gen

from tests.attack.harness import Bystanders, Result, Tally, ask, expect, metric_sum, outcome_of, probe
from tests.fakes import Behaviour

C = grpc.StatusCode
LOCAL = "smollm2-135m-instruct"
BAD_GRAMMARS = {
    "self": {"$ref": "#"},
    "loop": {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"},
    "allOf": {"allOf": [{"type": "object", "properties": {"x": {"type": "string"}}}, {"required": ["x"]}]},
}


def local_json(schema: dict[str, Any], tokens: int = 32) -> gen.GenerateRequest:
    request = ask("Give me a JSON object.", model=LOCAL, output_format=gen.OUTPUT_FORMAT_JSON)
    request.params.max_output_tokens = tokens
    request.json_schema.update(schema)
    return request


async def _bad_grammar(env: Any, tally: Tally, name: str) -> None:
    service = await env.service("local")
    assert service.client is not None
    call = service.client.generate(local_json(BAD_GRAMMARS[name]), timeout=30)
    await probe(tally, call, expect(C.INVALID_ARGUMENT), 10, 3)


async def grammar_self_ref(env: Any, tally: Tally) -> None:
    await _bad_grammar(env, tally, "self")


async def grammar_ref_loop(env: Any, tally: Tally) -> None:
    await _bad_grammar(env, tally, "loop")


async def grammar_all_of(env: Any, tally: Tally) -> None:
    await _bad_grammar(env, tally, "allOf")


async def wedged_calls_lock_everyone_out(env: Any, tally: Tally) -> None:
    """Eight calls whose grammar cannot be built, behind routing.max_concurrent_requests: 8."""
    service = await env.service("local-limited")
    assert service.client is not None
    calls = [
        asyncio.ensure_future(
            probe(
                tally,
                service.client.generate(local_json(BAD_GRAMMARS["self"]), timeout=60),
                expect(C.INVALID_ARGUMENT),
                15,
                3,
            )
        )
        for _ in range(8)
    ]
    await asyncio.sleep(1)
    async with Bystanders(service, env.fake) as others:
        await asyncio.sleep(5)
    others.report(tally)
    await asyncio.gather(*calls)


async def local_stream_flood(env: Any, tally: Tally, streams: int = 1000) -> None:
    """Many concurrent streams to the embedded model: queue time must not count as a stalled stream."""
    service = await env.service("local")
    assert service.client is not None
    client = service.client
    # OK, or refused up front with RESOURCE_EXHAUSTED and a RetryInfo: both are clean.
    refused = expect(C.OK, C.RESOURCE_EXHAUSTED)

    async def one(i: int) -> Result:
        request = ask(f"Say the number {i}.", model=LOCAL)
        request.params.max_output_tokens = 4
        return await outcome_of(_drain(client.stream_generate(request, timeout=150)))

    async def counted(i: int) -> None:
        await probe(tally, one(i), refused, 160, 160)

    await asyncio.gather(*[counted(i) for i in range(streams)])
    models = await client.generation.ListModels(gen.ListModelsRequest(), timeout=10)
    states = {m.name: m.circuit_state for m in models.models}
    if states.get(LOCAL) == gen.CIRCUIT_STATE_OPEN:
        tally.note("the breaker opened on our own queue", failing=True)


async def _drain(events: Any) -> int:
    return len([event async for event in events])


def _cost_booked(metrics_port: int, model: str) -> float:
    return metric_sum(metrics_port, "llm_request_cost_dollars_total", model=model)


async def unsatisfiable_schema_cost(env: Any, tally: Tally) -> None:
    service = await env.service()
    assert service.client is not None
    env.fake.set_default(Behaviour(text='{"x": "y"}'), model="primary")
    before = await asyncio.to_thread(_cost_booked, service.metrics_port, "primary")
    request = ask("answer with JSON", output_format=gen.OUTPUT_FORMAT_JSON, request_id="attack-unsatisfiable")
    request.json_schema.update({"type": "object", "required": ["x"], "properties": {"x": {"const": "never"}}})
    result = await probe(tally, service.client.generate(request, timeout=30), expect(C.FAILED_PRECONDITION), 10, 5)
    if result is None or result.code != C.FAILED_PRECONDITION:
        return
    paid = env.fake.request_count
    booked = await asyncio.to_thread(_cost_booked, service.metrics_port, "primary") - before
    logged = [json.loads(line) for line in service.log_text().splitlines() if "attack-unsatisfiable" in line]
    attempts = logged[-1].get("attempts") if logged else None
    cost = logged[-1].get("cost_usd", 0) if logged else 0
    if not (booked > 0 and cost > 0 and attempts == paid):
        tally.clean -= 1
        tally.other += 1
        tally.note(f"{paid} paid calls; logged attempts={attempts} cost=${cost}; metrics +${booked:.6f}", True)


CASES = [
    ("4", 'embedded: schema {"$ref": "#"}', grammar_self_ref),
    ("4", "embedded: $ref loop", grammar_ref_loop),
    ("4", "embedded: allOf", grammar_all_of),
    ("4", "embedded: 8 wedged, limit 8", wedged_calls_lock_everyone_out),
    ("4", "embedded: 1,000 concurrent streams", local_stream_flood),
    ("5", "unsatisfiable schema: cost booked", unsatisfiable_schema_cost),
]
