"""Item 9 of issue 13: bad input that came back INTERNAL (or worse)."""

from __future__ import annotations

import math
from typing import Any

import grpc
from google.protobuf import struct_pb2
from orchestrator_client.v1 import generation_pb2 as gen
from orchestrator_client.v1 import templates_pb2

from tests.attack.cases_templates import create_then_render, template
from tests.attack.harness import Result, Tally, ask, expect, probe

C = grpc.StatusCode
INVALID = expect(C.INVALID_ARGUMENT)


async def _invalid(env: Any, tally: Tally, request: gen.GenerateRequest, no_upstream: bool = True) -> None:
    service = await env.service()
    assert service.client is not None
    result = await probe(tally, service.client.generate(request, timeout=30), INVALID, 10, 2)
    if result is not None and no_upstream and env.fake.request_count:
        tally.note(f"{env.fake.request_count} paid upstream calls before the error", failing=True)


async def timestamp_year_10000(env: Any, tally: Tally) -> None:
    request = ask()
    request.context.add(content="notes").timestamp.seconds = 253_402_300_800
    await _invalid(env, tally, request)


async def timestamp_negative_nanos(env: Any, tally: Tally) -> None:
    request = ask()
    request.context.add(content="notes").timestamp.nanos = -1
    await _invalid(env, tally, request)


async def nan_max_cost(env: Any, tally: Tally) -> None:
    await _invalid(env, tally, ask(selection=gen.ModelSelection(preferred_model="primary", max_cost_usd=math.nan)))


async def negative_max_cost(env: Any, tally: Tally) -> None:
    await _invalid(env, tally, ask(selection=gen.ModelSelection(preferred_model="primary", max_cost_usd=-1)))


def _nested(depth: int) -> struct_pb2.Struct:
    root = struct_pb2.Struct()
    node = root
    for _ in range(depth):
        node = node.fields["a"].struct_value
    node.fields["leaf"].string_value = "x"  # sets every Value on the way (an empty one has no kind)
    return root


async def _too_deep(env: Any, tally: Tally, request: gen.GenerateRequest, field: str) -> None:
    """Refused naming the deep field (not for another reason, such as a missing variable)."""
    service = await env.service()
    assert service.client is not None

    def named(result: Result) -> bool:
        violations = result.details.field_violations if result.details else {}
        return INVALID(result) and any(path.startswith(f"{field}.a.a") for path in violations)

    await probe(tally, service.client.generate(request, timeout=30), named, 10, 2)


async def deep_variables(env: Any, tally: Tally) -> None:
    request = gen.GenerateRequest(template_id="code_generation")
    request.variables.update({"requirement": "reverse a string"})
    request.variables.fields["deep"].struct_value.CopyFrom(_nested(30))
    await _too_deep(env, tally, request, "variables.deep")


async def deep_json_schema(env: Any, tally: Tally) -> None:
    request = ask(output_format=gen.OUTPUT_FORMAT_JSON)
    request.json_schema.CopyFrom(_nested(30))
    await _too_deep(env, tally, request, "json_schema")


async def schema_missing_ref(env: Any, tally: Tally) -> None:
    request = ask(output_format=gen.OUTPUT_FORMAT_JSON)
    request.json_schema.update({"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}})
    await _invalid(env, tally, request)


async def deep_template_nesting(env: Any, tally: Tally) -> None:
    service = await env.service()
    assert service.client is not None
    user = "{% if true %}" * 400 + "x" + "{% endif %}" * 400
    await create_then_render(tally, service.client, template("attack_deep", user), {})


async def memory_error(env: Any, tally: Tally) -> None:
    """A render that allocates beyond the server's memory (its address space is capped by the harness)."""
    service = await env.service()
    assert service.client is not None
    await create_then_render(tally, service.client, template("attack_memory", "{{ 'a'|center(n) }}"), {"n": 3 * 10**9})
    if not await service.healthy():
        tally.note("the server died", failing=True)


async def huge_template_id(env: Any, tally: Tally) -> None:
    service = await env.service()
    assert service.client is not None
    huge = "t" * (1024 * 1024)
    not_found = expect(C.NOT_FOUND)
    get = service.client.templates.GetTemplate(templates_pb2.GetTemplateRequest(template_id=huge), timeout=30)
    await probe(tally, get, not_found, 10, 2)
    await probe(tally, service.client.generate(gen.GenerateRequest(template_id=huge), timeout=30), not_found, 10, 2)


CASES = [
    ("9", "context timestamp in year 10000", timestamp_year_10000),
    ("9", "context timestamp nanos -1", timestamp_negative_nanos),
    ("9", "max_cost_usd NaN", nan_max_cost),
    ("9", "max_cost_usd -1", negative_max_cost),
    ("9", "variables nested 30 deep", deep_variables),
    ("9", "json_schema nested 30 deep", deep_json_schema),
    ("9", "json_schema $ref to nothing", schema_missing_ref),
    ("9", "template nested 400 deep", deep_template_nesting),
    ("9", "MemoryError in a render", memory_error),
    ("9", "1 MiB template id echoed", huge_template_id),
]
