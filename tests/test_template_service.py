"""TemplateService over gRPC: create, version, get, list, render, delete; the sandbox holds."""

from __future__ import annotations

import grpc
import pytest
from orchestrator_client import OrchestratorClient
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import templates_pb2 as tpl

from tests.helpers import ErrorDetails


def greeting(template_id: str, body: str = "Hello {{ name }}!", version: str = "") -> tpl.PromptTemplate:
    template = tpl.PromptTemplate(
        template_id=template_id,
        version=version,
        system_message="You greet people.",
        user_message_template=body,
        required_variables=["name"],
        metadata=tpl.TemplateMetadata(description="greets", use_cases=["greeting"]),
    )
    template.optional_variables.update({"mood": "cheerful"})
    return template


async def create(client: OrchestratorClient, template: tpl.PromptTemplate) -> tpl.PromptTemplate:
    response = await client.templates.CreateTemplate(tpl.CreateTemplateRequest(template=template), timeout=5)
    return response.template


async def failing(call: object) -> ErrorDetails:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return ErrorDetails(caught.value)


async def test_create_assigns_versions_and_get_returns_latest_or_pinned(client: OrchestratorClient) -> None:
    first = await create(client, greeting("greet_versions"))
    second = await create(client, greeting("greet_versions", "Hi {{ name }}."))

    latest = (
        await client.templates.GetTemplate(tpl.GetTemplateRequest(template_id="greet_versions"), timeout=5)
    ).template
    pinned = (
        await client.templates.GetTemplate(tpl.GetTemplateRequest(template_id="greet_versions", version="1"), timeout=5)
    ).template

    assert (first.version, second.version) == ("1", "2")
    assert first.etag and first.etag != second.etag
    assert first.create_time.seconds > 0
    assert latest.user_message_template == "Hi {{ name }}."
    assert pinned.user_message_template == "Hello {{ name }}!"
    assert dict(pinned.optional_variables) == {"mood": "cheerful"}


async def test_an_existing_version_with_other_content_is_already_exists(client: OrchestratorClient) -> None:
    await create(client, greeting("greet_conflict", version="1.0"))
    again = await create(client, greeting("greet_conflict", version="1.0"))  # same content: idempotent

    error = await failing(create(client, greeting("greet_conflict", "Changed {{ name }}", version="1.0")))

    assert again.version == "1.0"
    assert error.code == grpc.StatusCode.ALREADY_EXISTS
    assert error.reason == "TEMPLATE_VERSION_EXISTS"


async def test_render_is_a_dry_run_with_messages_and_token_count(client: OrchestratorClient) -> None:
    request = tpl.RenderTemplateRequest(template_id="code_generation")
    request.variables.update({"requirement": "parse a CSV file"})

    response = await client.templates.RenderTemplate(request, timeout=5)

    assert [m.role for m in response.messages] == [common_pb2.ROLE_SYSTEM, common_pb2.ROLE_USER]
    assert "parse a CSV file" in response.messages[1].content
    assert "Use python programming language." in response.messages[1].content  # optional default applied
    assert response.version == "1.0"
    assert response.model == "smollm2-135m-instruct"
    assert response.token_count > 50


async def test_list_pages_through_templates_in_id_order_and_filters_by_use_case(client: OrchestratorClient) -> None:
    for name in ("list_a", "list_b", "list_c"):
        await create(client, greeting(name))

    seen: list[str] = []
    token = ""
    while True:
        page = await client.templates.ListTemplates(tpl.ListTemplatesRequest(page_size=2, page_token=token), timeout=5)
        seen += [t.template_id for t in page.templates]
        token = page.next_page_token
        if not token:
            break
    coding = await client.templates.ListTemplates(tpl.ListTemplatesRequest(use_case="code_implementation"), timeout=5)

    assert seen == sorted(seen)
    assert {"list_a", "list_b", "list_c", "code_generation", "bug_fixing"} <= set(seen)
    assert [t.template_id for t in coding.templates] == ["code_generation"]


async def test_delete_one_version_then_all_and_versions_are_never_reused(client: OrchestratorClient) -> None:
    await create(client, greeting("greet_delete"))
    await create(client, greeting("greet_delete", "Hey {{ name }}"))

    one = await client.templates.DeleteTemplate(
        tpl.DeleteTemplateRequest(template_id="greet_delete", version="2"), timeout=5
    )
    third = await create(client, greeting("greet_delete", "Yo {{ name }}"))
    everything = await client.templates.DeleteTemplate(tpl.DeleteTemplateRequest(template_id="greet_delete"), timeout=5)
    gone = await failing(client.templates.GetTemplate(tpl.GetTemplateRequest(template_id="greet_delete"), timeout=5))

    assert list(one.deleted_versions) == ["2"]
    assert third.version == "3"
    assert sorted(everything.deleted_versions) == ["1", "3"]
    assert gone.code == grpc.StatusCode.NOT_FOUND


async def test_delete_with_a_stale_etag_is_aborted(client: OrchestratorClient) -> None:
    await create(client, greeting("greet_etag"))

    error = await failing(
        client.templates.DeleteTemplate(tpl.DeleteTemplateRequest(template_id="greet_etag", etag="stale"), timeout=5)
    )

    assert error.code == grpc.StatusCode.ABORTED
    assert error.reason == "ETAG_MISMATCH"


async def test_a_syntax_error_is_invalid_argument_naming_the_line(client: OrchestratorClient) -> None:
    error = await failing(create(client, greeting("greet_syntax", "line one\n{% if name %}unclosed")))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "TEMPLATE_SYNTAX_ERROR"
    assert error.field_violations["template.user_message_template"].startswith("line 2:")


async def test_invalid_template_fields_are_listed(client: OrchestratorClient) -> None:
    bad = tpl.PromptTemplate(template_id="has space", user_message_template="", required_variables=["not-an-id"])

    error = await failing(create(client, bad))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert set(error.field_violations) == {
        "template.template_id",
        "template.user_message_template",
        "template.required_variables",
    }


SANDBOX_ESCAPES = {
    "dunder_class": "{{ name.__class__ }}",
    "globals": "{{ cycler.__init__.__globals__ }}",
    "mro": "{{ ''.__class__.mro() }}",
    "format_attribute": '{{ "{0.__class__}".format(name) }}',
    "format_map": "{{ '{x.__class__}'.format_map({'x': name}) }}",
    "stored_format_called_later": "{% set f = '{0.__class__.__mro__}'.format %}{{ f(name) }}",
    "stored_format_through_filter": "{% set f = '{0.__class__}'.format %}{{ [name]|map(f)|list }}",
    "attr_format": "{{ ('{0.__class__}'|attr('format'))(name) }}",
    "huge_range": "{% for i in range(10**9) %}x{% endfor %}",
    "power_blowup": "{{ 999 ** 999999 }}",
    "gigabyte_output": "{{ 'x' * 1000000000 }}",
    "nested_loops_output": "{% for i in range(99999) %}{% for j in range(99999) %}xxxxxxxx{% endfor %}{% endfor %}",
}


@pytest.mark.parametrize("body", SANDBOX_ESCAPES.values(), ids=SANDBOX_ESCAPES.keys())
async def test_sandbox_blocks_escapes_and_blowups_and_keeps_serving(client: OrchestratorClient, body: str) -> None:
    template_id = f"escape_{abs(hash(body))}"
    await create(client, greeting(template_id, body))
    request = tpl.RenderTemplateRequest(template_id=template_id)
    request.variables.update({"name": "Ada"})

    error = await failing(client.templates.RenderTemplate(request, timeout=10))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason in {"TEMPLATE_SECURITY_VIOLATION", "TEMPLATE_RENDER_LIMIT", "TEMPLATE_RENDER_FAILED"}
    assert "Traceback" not in error.message
    ok = tpl.RenderTemplateRequest(template_id="code_generation")
    ok.variables.update({"requirement": "still serving"})
    assert (await client.templates.RenderTemplate(ok, timeout=5)).messages


async def test_variables_are_data_never_template_code(client: OrchestratorClient) -> None:
    await create(client, greeting("greet_data"))
    request = tpl.RenderTemplateRequest(template_id="greet_data")
    request.variables.update({"name": "{{ 7 * 7 }}{% raw %}"})

    response = await client.templates.RenderTemplate(request, timeout=5)

    assert response.messages[-1].content == "Hello {{ 7 * 7 }}{% raw %}!"


async def test_variables_failing_the_templates_schema_name_the_path(client: OrchestratorClient) -> None:
    template = greeting("greet_schema", "Hello {{ name }}, you have {{ count }} messages.")
    template.variables_schema.update(
        {"type": "object", "properties": {"count": {"type": "integer", "minimum": 0}}, "required": ["count"]}
    )
    await create(client, template)
    request = tpl.RenderTemplateRequest(template_id="greet_schema")
    request.variables.update({"name": "Ada", "count": -3})

    error = await failing(client.templates.RenderTemplate(request, timeout=5))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "VARIABLES_SCHEMA_MISMATCH"
    assert error.field_violations == {"variables.count": "-3 is less than the minimum of 0"}
