"""Walks the plan: retries transient failures with backoff, falls back, respects breakers and deadlines.

Fallback happens only while nothing has reached the caller: once a streamed delta has been sent, a
failure (cut, stall beyond the idle timeout, malformed chunk) ends the stream with an error.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar

from opentelemetry.trace import Span

from orchestrator.config import RoutingSettings, TaskSettings
from orchestrator.domain import (
    Attempt,
    AttemptOutcome,
    ChatMessage,
    CircuitState,
    ModelSelection,
    SamplingParams,
    TextDelta,
)
from orchestrator.errors import DeadlineExceededError, OrchestratorError, Reason, UnavailableError
from orchestrator.prompt import BuiltPrompt
from orchestrator.providers.base import Completion, Provider, ProviderError, ProviderErrorKind, ProviderRequest
from orchestrator.routing.catalog import CatalogModel, ModelCatalog
from orchestrator.routing.health import BreakerSettings, BudgetSettings, ModelHealth
from orchestrator.routing.outcomes import all_failed, caller_error
from orchestrator.routing.planner import plan_models
from orchestrator.routing.shared import SharedHolds
from orchestrator.telemetry.tracing import TRACING

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RouteStarted:
    """The model whose answer is about to stream."""

    model: CatalogModel


@dataclass(frozen=True, slots=True)
class RouteFinished:
    completion: Completion
    model: CatalogModel
    attempts: list[Attempt]
    prompt: BuiltPrompt


class PromptSource(Protocol):
    """The messages for a given model (the context is pruned per model window)."""

    async def for_model(self, model: CatalogModel) -> BuiltPrompt: ...


@dataclass(frozen=True, slots=True)
class Call:
    """One routed request: what to send, with which limits, until when."""

    prompt: PromptSource
    params: SamplingParams
    deadline: float | None
    json_schema: dict[str, Any] | None = None


RouteEvent = RouteStarted | TextDelta | RouteFinished


@dataclass(slots=True)
class _Walk:
    """What one request's walk through the plan has seen so far."""

    attempts: list[Attempt]
    skipped: list[str]
    last_error: ProviderError | None = None
    span: Span | None = None  # the successful attempt's span, ended when its answer is complete


class Router:
    def __init__(
        self,
        catalog: ModelCatalog,
        providers: Mapping[str, Provider],
        provider_timeouts: Mapping[str, float],
        tasks: Mapping[str, TaskSettings],
        settings: RoutingSettings | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        shared: SharedHolds | None = None,
    ) -> None:
        self.catalog = catalog
        self.settings = settings = settings or RoutingSettings()
        self._providers = providers
        self._timeouts = provider_timeouts
        self._tasks = tasks
        self._sleep = sleep
        breaker = BreakerSettings(**settings.breaker.model_dump())
        budget = BudgetSettings(**settings.retry_budget.model_dump())
        self._health = {
            m.name: ModelHealth(
                breaker, budget, settings.latency_ewma_alpha, on_hold=shared.publisher(m.name) if shared else None
            )
            for m in catalog.models
        }
        self._shared = shared

    async def start(self) -> None:
        if self._shared is not None:
            self._shared.start(self._health)

    async def aclose(self) -> None:
        if self._shared is not None:
            await self._shared.aclose()

    def provider(self, model: CatalogModel) -> Provider:
        return self._providers[model.provider]

    def task(self, task_type: str) -> TaskSettings:
        return self._tasks.get(task_type) or TaskSettings()

    def circuit_state(self, model: CatalogModel) -> CircuitState:
        return self._health[model.name].current_state()

    def plan(
        self, selection: ModelSelection, task_type: str, prompt_tokens: int = 0, max_output_tokens: int | None = None
    ) -> list[CatalogModel]:
        return plan_models(
            self.catalog,
            selection,
            self.task(task_type),
            prompt_tokens,
            max_output_tokens,
            lambda m: self._health[m.name].latency_ms,
        )

    def _request(self, model: CatalogModel, messages: tuple[ChatMessage, ...], call: Call) -> ProviderRequest:
        params, deadline = call.params, call.deadline
        timeout = self._timeouts.get(model.provider)
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError("the request's deadline passed", reason=Reason.DEADLINE_EXCEEDED)
            timeout = remaining if timeout is None else min(timeout, remaining)
        limit = model.settings.max_output_tokens
        params = SamplingParams(
            params.temperature, params.top_p, min(params.max_output_tokens or limit, limit), params.stop
        )
        return ProviderRequest(model.settings.wire_name, messages, params, timeout, call.json_schema)

    async def _fits(self, model: CatalogModel, messages: tuple[ChatMessage, ...], params: SamplingParams) -> bool:
        """Prompt plus requested output fit the model's context window (counted offline)."""
        count = await self.provider(model).count_tokens(model.settings.wire_name, messages)
        output = min(params.max_output_tokens or 1, model.settings.max_output_tokens)
        return count.count + output <= model.settings.context_window

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; never sooner than the upstream's Retry-After."""
        s = self.settings
        jittered = random.uniform(0, min(s.backoff_max_seconds, s.backoff_initial_seconds * 2 ** (retry - 1)))
        return max(jittered, retry_after or 0.0)

    async def _walk(
        self, plan: list[CatalogModel], call: Call, run: Callable[[CatalogModel, ProviderRequest], Awaitable[T]]
    ) -> tuple[T, CatalogModel, BuiltPrompt, _Walk]:
        walk = _Walk([], [])
        too_small_at = 0  # after a context-length error, skip models whose window is no larger
        for position, model in enumerate(plan, 1):
            health = self._health[model.name]
            built = await call.prompt.for_model(model)
            if model.settings.context_window <= too_small_at or not await self._fits(
                model, built.messages, call.params
            ):
                walk.skipped.append(f"{model.name} (context window)")
                continue
            for tries in range(1, self.settings.max_attempts_per_model + 1):
                request = self._request(model, built.messages, call)  # may raise DEADLINE_EXCEEDED
                if not health.try_acquire():
                    walk.skipped.append(f"{model.name} ({health.current_state().value})")
                    break
                started = time.monotonic()
                span = TRACING.attempt_span(model.provider_type, request.model, _span_attributes(request, tries))
                try:
                    result = await run(model, request)
                except ProviderError as exc:
                    TRACING.fail(span, exc.reason, exc.message)
                    log.info(
                        "upstream attempt failed",
                        extra={"model": model.name, "reason": exc.reason, "detail": exc.message, "attempt": tries},
                    )
                    latency = (time.monotonic() - started) * 1000
                    walk.attempts.append(Attempt(model.name, model.provider, AttemptOutcome.ERROR, exc.reason, latency))
                    health.record_failure(exc.kind.retryable)
                    if exc.retry_after:
                        health.hold(exc.retry_after)
                    if not exc.kind.fallback_helps:
                        raise _with_attempts(caller_error(exc, model), walk) from None
                    walk.last_error = exc
                    if exc.kind is ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED:
                        too_small_at = model.settings.context_window
                    if not exc.kind.retryable or tries == self.settings.max_attempts_per_model:
                        break
                    if exc.retry_after is not None and position < len(plan):
                        break  # the upstream said "not now": another model can answer at once
                    if not health.may_retry():
                        walk.skipped.append(f"{model.name} (retry budget)")
                        break
                    delay = self._backoff(tries, exc.retry_after)
                    if call.deadline is not None and time.monotonic() + delay >= call.deadline:
                        break
                    await self._sleep(delay)
                    continue
                except BaseException:
                    health.release()  # cancelled: says nothing about the model
                    TRACING.fail(span, "CANCELLED", "cancelled")
                    raise
                latency = (time.monotonic() - started) * 1000
                health.record_success(latency)
                walk.attempts.append(Attempt(model.name, model.provider, AttemptOutcome.SUCCESS, "", latency))
                walk.span = span
                return result, model, built, walk
        raise _with_attempts(all_failed(walk.attempts, walk.last_error, walk.skipped, call.deadline), walk)

    async def complete(self, plan: list[CatalogModel], call: Call) -> RouteFinished:
        async def run(model: CatalogModel, request: ProviderRequest) -> Completion:
            return await self.provider(model).generate(request)

        completion, model, built, walk = await self._walk(plan, call, run)
        _end_attempt_span(walk.span, completion)
        return RouteFinished(completion, model, walk.attempts, built)

    async def _open_stream(self, model: CatalogModel, request: ProviderRequest) -> tuple[Any, AsyncIterator[Any]]:
        """Start a stream and wait for its first event, so a failure before it can still fall back."""
        events = self.provider(model).stream(request)
        try:
            async with asyncio.timeout(self.settings.stream_idle_timeout_seconds):
                first = await anext(events)
        except TimeoutError:
            await events.aclose()
            raise ProviderError(ProviderErrorKind.TIMEOUT, f"{model.name}: no first token in time") from None
        except StopAsyncIteration:
            raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, f"{model.name}: empty stream") from None
        except BaseException:
            await events.aclose()
            raise
        return first, events

    async def stream(self, plan: list[CatalogModel], call: Call) -> AsyncIterator[RouteEvent]:
        (event, events), model, built, walk = await self._walk(plan, call, self._open_stream)
        if walk.span is not None and walk.span.is_recording():
            walk.span.set_attribute("gen_ai.response.time_to_first_chunk", walk.attempts[-1].latency_ms / 1000)
        idle = self.settings.stream_idle_timeout_seconds
        try:
            yield RouteStarted(model)
            while isinstance(event, TextDelta):
                yield event
                # Only the wait for the upstream is timed, never the time our caller takes to read.
                async with asyncio.timeout(idle):
                    event = await anext(events)
            _end_attempt_span(walk.span, event)
            yield RouteFinished(event, model, walk.attempts, built)
        except (ProviderError, TimeoutError, StopAsyncIteration) as exc:
            reason = exc.reason if isinstance(exc, ProviderError) else (
                "UPSTREAM_STREAM_STALLED" if isinstance(exc, TimeoutError) else "UPSTREAM_MALFORMED_RESPONSE"
            )  # fmt: skip
            self._health[model.name].record_failure(transient=True)
            walk.attempts[-1] = replace(walk.attempts[-1], outcome=AttemptOutcome.ERROR, error_reason=reason)
            if walk.span is not None:
                TRACING.fail(walk.span, reason, str(exc))
            error = UnavailableError(
                f"model {model.name} failed mid-stream ({reason}); the text sent so far is incomplete",
                reason=Reason.STREAM_INTERRUPTED,
                metadata={"model": model.name, "upstream_reason": reason},
            )
            raise _with_attempts(error, walk) from None
        finally:
            await events.aclose()


def _with_attempts(error: OrchestratorError, walk: _Walk) -> OrchestratorError:
    error.attempts = tuple(walk.attempts)
    return error


def _span_attributes(request: ProviderRequest, attempt: int) -> dict[str, Any]:
    if not TRACING.enabled:
        return {}
    params = request.params
    attributes: dict[str, Any] = {
        "orchestrator.attempt": attempt,
        "gen_ai.request.max_tokens": params.max_output_tokens,
    }
    if params.temperature is not None:
        attributes["gen_ai.request.temperature"] = params.temperature
    if params.top_p is not None:
        attributes["gen_ai.request.top_p"] = params.top_p
    if TRACING.record_content:
        attributes["gen_ai.input.messages"] = json.dumps(
            [{"role": m.role, "content": m.content} for m in request.messages]
        )
    return attributes


def _end_attempt_span(span: Span | None, completion: Completion) -> None:
    if span is None or not span.is_recording():
        return
    span.set_attributes(
        {
            "gen_ai.response.model": completion.response_model,
            "gen_ai.usage.input_tokens": completion.usage.input_tokens,
            "gen_ai.usage.output_tokens": completion.usage.output_tokens,
            "gen_ai.response.finish_reasons": [completion.finish_reason.value],
        }
    )
    if TRACING.record_content and completion.text:
        span.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "content": completion.text}]))
    span.end()
