"""The messages a given model receives: the rendered prompt plus the context pruned to that model's budget.

Budget = the model's context window - the prompt without context - the reserved output tokens. A
fallback model with a smaller window gets the context pruned again for it; token counts are made
with each model's own tokenizer and memoised per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from orchestrator.context import PruningStrategy, prune, render_context, render_item
from orchestrator.domain import ChatMessage, ContextItem
from orchestrator.providers.base import Provider
from orchestrator.routing.catalog import CatalogModel
from orchestrator.templates.registry import RenderedPrompt

CONTEXT_HEADING = "Context:\n"
# Room for the heading and the blank lines around the context block.
FRAMING_TOKENS = 8


@dataclass(frozen=True, slots=True)
class BuiltPrompt:
    messages: tuple[ChatMessage, ...]
    context_used: int = 0
    context_dropped: int = 0
    dropped_sources: tuple[str, ...] = ()


class PromptBuilder:
    """Builds (and memoises) the messages for each model a request may be routed to."""

    def __init__(
        self,
        base: tuple[ChatMessage, ...],
        context: list[ContextItem],
        strategy: PruningStrategy,
        provider_of: Callable[[CatalogModel], Provider],
        reserved_output: Callable[[CatalogModel], int],
        rendered: RenderedPrompt | None = None,
        tail: tuple[ChatMessage, ...] = (),
    ) -> None:
        self._base = base
        self._context = context
        self._strategy = strategy
        self._provider_of = provider_of
        self._reserved_output = reserved_output
        self._rendered = rendered
        self._tail = tail
        self._built: dict[tuple[str, int], BuiltPrompt] = {}
        self._costs: dict[str, list[int]] = {}

    async def for_model(self, model: CatalogModel) -> BuiltPrompt:
        if not self._context:
            return BuiltPrompt(self._base)
        key = (model.provider, model.settings.context_window)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = await self._build(model)
        return built

    async def _count(self, model: CatalogModel, text: str) -> int:
        count = await self._provider_of(model).count_tokens(model.settings.wire_name, (ChatMessage("user", text),))
        return count.count

    async def _build(self, model: CatalogModel) -> BuiltPrompt:
        provider = self._provider_of(model)
        wire = model.settings.wire_name
        base_tokens = (await provider.count_tokens(wire, self._base)).count
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
        budget = model.settings.context_window - base_tokens - self._reserved_output(model) - FRAMING_TOKENS
        result = prune(self._context, costs, budget, self._strategy)
        dropped_sources = tuple(self._context[i].source for i in result.dropped_indices)
        return BuiltPrompt(await self._place(result.kept), len(result.kept), result.dropped, dropped_sources)

    async def _place(self, kept: list[ContextItem]) -> tuple[ChatMessage, ...]:
        if not kept:
            return self._base
        text = render_context(kept)
        if self._rendered is not None and self._rendered.places_context:
            items = [
                {"content": i.content, "source": i.source, "relevance_score": i.relevance_score,
                 "timestamp": i.timestamp.isoformat() if i.timestamp else None}
                for i in kept
            ]  # fmt: skip
            return (*await self._rendered.with_values({"context": text, "context_items": items}), *self._tail)
        # The template does not place the context: it goes before the last user turn's text.
        messages = list(self._base)
        for index in range(len(messages) - 1, -1, -1):
            if messages[index].role == "user":
                turn = messages[index]
                messages[index] = ChatMessage("user", f"{CONTEXT_HEADING}{text}\n{turn.content}")
                return tuple(messages)
        return (*messages, ChatMessage("user", f"{CONTEXT_HEADING}{text}"))
