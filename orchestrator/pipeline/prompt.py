"""The messages a given model receives: the rendered prompt plus the context pruned to that model's budget.

Budget = the model's context window - the prompt without context - the reserved output tokens. A
fallback model with a smaller window gets the context pruned again for it; token counts are made
with each model's own tokenizer and memoised per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from orchestrator.context.pruning import PruningStrategy, prune, render_context, render_item
from orchestrator.domain import ChatMessage, ContextItem, TokenCount
from orchestrator.routing.call import BuiltPrompt
from orchestrator.routing.catalog import ModelSpec
from orchestrator.templates.registry import RenderedPrompt

CONTEXT_HEADING = "Context:\n"
# Room for the heading and the blank lines around the context block.
FRAMING_TOKENS = 8
# Counts tokens offline with the model's own tokenizer (the router's count_tokens).
TokenCounter = Callable[[ModelSpec, tuple[ChatMessage, ...]], Awaitable[TokenCount]]


class PromptBuilder:
    """Builds (and memoises) the messages for each model a request may be routed to."""

    def __init__(
        self,
        base: tuple[ChatMessage, ...],
        context: list[ContextItem],
        strategy: PruningStrategy,
        count: TokenCounter,
        requested_output: int | None,
        rendered: RenderedPrompt | None = None,
        tail: tuple[ChatMessage, ...] = (),
    ) -> None:
        self._base = base
        self._context = context
        self._strategy = strategy
        self._count_tokens = count
        self._requested_output = requested_output
        self._rendered = rendered
        self._tail = tail
        self._built: dict[tuple[str, int], BuiltPrompt] = {}
        self._costs: dict[str, list[int]] = {}

    async def for_model(self, model: ModelSpec) -> BuiltPrompt:
        if not self._context:
            return BuiltPrompt(self._base)
        key = (model.provider, model.context_window)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = await self._build(model)
        return built

    async def _count(self, model: ModelSpec, text: str) -> int:
        return (await self._count_tokens(model, (ChatMessage("user", text),))).count

    async def _build(self, model: ModelSpec) -> BuiltPrompt:
        base_tokens = (await self._count_tokens(model, self._base)).count
        costs = self._costs.get(model.provider)
        if costs is None:  # one tokenizer per provider is close enough for budgeting
            empty = await self._count(model, "")
            costs = []
            for item in self._context:
                if item.token_count is not None:
                    costs.append(item.token_count)
                else:
                    costs.append(max(await self._count(model, render_item(item)) - empty, 0))
            self._costs[model.provider] = costs
        reserved = model.output_reservation(self._requested_output)
        budget = model.context_window - base_tokens - reserved - FRAMING_TOKENS
        result = prune(self._context, costs, budget, self._strategy)
        dropped_sources = tuple(self._context[i].source for i in result.dropped_indices)
        return BuiltPrompt(self._place(result.kept), len(result.kept), result.dropped, dropped_sources)

    def _place(self, kept: list[ContextItem]) -> tuple[ChatMessage, ...]:
        if not kept:
            return self._base
        text = render_context(kept)
        if self._rendered is not None and self._rendered.places_context:
            items = [
                {"content": i.content, "source": i.source, "relevance_score": i.relevance_score,
                 "timestamp": i.timestamp.isoformat() if i.timestamp else None}
                for i in kept
            ]  # fmt: skip
            return (*self._rendered.with_values({"context": text, "context_items": items}), *self._tail)
        # The template does not place the context: it goes before the last user turn's text.
        messages = list(self._base)
        for index in range(len(messages) - 1, -1, -1):
            if messages[index].role == "user":
                turn = messages[index]
                messages[index] = ChatMessage("user", f"{CONTEXT_HEADING}{text}\n{turn.content}")
                return tuple(messages)
        return (*messages, ChatMessage("user", f"{CONTEXT_HEADING}{text}"))
