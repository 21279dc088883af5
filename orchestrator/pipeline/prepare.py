"""From a validated request to a routable call: template rendered, plan made, prompt and acceptance built."""

from __future__ import annotations

import time
from dataclasses import dataclass

from orchestrator.context.pruning import strategy_from_name
from orchestrator.domain import ChatMessage, GenerationRequest
from orchestrator.pipeline.observing import annotate_prepared
from orchestrator.pipeline.prompt import PromptBuilder
from orchestrator.pipeline.shaping import Acceptance, reask_policy
from orchestrator.pipeline.tasks import Tasks
from orchestrator.pipeline.validation import check_shape, schema_validator
from orchestrator.pipeline.variants import template_version
from orchestrator.policy.authorization import check_model, check_task
from orchestrator.policy.quotas import QuotaBook
from orchestrator.routing.call import Call
from orchestrator.routing.catalog import ModelSpec
from orchestrator.routing.router import Router
from orchestrator.templates.registry import TemplateRegistry


@dataclass(frozen=True, slots=True)
class PreparedRequest:
    request: GenerationRequest
    call: Call
    plan: list[ModelSpec]
    template_version: str
    started: float


class Preparer:
    def __init__(
        self,
        templates: TemplateRegistry,
        router: Router,
        tasks: Tasks,
        schema_reasks: int,
        quotas: QuotaBook | None = None,
    ) -> None:
        self._templates = templates
        self._router = router
        self._tasks = tasks
        self._schema_reasks = schema_reasks
        self._quotas = quotas

    async def prepare(self, request: GenerationRequest, started: float | None = None) -> PreparedRequest:
        started = time.monotonic() if started is None else started
        check_shape(request)
        caller = request.caller
        check_task(caller, request.task_type)
        selection = request.selection
        named = [("selection.preferred_model", selection.preferred_model)]
        named += [("selection.fallback_models", name) for name in selection.fallback_models]
        for field, name in named:
            if name:
                check_model(caller, self._router.catalog.get(name, field).name)
        schema = schema_validator(request.json_schema)
        task = self._tasks.get(request.task_type)
        rendered = None
        base: tuple[ChatMessage, ...] = ()
        if request.template_id:
            wanted = template_version(request, task.variants)  # the caller's, or the task's experiment pick
            rendered = await self._templates.render(request.template_id, wanted, request.variables)
            base = rendered.messages
        messages = (*base, *request.messages)
        params = request.params.merged_over(task.params)
        # A rough count (4 characters a token) is enough to compare costs; windows are checked exactly later.
        prompt_estimate = sum(len(m.content) for m in messages) // 4
        allowed = None if caller.models is None else lambda m: caller.may_use_model(m.name)
        plan = self._router.plan(selection, task.route, prompt_estimate, params.max_output_tokens, allowed)
        strategy = task.strategy
        if request.context_strategy:
            weights = strategy.relevance_weight, strategy.recency_weight
            strategy = strategy_from_name(request.context_strategy, *weights)
        prompt = PromptBuilder(
            messages,
            request.context,
            strategy,
            self._router.count_tokens,
            params.max_output_tokens,
            rendered,
            tuple(request.messages),
        )
        accept = Acceptance(request.output_format, str(request.variables.get("language", "")), schema, task.validators)
        deadline = started + request.timeout if request.timeout else None
        spend = self._quotas.spend(caller, request.task_type) if self._quotas is not None else None
        reask = reask_policy(accept, self._schema_reasks)
        call = Call(prompt, params, deadline, request.json_schema, accept, reask, spend)
        version = rendered.template.version if rendered else ""
        picked = bool(rendered and task.variants and not request.template_version)
        annotate_prepared(request, version, plan, experiment=picked)
        return PreparedRequest(request, call, plan, version, started)
