"""The messages a given model receives: the rendered prompt, the conversation's earlier turns and the context,
fitted to that model's budget.

Budget = the model's context window - the prompt without history or context - the reserved output tokens.
The earlier turns come first, newest kept first (a suffix of the conversation, so it stays coherent); turns
dropped for the budget may be replaced by a summary; the context items share what is left. A fallback model
with a smaller window gets everything fitted again; token counts use each model's own tokenizer and are
memoised per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from orchestrator.context.pruning import PruningStrategy, prune, render_context, render_item
from orchestrator.domain import ChatMessage, ContextItem, TokenCount
from orchestrator.routing.call import BuiltPrompt
from orchestrator.routing.catalog import ModelSpec
from orchestrator.templates.registry import RenderedPrompt

CONTEXT_HEADING = "Context:\n"
SUMMARY_HEADING = "Summary of the earlier conversation:\n"
# Room for the heading and the blank lines around the context block.
FRAMING_TOKENS = 8
# Counts tokens offline with the model's own tokenizer (the router's count_tokens).
TokenCounter = Callable[[ModelSpec, tuple[ChatMessage, ...]], Awaitable[TokenCount]]
# Given how many of the oldest turns were dropped, a summary of them (None: none available).
Summarizer = Callable[[int], Awaitable[str | None]]


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
        history: tuple[ChatMessage, ...] = (),
        summarize: Summarizer | None = None,
    ) -> None:
        self._base = base
        self._context = context
        self._strategy = strategy
        self._count_tokens = count
        self._requested_output = requested_output
        self._rendered = rendered
        self._tail = tail
        self._history = history
        self._summarize = summarize
        self._built: dict[tuple[str, int], BuiltPrompt] = {}
        self._costs: dict[str, list[int]] = {}
        self._turn_costs: dict[str, list[int]] = {}

    async def for_model(self, model: ModelSpec) -> BuiltPrompt:
        if not self._context and not self._history:
            return BuiltPrompt(self._base)
        key = (model.provider, model.context_window)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = await self._build(model)
        return built

    async def _count(self, model: ModelSpec, text: str) -> int:
        return (await self._count_tokens(model, (ChatMessage("user", text),))).count

    async def _message_cost(self, model: ModelSpec, message: ChatMessage) -> int:
        """What one more message adds to a prompt: its text plus the framing every message costs."""
        empty = ChatMessage("user", "")
        return (await self._count_tokens(model, (message, empty))).count - await self._count(model, "")

    async def _sizes(self, model: ModelSpec, texts: list[str], given: list[int | None]) -> list[int]:
        """Each text's tokens (the caller's count when given); one tokenizer per provider is close enough."""
        empty = await self._count(model, "")
        return [
            g if g is not None else max(await self._count(model, t) - empty, 0)
            for t, g in zip(texts, given, strict=True)
        ]

    async def _build(self, model: ModelSpec) -> BuiltPrompt:
        base_tokens = (await self._count_tokens(model, self._base)).count
        reserved = model.output_reservation(self._requested_output)
        budget = model.context_window - base_tokens - reserved - FRAMING_TOKENS
        history, dropped, budget = await self._fit_history(model, budget)
        costs = self._costs.get(model.provider)
        if costs is None:
            texts = [render_item(item) for item in self._context]
            costs = self._costs[model.provider] = await self._sizes(
                model, texts, [i.token_count for i in self._context]
            )
        result = prune(self._context, costs, budget, self._strategy)
        dropped_sources = tuple(self._context[i].source for i in result.dropped_indices)
        return BuiltPrompt(
            await self._place(result.kept, history), len(result.kept), result.dropped, dropped_sources,
            tuple(result.kept_indices), tuple(costs), len(self._history) - dropped, dropped,
        )  # fmt: skip

    async def _fit_history(self, model: ModelSpec, budget: int) -> tuple[tuple[ChatMessage, ...], int, int]:
        """The newest turns that fit (plus a summary of the rest when one can be made), how many turns were
        dropped, and the budget left for the context."""
        if not self._history:
            return (), 0, budget
        costs = self._turn_costs.get(model.provider)
        if costs is None:
            costs = self._turn_costs[model.provider] = [await self._message_cost(model, t) for t in self._history]
        kept = 0
        for cost in reversed(costs):
            if cost > budget:
                break
            budget -= cost
            kept += 1
        dropped = len(self._history) - kept
        turns = self._history[dropped:]
        if dropped and self._summarize is not None:
            summary = await self._summarize(dropped)
            if summary:
                message = ChatMessage("system", f"{SUMMARY_HEADING}{summary}")
                cost = await self._message_cost(model, message)
                if cost <= budget:
                    budget -= cost
                    turns = (message, *turns)
        return turns, dropped, budget

    async def _place(self, kept: list[ContextItem], history: tuple[ChatMessage, ...]) -> tuple[ChatMessage, ...]:
        messages = await self._with_context(kept)
        if not history:
            return messages
        # The earlier turns go after the system messages, before this request's own turns.
        split = next((i for i, m in enumerate(messages) if m.role != "system"), len(messages))
        return (*messages[:split], *history, *messages[split:])

    async def _with_context(self, kept: list[ContextItem]) -> tuple[ChatMessage, ...]:
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
