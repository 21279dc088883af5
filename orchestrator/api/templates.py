"""TemplateService: convert, call the registry, convert back."""

from __future__ import annotations

import grpc
from orchestrator_client.v1 import common_pb2, templates_pb2, templates_pb2_grpc

from orchestrator.api import convert
from orchestrator.api.status import unary
from orchestrator.domain import Caller
from orchestrator.pipeline import TemplateOperations
from orchestrator.pipeline.templates import ContextReport
from orchestrator.templates.model import PromptTemplate, TemplateMetadata


def template_from_proto(proto: templates_pb2.PromptTemplate) -> PromptTemplate:
    problems = convert.Problems()
    optional = convert.struct_to_dict(proto.optional_variables, "template.optional_variables", problems)
    schema = (
        convert.struct_to_dict(proto.variables_schema, "template.variables_schema", problems)
        if proto.HasField("variables_schema")
        else None
    )
    problems.raise_if_any("the template has invalid fields")
    return PromptTemplate(
        template_id=proto.template_id,
        version=proto.version,
        system_message=proto.system_message,
        user_message_template=proto.user_message_template,
        required_variables=tuple(proto.required_variables),
        optional_variables=optional,
        metadata=TemplateMetadata(
            description=proto.metadata.description,
            use_cases=tuple(proto.metadata.use_cases),
            recommended_models=tuple(proto.metadata.recommended_models),
        ),
        variables_schema=schema,
    )


def template_to_proto(template: PromptTemplate) -> templates_pb2.PromptTemplate:
    proto = templates_pb2.PromptTemplate(
        template_id=template.template_id,
        version=template.version,
        system_message=template.system_message,
        user_message_template=template.user_message_template,
        required_variables=template.required_variables,
        metadata=templates_pb2.TemplateMetadata(
            description=template.metadata.description,
            use_cases=template.metadata.use_cases,
            recommended_models=template.metadata.recommended_models,
        ),
        etag=template.etag,
        owner=template.owner,
    )
    proto.optional_variables.update(template.optional_variables)
    if template.variables_schema is not None:
        proto.variables_schema.update(template.variables_schema)
    if template.create_time is not None:
        proto.create_time.FromDatetime(template.create_time)
    return proto


def _report(report: ContextReport) -> templates_pb2.ContextItemReport:
    return templates_pb2.ContextItemReport(
        index=report.index,
        source=report.source,
        relevance_score=report.relevance_score,
        relevance_computed=report.relevance_computed,
        kept=report.kept,
        token_count=report.tokens,
    )


def _report(report: ContextReport) -> templates_pb2.ContextItemReport:
    return templates_pb2.ContextItemReport(
        index=report.index,
        source=report.source,
        relevance_score=report.relevance_score,
        relevance_computed=report.relevance_computed,
        kept=report.kept,
        token_count=report.tokens,
    )


class TemplateServicer(templates_pb2_grpc.TemplateServiceServicer):
    def __init__(self, templates: TemplateOperations) -> None:
        self._templates = templates

    @unary
    async def CreateTemplate(
        self, request: templates_pb2.CreateTemplateRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> templates_pb2.CreateTemplateResponse:
        stored = await self._templates.create(caller, template_from_proto(request.template))
        return templates_pb2.CreateTemplateResponse(template=template_to_proto(stored))

    @unary
    async def GetTemplate(
        self, request: templates_pb2.GetTemplateRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> templates_pb2.GetTemplateResponse:
        template = await self._templates.get(request.template_id, request.version)
        return templates_pb2.GetTemplateResponse(template=template_to_proto(template))

    @unary
    async def ListTemplates(
        self, request: templates_pb2.ListTemplatesRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> templates_pb2.ListTemplatesResponse:
        size = convert.page_size(request.page_size)
        page = await self._templates.list(size, request.page_token, request.use_case)
        return templates_pb2.ListTemplatesResponse(
            templates=[template_to_proto(t) for t in page.templates], next_page_token=page.next_page_token
        )

    @unary
    async def RenderTemplate(
        self, request: templates_pb2.RenderTemplateRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> templates_pb2.RenderTemplateResponse:
        problems = convert.Problems()
        variables = convert.struct_to_dict(request.variables, "variables", problems)
        context = convert.context_items(request.context, problems)
        problems.raise_if_any()
        strategy = convert.CONTEXT_STRATEGIES.get(request.context_strategy)
        if strategy is None:
            problems.add("context_strategy", f"unknown ContextStrategy value {request.context_strategy}")
        problems.raise_if_any()
        max_output = request.max_output_tokens if request.HasField("max_output_tokens") else None
        preview = await self._templates.render(
            caller, request.template_id, request.version, variables, request.model,
            context, strategy or "", max_output, request.task_type,
        )  # fmt: skip
        return templates_pb2.RenderTemplateResponse(
            messages=[
                common_pb2.Message(role=convert.ROLE_TO_PROTO[m.role], content=m.content) for m in preview.messages
            ],
            token_count=preview.count.count,
            model=preview.model,
            version=preview.version,
            token_count_estimated=preview.count.estimated,
            context_items=[_report(r) for r in preview.context],
            validators=[
                templates_pb2.ValidatorInfo(name=v.name, type=v.kind, description=v.description)
                for v in preview.validators
            ],
        )

    @unary
    async def DeleteTemplate(
        self, request: templates_pb2.DeleteTemplateRequest, context: grpc.aio.ServicerContext, caller: Caller
    ) -> templates_pb2.DeleteTemplateResponse:
        removed = await self._templates.delete(caller, request.template_id, request.version, request.etag)
        return templates_pb2.DeleteTemplateResponse(deleted_versions=removed)


__all__ = ["TemplateServicer", "template_from_proto", "template_to_proto"]
