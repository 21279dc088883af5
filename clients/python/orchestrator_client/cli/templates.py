"""`templates list | show | create | render | delete`."""

from __future__ import annotations

import argparse
import json

from google.protobuf import json_format

from orchestrator_client import OrchestratorClient
from orchestrator_client.cli._input import load_document, parse_variables
from orchestrator_client.cli._output import Output, UsageError, message_dict
from orchestrator_client.v1 import common_pb2
from orchestrator_client.v1 import templates_pb2 as tpl

PAGE_SIZE = 100


async def list_templates(args: argparse.Namespace, client: OrchestratorClient, out: Output) -> int:
    templates: list[tpl.PromptTemplate] = []
    request = tpl.ListTemplatesRequest(page_size=PAGE_SIZE, use_case=args.use_case)
    while True:
        page = await client.templates.ListTemplates(request, timeout=args.timeout)
        templates += page.templates
        if not page.next_page_token:
            break
        request.page_token = page.next_page_token
    if out.json_mode:
        out.json([message_dict(t) for t in templates])
        return 0
    rows = [
        [t.template_id, t.version, t.metadata.description, ",".join(t.metadata.use_cases), _created(t)]
        for t in templates
    ]
    out.table(["TEMPLATE", "VERSION", "DESCRIPTION", "USE CASES", "CREATED"], rows)
    return 0


def _created(template: tpl.PromptTemplate) -> str:
    if not template.HasField("create_time"):
        return ""
    return template.create_time.ToDatetime().strftime("%Y-%m-%d %H:%M")


async def show_template(args: argparse.Namespace, client: OrchestratorClient, out: Output) -> int:
    request = tpl.GetTemplateRequest(template_id=args.template_id, version=args.version)
    template = (await client.templates.GetTemplate(request, timeout=args.timeout)).template
    if out.json_mode:
        out.json(message_dict(template))
        return 0
    optional = json_format.MessageToDict(template.optional_variables)
    fields = [
        ("template", f"{template.template_id} (version {template.version})"),
        ("description", template.metadata.description),
        ("use cases", ", ".join(template.metadata.use_cases)),
        ("required", ", ".join(template.required_variables)),
        ("optional", ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in optional.items())),
        ("created", _created(template)),
        ("etag", template.etag),
    ]
    for name, value in fields:
        if value:
            out.print(f"{out.style(name + ':', 'bold')} {value}")
    for heading, body in (
        ("system message", template.system_message),
        ("user message", template.user_message_template),
    ):
        if body:
            out.print(out.style(f"\n--- {heading}", "cyan"))
            out.print(body)
    return 0


async def create_template(args: argparse.Namespace, client: OrchestratorClient, out: Output) -> int:
    document = load_document(args.file)
    if not isinstance(document, dict):
        raise UsageError(f"{args.file}: a template file holds one mapping (template_id, user_message_template, ...)")
    try:
        template = json_format.ParseDict(document, tpl.PromptTemplate())
    except json_format.ParseError as err:
        raise UsageError(f"{args.file}: {err}") from None
    created = (
        await client.templates.CreateTemplate(tpl.CreateTemplateRequest(template=template), timeout=args.timeout)
    ).template
    if out.json_mode:
        out.json(message_dict(created))
    else:
        out.print(f"created {created.template_id} version {created.version} (etag {created.etag})")
    return 0


async def render(args: argparse.Namespace, client: OrchestratorClient, out: Output) -> int:
    request = tpl.RenderTemplateRequest(template_id=args.template_id, version=args.version, model=args.model)
    if variables := parse_variables(args.var):
        request.variables.update(variables)
    rendered = await client.templates.RenderTemplate(request, timeout=args.timeout)
    if out.json_mode:
        out.json(message_dict(rendered))
        return 0
    for message in rendered.messages:
        role = common_pb2.Role.Name(message.role).removeprefix("ROLE_").lower()
        out.print(out.style(f"[{role}]", "bold"))
        out.print(message.content + "\n")
    estimated = " (estimated)" if rendered.token_count_estimated else ""
    out.note(f"{rendered.token_count} tokens{estimated} for {rendered.model}, template version {rendered.version}")
    return 0


async def delete_template(args: argparse.Namespace, client: OrchestratorClient, out: Output) -> int:
    request = tpl.DeleteTemplateRequest(template_id=args.template_id, version=args.version, etag=args.etag)
    deleted = await client.templates.DeleteTemplate(request, timeout=args.timeout)
    if out.json_mode:
        out.json(message_dict(deleted))
    else:
        out.print(f"deleted {args.template_id} version(s) {', '.join(deleted.deleted_versions)}")
    return 0
