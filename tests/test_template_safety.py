"""Hostile templates and variables are stopped cleanly, and the server keeps answering everyone else meanwhile.

Issue 13: renders ran on the event loop (a nested loop stalled health checks for 35 s+), constant folding
at create time allocated 4 GB, deep nesting and macro recursion were INTERNAL, a `pattern` in a variables
schema backtracked for minutes, and a 1 MiB template id in NOT_FOUND came back as RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import templates_pb2 as tpl

from orchestrator.errors import UnavailableError
from orchestrator.templates.model import PromptTemplate
from orchestrator.templates.registry import TemplateRegistry
from orchestrator.templates.store import MemoryTemplateStore
from tests.helpers import ErrorDetails

NESTED_LOOPS = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
# Doubles a 1 MB string until the worker's address space runs out (~2 s of copying without the cap).
MEMORY_HOG = (
    "{% set ns = namespace(s='x' * 1000000) %}{% for i in range(14) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
    "{{ ns.s|length }}"
)
SLOW_BUILTIN = "{{ lipsum(100000) }}"  # one call, no loop in the template: only the kill stops it


async def create(client: OrchestratorClient, template_id: str, body: str, **fields: object) -> tpl.PromptTemplate:
    template = tpl.PromptTemplate(template_id=template_id, user_message_template=body, **fields)  # type: ignore[arg-type]
    return (await client.templates.CreateTemplate(tpl.CreateTemplateRequest(template=template), timeout=30)).template


async def failing(call: Awaitable[object]) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return ErrorDetails(caught.value)


async def answered_meanwhile(client: OrchestratorClient, call: Awaitable[object]) -> tuple[ErrorDetails, int]:
    """Run `call`; count the health checks and cheap renders the server completes while it is in flight."""
    health = health_pb2_grpc.HealthStub(client.channel)
    cheap = tpl.RenderTemplateRequest(template_id="code_generation")
    cheap.variables.update({"requirement": "still serving"})
    running = asyncio.ensure_future(failing(call))
    answered = 0
    while not running.done():
        checked = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=30)
        rendered = await client.templates.RenderTemplate(cheap, timeout=30)
        if not running.done():
            assert checked.status == health_pb2.HealthCheckResponse.SERVING
            assert "still serving" in rendered.messages[-1].content
            answered += 1
    return await running, answered


@pytest.mark.parametrize(
    ("template_id", "body"),
    [("hostile_loops", NESTED_LOOPS), ("hostile_memory", MEMORY_HOG), ("hostile_builtin", SLOW_BUILTIN)],
)
async def test_a_runaway_render_is_stopped_while_the_server_keeps_answering(
    client: OrchestratorClient, template_id: str, body: str
) -> None:
    await create(client, template_id, body)

    error, answered = await answered_meanwhile(
        client, client.templates.RenderTemplate(tpl.RenderTemplateRequest(template_id=template_id), timeout=60)
    )

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "TEMPLATE_RENDER_LIMIT"
    assert answered >= 2  # a render on the event loop would have let none through until it ended


@pytest.mark.parametrize(
    ("template_id", "body", "reason"),
    [
        ("macro_recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "TEMPLATE_RENDER_LIMIT"),
        (
            "repeated_squaring",
            "{% set ns = namespace(x=2) %}{% for i in range(64) %}{% set ns.x = ns.x * ns.x %}{% endfor %}{{ ns.x }}",
            "TEMPLATE_SECURITY_VIOLATION",
        ),
        (
            "repeated_power",
            "{% set ns = namespace(x=3) %}{% for i in range(64) %}{% set ns.x = ns.x ** 2 %}{% endfor %}{{ ns.x }}",
            "TEMPLATE_SECURITY_VIOLATION",
        ),
        ("folded_center", "{{ 'a'|center(1000000000) }}", "TEMPLATE_SECURITY_VIOLATION"),
        ("method_center", "{{ 'a'.center(1000000000) }}", "TEMPLATE_SECURITY_VIOLATION"),
        ("join_blowup", "{{ range(100000)|join('x' * 100000) }}", "TEMPLATE_SECURITY_VIOLATION"),
        ("replace_blowup", "{{ ('a' * 100000)|replace('', 'b' * 1000) }}", "TEMPLATE_SECURITY_VIOLATION"),
        ("printf_width", "{{ '%0999999999d' % 1 }}", "TEMPLATE_SECURITY_VIOLATION"),
    ],
)
async def test_blowups_are_created_without_evaluation_and_refused_when_rendered(
    client: OrchestratorClient, template_id: str, body: str, reason: str
) -> None:
    created = await create(client, template_id, body)  # compiling evaluates nothing: no 4 GB at create

    error = await failing(
        client.templates.RenderTemplate(tpl.RenderTemplateRequest(template_id=template_id), timeout=30)
    )

    assert created.version == "1"
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == reason
    assert "Traceback" not in error.message


@pytest.mark.parametrize(
    "body",
    [
        "{% if name %}" * 400 + "x" + "{% endif %}" * 400,
        "{{ " + "(" * 300 + "1" + ")" * 300 + " }}",
        "{% if name %}" * 2000 + "x" + "{% endif %}" * 2000,  # beyond the in-process size: parsed by a worker
    ],
    ids=["blocks", "parentheses", "large"],
)
async def test_nesting_too_deep_to_compile_is_invalid_argument(client: OrchestratorClient, body: str) -> None:
    error = await failing(create(client, "too_deep", body))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "TEMPLATE_TOO_COMPLEX"
    assert "template.user_message_template" in error.field_violations


async def test_templates_with_loops_render_in_a_worker_with_the_usual_errors(client: OrchestratorClient) -> None:
    await create(client, "loop_list", "Items:{% for item in items %} {{ loop.index }}={{ item.name }}{% endfor %}")
    request = tpl.RenderTemplateRequest(template_id="loop_list")
    request.variables.update({"items": [{"name": "ä"}, {"name": "b"}]})
    undefined = tpl.RenderTemplateRequest(template_id="loop_list")
    undefined.variables.update({"items": [{"nom": "a"}]})

    rendered = await client.templates.RenderTemplate(request, timeout=30)
    error = await failing(client.templates.RenderTemplate(undefined, timeout=30))

    assert rendered.messages[-1].content == "Items: 1=ä 2=b"
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason in {"TEMPLATE_VARIABLE_UNDEFINED", "TEMPLATE_RENDER_FAILED"}


async def test_workers_killed_for_overrunning_are_replaced_and_the_others_keep_working(
    client: OrchestratorClient,
) -> None:
    await create(client, "after_kills", "{% for i in range(3) %}{{ i }}{% endfor %}")
    await create(client, "overrun", SLOW_BUILTIN)
    overrun = tpl.RenderTemplateRequest(template_id="overrun")
    killed = [await failing(client.templates.RenderTemplate(overrun, timeout=60)) for _ in range(2)]
    gc.collect()  # a killed worker's pipes must be closed once: closing reused descriptors broke later renders

    after = [await client.templates.RenderTemplate(tpl.RenderTemplateRequest(template_id="after_kills"), timeout=30)]
    after += await asyncio.gather(
        *(client.templates.RenderTemplate(tpl.RenderTemplateRequest(template_id="after_kills"), timeout=30)
          for _ in range(6))
    )  # fmt: skip

    assert [e.reason for e in killed] == ["TEMPLATE_RENDER_LIMIT"] * 2
    assert [r.messages[-1].content for r in after] == ["012"] * 7


async def test_closing_the_registry_stops_a_busy_worker_and_fails_its_render_as_unavailable() -> None:
    registry = TemplateRegistry(MemoryTemplateStore())
    await registry.create(PromptTemplate("busy", "", "", NESTED_LOOPS))
    render = asyncio.ensure_future(registry.render("busy", "", {}))
    await asyncio.sleep(0.3)  # the worker is looping

    await registry.aclose()

    with pytest.raises(UnavailableError) as caught:
        await render
    assert caught.value.reason == "TEMPLATE_RENDERER_UNAVAILABLE"


async def test_reserved_names_cannot_switch_off_the_loop_deadline(client: OrchestratorClient) -> None:
    body = "{% macro __tick__() %}{% endmacro %}" + NESTED_LOOPS

    error = await failing(create(client, "reserved_name", body))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_TEMPLATE"


async def test_a_backtracking_pattern_in_a_variables_schema_validates_in_linear_time(
    client: OrchestratorClient,
) -> None:
    await create(
        client,
        "redos_schema",
        "Hello {{ x }}",
        variables_schema=_struct({"properties": {"x": {"type": "string", "pattern": "^(a+)+$"}}}),
    )
    request = tpl.RenderTemplateRequest(template_id="redos_schema")
    request.variables.update({"x": "a" * 10_000 + "!"})

    error = await failing(client.templates.RenderTemplate(request, timeout=30))  # backtracking: minutes to hours

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "VARIABLES_SCHEMA_MISMATCH"
    assert list(error.field_violations) == ["variables.x"]
    assert len(error.message) < 1000


@pytest.mark.parametrize(
    ("schema", "field"),
    [
        ({"properties": {"x": {"pattern": "(a)\\1"}}}, "template.variables_schema.properties.x.pattern"),
        ({"patternProperties": {"(?=x)": {}}}, "template.variables_schema.patternProperties.(?=x)"),
        ({"$ref": "https://example.com/schema.json"}, "template.variables_schema.$ref"),
        ({"$ref": "#/$defs/missing"}, "template.variables_schema.$ref"),
        ({"$ref": "#"}, "template.variables_schema.$ref"),
    ],
    ids=["backreference", "lookahead", "remote_ref", "missing_ref", "self_ref"],
)
async def test_unusable_variables_schemas_are_refused_at_create_naming_the_field(
    client: OrchestratorClient, schema: dict[str, object], field: str
) -> None:
    error = await failing(create(client, "bad_schema", "Hello {{ x }}", variables_schema=_struct(schema)))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_VARIABLES_SCHEMA"
    assert field in error.field_violations


async def test_a_huge_template_id_is_echoed_clipped_in_not_found(client: OrchestratorClient) -> None:
    huge = "x" * (1 << 20)

    errors = [
        await failing(client.templates.GetTemplate(tpl.GetTemplateRequest(template_id=huge), timeout=30)),
        await failing(client.templates.RenderTemplate(tpl.RenderTemplateRequest(template_id=huge), timeout=30)),
        await failing(client.templates.DeleteTemplate(tpl.DeleteTemplateRequest(template_id=huge), timeout=30)),
    ]

    for error in errors:
        assert error.code == grpc.StatusCode.NOT_FOUND
        assert error.reason == "TEMPLATE_NOT_FOUND"
        assert error.metadata["template_id"] == "x" * 128 + "…"
        assert len(error.message) < 300


def _struct(value: dict[str, object]) -> object:
    from google.protobuf import struct_pb2

    struct = struct_pb2.Struct()
    struct.update(value)
    return struct
