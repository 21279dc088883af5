"""The template RPCs as domain operations: store, read, list, render (with its token count), delete.

Every service may read and render any template; only the service that created a template (its owner) or
an admin may add versions or delete them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from orchestrator.context.pruning import strategy_from_name
from orchestrator.context.relevance import score_unscored
from orchestrator.domain import Caller, ChatMessage, ContextItem, TokenCount
from orchestrator.errors import NotFoundError
from orchestrator.evaluation import Validator
from orchestrator.pipeline.models import ModelDirectory
from orchestrator.pipeline.prompt import PromptBuilder
from orchestrator.pipeline.tasks import Tasks
from orchestrator.policy.authorization import check_template_write
from orchestrator.templates.model import PromptTemplate
from orchestrator.templates.registry import TemplateRegistry
from orchestrator.templates.store import TemplatePage


@dataclass(frozen=True, slots=True)
class ContextReport:
    """What a dry run did with one context item."""

    index: int
    source: str
    relevance_score: float
    relevance_computed: bool
    kept: bool
    tokens: int


@dataclass(frozen=True, slots=True)
class RenderPreview:
    """A dry run: the messages a model would receive, and how many tokens they take for it."""

    messages: tuple[ChatMessage, ...]
    version: str
    model: str
    count: TokenCount
    context: tuple[ContextReport, ...] = ()
    # What the task type's answers must also satisfy (its validators, in the order they run).
    validators: tuple[Validator, ...] = ()


class TemplateOperations:
    def __init__(self, registry: TemplateRegistry, models: ModelDirectory, tasks: Tasks | None = None) -> None:
        self._registry = registry
        self._models = models
        self._tasks = tasks or Tasks({})

    async def _owner(self, template_id: str) -> str | None:
        try:
            return (await self._registry.get(template_id)).owner
        except NotFoundError:
            return None

    async def create(self, caller: Caller, template: PromptTemplate) -> PromptTemplate:
        check_template_write(caller, template.template_id, await self._owner(template.template_id))
        return await self._registry.create(replace(template, owner=caller.service))

    async def get(self, template_id: str, version: str = "") -> PromptTemplate:
        return await self._registry.get(template_id, version)

    async def list(self, page_size: int, page_token: str = "", use_case: str = "") -> TemplatePage:
        return await self._registry.list(page_size, page_token, use_case)

    async def render(
        self,
        caller: Caller,
        template_id: str,
        version: str,
        variables: dict[str, Any],
        model: str,
        context: list[ContextItem] | None = None,
        strategy: str = "",
        max_output_tokens: int | None = None,
        task_type: str = "",
    ) -> RenderPreview:
        """The template rendered, with the context fitted to the model's budget as Generate would do it."""
        rendered = await self._registry.render(template_id, version, variables)
        spec = self._models.model(caller, model)
        messages, reports = rendered.messages, ()
        if context:
            query = next((m.content for m in reversed(messages) if m.role == "user"), "")
            items, computed = score_unscored(context, query)
            builder = PromptBuilder(
                messages, items, strategy_from_name(strategy), self._models.counter, max_output_tokens, rendered
            )
            built = await builder.for_model(spec)
            messages = built.messages
            kept = set(built.kept_context)
            reports = tuple(
                ContextReport(i, item.source, item.relevance_score, computed[i], i in kept, built.context_tokens[i])
                for i, item in enumerate(items)
            )
        _, count = await self._models.count_tokens(caller, spec.name, messages)
        validators = self._tasks.get(task_type).validators if task_type else ()
        return RenderPreview(messages, rendered.template.version, spec.name, count, reports, validators)

    async def delete(self, caller: Caller, template_id: str, version: str = "", etag: str = "") -> list[str]:
        target = await self._registry.get(template_id, version)  # NOT_FOUND before PERMISSION_DENIED
        check_template_write(caller, template_id, target.owner)
        return await self._registry.delete(template_id, version, etag)
