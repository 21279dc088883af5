"""From a validated request to a routable call: rights checked, conversation leased, template rendered,
context retrieved and scored, plan made, prompt and acceptance built."""

from __future__ import annotations

import time
from dataclasses import dataclass

from orchestrator.context.pruning import StrategyKind, strategy_from_name
from orchestrator.context.relevance import score_unscored
from orchestrator.domain import Attempt, ChatMessage, GenerationRequest
from orchestrator.pipeline.conversation import ConversationKeeper, ConversationTurn
from orchestrator.pipeline.observing import annotate_prepared
from orchestrator.pipeline.prompt import PromptBuilder, Summarizer
from orchestrator.pipeline.retrieval import Retriever
from orchestrator.pipeline.shaping import Acceptance, reask_policy
from orchestrator.pipeline.summary import Summaries
from orchestrator.pipeline.tasks import TaskPolicy, Tasks
from orchestrator.pipeline.validation import check_shape, schema_validator
from orchestrator.pipeline.variants import template_version
from orchestrator.policy.authorization import check_model, check_task
from orchestrator.policy.quotas import QuotaBook
from orchestrator.routing.call import Call, SpendGuard
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
    # The conversation this request continues, and the turns it adds to it (besides the answer).
    conversation: ConversationTurn | None = None
    asked: tuple[ChatMessage, ...] = ()


class Preparer:
    def __init__(
        self,
        templates: TemplateRegistry,
        router: Router,
        tasks: Tasks,
        schema_reasks: int,
        quotas: QuotaBook | None = None,
        conversations: ConversationKeeper | None = None,
        retriever: Retriever | None = None,
    ) -> None:
        self._templates = templates
        self._router = router
        self._tasks = tasks
        self._schema_reasks = schema_reasks
        self._quotas = quotas
        self.conversations = conversations
        self._retriever = retriever

    def _check_rights(self, request: GenerationRequest) -> None:
        caller, selection = request.caller, request.selection
        check_task(caller, request.task_type)
        named = [("selection.preferred_model", selection.preferred_model)]
        named += [("selection.fallback_models", name) for name in selection.fallback_models]
        for field, name in named:
            if name:
                check_model(caller, self._router.catalog.get(name, field).name)

    async def prepare(self, request: GenerationRequest, started: float | None = None) -> PreparedRequest:
        started = time.monotonic() if started is None else started
        check_shape(request)
        self._check_rights(request)
        conversation = await self.conversations.begin(request) if self.conversations is not None else None
        try:
            return await self._prepare(request, started, conversation)
        except BaseException:
            if conversation is not None and self.conversations is not None:
                await self.conversations.release(conversation)
            raise

    async def _prepare(
        self, request: GenerationRequest, started: float, conversation: ConversationTurn | None
    ) -> PreparedRequest:
        caller = request.caller
        schema = await schema_validator(request.json_schema)
        task = self._tasks.get(request.task_type)
        rendered = None
        base: tuple[ChatMessage, ...] = ()
        if request.template_id:
            wanted = template_version(request, task.variants)  # the caller's, or the task's experiment pick
            rendered = await self._templates.render(request.template_id, wanted, request.variables)
            base = rendered.messages
        messages = (*base, *request.messages)
        query = next((m.content for m in reversed(messages) if m.role == "user"), "")
        params = request.params.merged_over(task.params)
        # A rough count (4 characters a token) is enough to compare costs; windows are checked exactly later.
        prompt_estimate = sum(len(m.content) for m in messages) // 4
        allowed = None if caller.models is None else lambda m: caller.may_use_model(m.name)
        plan = self._router.plan(request.selection, task.route, prompt_estimate, params.max_output_tokens, allowed)
        strategy = task.strategy
        if request.context_strategy:
            weights = strategy.relevance_weight, strategy.recency_weight
            strategy = strategy_from_name(request.context_strategy, *weights)
        context = list(request.context)
        if self._retriever is not None:
            context += await self._retriever.items(request, query)
        if strategy.kind is not StrategyKind.RECENCY:
            context, _ = score_unscored(context, query)
        deadline = started + request.timeout if request.timeout else None
        spend = self._quotas.spend(caller, request.task_type) if self._quotas is not None else None
        ledger: list[Attempt] = []
        prompt = PromptBuilder(
            messages, context, strategy, self._router.count_tokens, params.max_output_tokens, rendered,
            tuple(request.messages), conversation.history if conversation else (),
            self._summarizer(task, conversation, deadline, spend, ledger),
        )  # fmt: skip
        language = str(request.variables.get("language", ""))
        accept = Acceptance(request.output_format, language, schema, task.validators)
        reask = reask_policy(accept, self._schema_reasks)
        call = Call(prompt, params, deadline, request.json_schema, accept, reask, spend, ledger)
        version = rendered.template.version if rendered else ""
        picked = bool(rendered and task.variants and not request.template_version)
        annotate_prepared(request, version, plan, experiment=picked)
        asked = tuple(m for m in messages if m.role != "system")
        return PreparedRequest(request, call, plan, version, started, conversation, asked)

    def _summarizer(
        self,
        task: TaskPolicy,
        conversation: ConversationTurn | None,
        deadline: float | None,
        spend: SpendGuard | None,
        ledger: list[Attempt],
    ) -> Summarizer | None:
        if conversation is None or task.summary_model is None or self.conversations is None:
            return None
        summaries = Summaries(self._router, task.summary_model, task.summary_max_tokens)

        async def summarize(turns: tuple[ChatMessage, ...]) -> str:
            return await summaries.summarize(turns, deadline, spend, ledger)

        return self.conversations.summarizer(conversation, summarize)
