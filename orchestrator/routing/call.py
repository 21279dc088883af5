"""What the pipeline hands the router for one request, and what the router hands back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from orchestrator.domain import Attempt, ChatMessage, SamplingParams, TextDelta
from orchestrator.errors import InvalidModelOutputError
from orchestrator.providers.base import Completion
from orchestrator.routing.catalog import ModelSpec


@dataclass(frozen=True, slots=True)
class BuiltPrompt:
    """The messages one model receives, and what happened to the context on the way."""

    messages: tuple[ChatMessage, ...]
    context_used: int = 0
    context_dropped: int = 0
    dropped_sources: tuple[str, ...] = ()
    # Which context items were kept (indices into the request's items) and each item's size in tokens.
    kept_context: tuple[int, ...] = ()
    context_tokens: tuple[int, ...] = ()
    # Earlier conversation turns sent, and dropped for the budget (replaced by a summary when configured).
    history_used: int = 0
    history_dropped: int = 0


class PromptSource(Protocol):
    """The messages for a given model (the context is pruned per model window)."""

    async def for_model(self, model: ModelSpec) -> BuiltPrompt: ...


# Checks an answer's text; returns the shaped answer or raises InvalidModelOutputError to reject it.
Acceptance = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Reask:
    """After a rejected answer: ask the same model again up to `limit` times, with these turns appended."""

    limit: int
    turns: Callable[[str, InvalidModelOutputError], tuple[ChatMessage, ...]]


class SpendGuard(Protocol):
    """Books each upstream attempt against the caller's budgets (orchestrator.policy.quotas.RequestSpend)."""

    async def count_request(self) -> None:
        """Count the request without any upstream call (answered from the cache)."""
        ...

    async def reserve(self, tokens: int, cost: float) -> object:
        """Reserve the attempt's worst case; raises RESOURCE_EXHAUSTED when a budget would be overshot."""
        ...

    def settle(self, reservation: object, tokens: int, cost: float) -> None:
        """Replace the reservation with what the attempt really used."""
        ...


@dataclass(frozen=True, slots=True)
class Call:
    """One routed request: what to send, with which limits, until when, and what answer is acceptable."""

    prompt: PromptSource
    params: SamplingParams
    deadline: float | None
    json_schema: dict[str, Any] | None = None
    accept: Acceptance | None = None
    reask: Reask | None = None
    spend: SpendGuard | None = None
    # The ledger: every upstream attempt, appended as it happens, so that usage and cost are booked whatever
    # the outcome (an error, a rejected answer, a cancelled call).
    attempts: list[Attempt] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RouteStarted:
    """The model whose answer is about to stream."""

    model: ModelSpec


@dataclass(frozen=True, slots=True)
class RouteFinished:
    completion: Completion
    model: ModelSpec
    # Every upstream call made for the request, each with its usage and cost.
    attempts: list[Attempt]
    prompt: BuiltPrompt
    # What the acceptance check returned for the answer (None without a check).
    accepted: Any = field(default=None)


# A stream: RouteStarted, then TextDelta pieces, then RouteFinished.
RouteEvent = RouteStarted | TextDelta | RouteFinished
