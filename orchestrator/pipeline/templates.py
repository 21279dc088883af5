"""The template RPCs as domain operations: store, read, list, render (with its token count), delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from orchestrator.domain import ChatMessage, TokenCount
from orchestrator.pipeline.models import ModelDirectory
from orchestrator.templates.model import PromptTemplate
from orchestrator.templates.registry import TemplateRegistry
from orchestrator.templates.store import TemplatePage


@dataclass(frozen=True, slots=True)
class RenderPreview:
    """A dry run: the messages a model would receive, and how many tokens they take for it."""

    messages: tuple[ChatMessage, ...]
    version: str
    model: str
    count: TokenCount


class TemplateOperations:
    def __init__(self, registry: TemplateRegistry, models: ModelDirectory) -> None:
        self._registry = registry
        self._models = models

    async def create(self, template: PromptTemplate) -> PromptTemplate:
        return await self._registry.create(template)

    async def get(self, template_id: str, version: str = "") -> PromptTemplate:
        return await self._registry.get(template_id, version)

    async def list(self, page_size: int, page_token: str = "", use_case: str = "") -> TemplatePage:
        return await self._registry.list(page_size, page_token, use_case)

    async def render(self, template_id: str, version: str, variables: dict[str, Any], model: str) -> RenderPreview:
        rendered = await self._registry.render(template_id, version, variables)
        spec, count = await self._models.count_tokens(model, rendered.messages)
        return RenderPreview(rendered.messages, rendered.template.version, spec.name, count)

    async def delete(self, template_id: str, version: str = "", etag: str = "") -> list[str]:
        return await self._registry.delete(template_id, version, etag)
