"""The one walk through a plan: retries with backoff, re-asks after rejected answers, fallbacks, breakers, deadlines.

Failures and rejected answers are handled alike (as pydantic-ai's FallbackModel treats a rejected response
like an error): a transient failure retries the same model, a rejected answer re-asks it (Call.reask) and
then either moves on to the next model. Unary calls and streams share the walk; a stream can only fall
back while nothing has reached the caller: once a delta was sent, a failure (cut, stall beyond the idle
timeout, malformed chunk) or a rejected answer ends the stream with an error.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from orchestrator.domain import (
    Attempt,
    AttemptOutcome,
    ChatMessage,
    CircuitState,
    ModelSelection,
    SamplingParams,
    TextDelta,
    TokenCount,
    TokenUsage,
)
from orchestrator.errors import (
    DeadlineExceededError,
    InvalidModelOutputError,
    OrchestratorError,
    Reason,
    UnavailableError,
)
from orchestrator.providers.base import Completion, Provider, ProviderError, ProviderErrorKind, ProviderRequest
from orchestrator.providers.idle import lent_timeout
from orchestrator.routing.call import BuiltPrompt, Call, RouteEvent, RouteFinished, RouteStarted
from orchestrator.routing.catalog import ModelCatalog, ModelSpec
from orchestrator.routing.health import HoldBoard, ModelHealth, serving
from orchestrator.routing.outcomes import all_failed, caller_error, rejected
from orchestrator.routing.planner import plan_models
from orchestrator.routing.policy import RoutingPolicy, TaskRoute
from orchestrator.routing.spans import AttemptSpan

T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Walk:
    """What one request's walk through the plan has seen so far."""

    attempts: list[Attempt]  # the call's ledger
    skipped: list[str] = field(default_factory=list)
    # The latest failure: decides the error when every model has been tried.
    last: ProviderError | InvalidModelOutputError | None = None
    span: AttemptSpan | None = None  # the successful attempt's span, ended when its answer is complete
    # The successful attempt's budget reservation and prompt size, settled when its answer is complete.
    reservation: object | None = None
    prompt_tokens: int = 0


@dataclass(frozen=True, slots=True)
class _Answered:
    """A unary answer the acceptance check has seen."""

    completion: Completion
    accepted: Any


class Router:
    def __init__(
        self,
        catalog: ModelCatalog,
        providers: Mapping[str, Provider],
        policy: RoutingPolicy | None = None,
        holds: HoldBoard | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.catalog = catalog
        self.policy = policy = policy or RoutingPolicy()
        self._providers = providers
        self._sleep = sleep
        self._holds = holds
        self._health = {
            m.name: ModelHealth(
                policy.breaker,
                policy.budget,
                policy.latency_ewma_alpha,
                on_hold=holds.publisher(m.name) if holds else None,
            )
            for m in catalog.models
        }

    async def start(self) -> None:
        if self._holds is not None:
            self._holds.start(self._health)

    async def aclose(self) -> None:
        if self._holds is not None:
            await self._holds.aclose()

    def provider(self, model: ModelSpec) -> Provider:
        return self._providers[model.provider]

    def circuit_state(self, model: ModelSpec) -> CircuitState:
        # OPEN while the provider says it cannot serve (the embedded model's wedged worker).
        return self._health[model.name].current_state() if serving(self.provider(model)) else CircuitState.OPEN

    async def count_tokens(
        self, model: ModelSpec, messages: tuple[ChatMessage, ...], exact: bool = False
    ) -> TokenCount:
        return await self.provider(model).count_tokens(model.wire_name, messages, exact=exact)

    def plan(
        self,
        selection: ModelSelection,
        task: TaskRoute,
        prompt_tokens: int = 0,
        max_output_tokens: int | None = None,
        allowed: Callable[[ModelSpec], bool] | None = None,
    ) -> list[ModelSpec]:
        return plan_models(
            self.catalog,
            selection,
            task,
            prompt_tokens,
            max_output_tokens,
            lambda m: self._health[m.name].latency_ms,
            allowed,
        )

    def _request(self, model: ModelSpec, messages: tuple[ChatMessage, ...], call: Call) -> ProviderRequest:
        params, deadline = call.params, call.deadline
        timeout = model.timeout_seconds
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError("the request's deadline passed", reason=Reason.DEADLINE_EXCEEDED)
            timeout = remaining if timeout is None else min(timeout, remaining)
        params = SamplingParams(
            params.temperature, params.top_p, model.output_reservation(params.max_output_tokens), params.stop
        )
        return ProviderRequest(model.wire_name, messages, params, timeout, call.json_schema)

    async def _prompt_tokens(
        self, model: ModelSpec, messages: tuple[ChatMessage, ...], params: SamplingParams
    ) -> int | None:
        """The prompt's tokens (counted offline), or None when it and the output reservation overflow the window."""
        count = (await self.count_tokens(model, messages)).count
        return count if count + model.output_reservation(params.max_output_tokens) <= model.context_window else None

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        """Exponential backoff with full jitter; never sooner than the upstream's Retry-After."""
        p = self.policy
        jittered = random.uniform(0, min(p.backoff_max_seconds, p.backoff_initial_seconds * 2 ** (retry - 1)))
        return max(jittered, retry_after or 0.0)

    async def _walk(
        self,
        plan: list[ModelSpec],
        call: Call,
        run: Callable[[ModelSpec, ProviderRequest], Awaitable[T]],
        judge: bool,
    ) -> tuple[T, ModelSpec, BuiltPrompt, _Walk]:
        """Try the plan's models in order until one answers (and, when `judge`, its answer is accepted)."""
        walk = _Walk(call.attempts)
        too_small_at = 0  # after a context-length error, skip models whose window is no larger
        for position, model in enumerate(plan, 1):
            health = self._health[model.name]
            built = await call.prompt.for_model(model)
            prompt_tokens = (
                None
                if model.context_window <= too_small_at
                else await self._prompt_tokens(model, built.messages, call.params)
            )
            if prompt_tokens is None:
                walk.skipped.append(f"{model.name} (context window)")
                continue
            messages = built.messages
            reasks_left = call.reask.limit if call.reask and judge else 0
            tries = 0
            while tries < self.policy.max_attempts_per_model:
                tries += 1
                request = self._request(model, messages, call)  # may raise DEADLINE_EXCEEDED
                if not serving(self.provider(model)) or not health.try_acquire():
                    walk.skipped.append(f"{model.name} ({self.circuit_state(model).value})")
                    break
                reservation = await self._reserve(call, model, health, prompt_tokens, walk)
                started = time.monotonic()
                span = AttemptSpan.start(model, request, tries)
                try:
                    result = await run(model, request)
                except ProviderError as exc:
                    latency = (time.monotonic() - started) * 1000
                    _settle(call, reservation, 0, 0.0)  # a failed call is not billed
                    span.fail(exc.reason, exc.message)
                    log.info(
                        "upstream attempt failed",
                        extra={"model": model.name, "reason": exc.reason, "detail": exc.message, "attempt": tries},
                    )
                    walk.attempts.append(Attempt(model.name, model.provider, AttemptOutcome.ERROR, exc.reason, latency))
                    health.record_failure(exc.kind.retryable)
                    if exc.retry_after:
                        health.hold(exc.retry_after)
                    if not exc.kind.fallback_helps:
                        raise _with_attempts(caller_error(exc, model), walk) from None
                    walk.last = exc
                    if exc.kind is ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED:
                        too_small_at = model.context_window
                    delay = self._retry_delay(exc, tries, position == len(plan), health, call, walk, model)
                    if delay is None:
                        break
                    await self._sleep(delay)
                    continue
                except OrchestratorError as refused:  # before any work (a full queue): not the model's failure
                    health.release()
                    _settle(call, reservation, 0, 0.0)
                    span.fail(refused.reason, refused.message)
                    raise _with_attempts(refused, walk) from None
                except BaseException:
                    health.release()  # cancelled: says nothing about the model
                    # The upstream may bill the prompt it received; what it generated never reached us.
                    _settle(call, reservation, prompt_tokens, model.cost(TokenUsage(prompt_tokens, 0)))
                    span.fail(Reason.CANCELLED, "cancelled")
                    raise
                latency = (time.monotonic() - started) * 1000
                health.record_success(latency)
                if not judge:
                    walk.attempts.append(Attempt(model.name, model.provider, AttemptOutcome.SUCCESS, "", latency))
                    walk.span, walk.reservation, walk.prompt_tokens = span, reservation, prompt_tokens
                    return result, model, built, walk
                completion: Completion = result  # type: ignore[assignment]
                cost = model.cost(completion.usage)
                _settle(call, reservation, completion.usage.input_tokens + completion.usage.output_tokens, cost)
                span.end(completion)
                try:
                    accepted = await call.accept(completion.text) if call.accept else None
                except InvalidModelOutputError as rejection:
                    walk.attempts.append(
                        Attempt(
                            model.name, model.provider, AttemptOutcome.INVALID_OUTPUT, rejection.reason, latency,
                            completion.usage, cost, rejection.metadata.get("validator", ""),
                        )
                    )  # fmt: skip
                    walk.last = rejection
                    if reasks_left and call.reask is not None:
                        reasks_left, tries = reasks_left - 1, 0
                        messages = (*messages, *call.reask.turns(completion.text, rejection))
                        continue
                    break
                walk.attempts.append(
                    Attempt(model.name, model.provider, AttemptOutcome.SUCCESS, "", latency, completion.usage, cost)
                )
                return _Answered(completion, accepted), model, built, walk  # type: ignore[return-value]
        raise _with_attempts(self._failure(walk, call), walk)

    def _retry_delay(
        self,
        exc: ProviderError,
        tries: int,
        last_model: bool,
        health: ModelHealth,
        call: Call,
        walk: _Walk,
        model: ModelSpec,
    ) -> float | None:
        """How long to wait before trying the same model again; None: move on."""
        if not exc.kind.retryable or tries == self.policy.max_attempts_per_model:
            return None
        if exc.retry_after is not None and not last_model:
            return None  # the upstream said "not now": another model can answer at once
        if not health.may_retry():
            walk.skipped.append(f"{model.name} (retry budget)")
            return None
        delay = self._backoff(tries, exc.retry_after)
        if call.deadline is not None and time.monotonic() + delay >= call.deadline:
            return None
        return delay

    async def _reserve(
        self, call: Call, model: ModelSpec, health: ModelHealth, prompt_tokens: int, walk: _Walk
    ) -> object | None:
        """Book the attempt's worst case (prompt + output reservation) against the caller's budgets."""
        if call.spend is None:
            return None
        output = model.output_reservation(call.params.max_output_tokens)
        try:
            return await call.spend.reserve(prompt_tokens + output, model.estimated_cost(prompt_tokens, output))
        except OrchestratorError as refused:
            health.release()  # nothing was sent
            raise _with_attempts(refused, walk) from None
        except BaseException:
            health.release()
            raise

    def _failure(self, walk: _Walk, call: Call) -> OrchestratorError:
        if isinstance(walk.last, InvalidModelOutputError):
            return rejected(walk.last, walk.attempts)
        return all_failed(walk.attempts, walk.last, walk.skipped, call.deadline)

    async def complete(self, plan: list[ModelSpec], call: Call) -> RouteFinished:
        async def run(model: ModelSpec, request: ProviderRequest) -> Completion:
            return await self.provider(model).generate(request)

        answered, model, built, walk = await self._walk(plan, call, run, judge=True)
        result: _Answered = answered  # type: ignore[assignment]
        return RouteFinished(result.completion, model, walk.attempts, built, result.accepted)

    async def _open_stream(self, model: ModelSpec, request: ProviderRequest) -> tuple[Any, AsyncIterator[Any]]:
        """Start a stream and wait for its first event, so a failure before it can still fall back."""
        events = self.provider(model).stream(request)
        try:
            async with lent_timeout(self.policy.stream_idle_timeout_seconds):  # our queue's time does not count
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

    async def stream(self, plan: list[ModelSpec], call: Call) -> AsyncIterator[RouteEvent]:
        (event, events), model, built, walk = await self._walk(plan, call, self._open_stream, judge=False)
        span = walk.span
        if span is not None:
            span.first_chunk(walk.attempts[-1].latency_ms / 1000)
        idle = self.policy.stream_idle_timeout_seconds
        parts: list[str] = []
        completed = False
        try:
            yield RouteStarted(model)
            while isinstance(event, TextDelta):
                parts.append(event.text)
                yield event
                # Only the wait for the upstream is timed, never the time our caller takes to read.
                async with asyncio.timeout(idle):
                    event = await anext(events)
            completed = True
        except (ProviderError, TimeoutError, StopAsyncIteration) as exc:
            reason = exc.reason if isinstance(exc, ProviderError) else (
                Reason.UPSTREAM_STREAM_STALLED if isinstance(exc, TimeoutError) else Reason.UPSTREAM_MALFORMED_RESPONSE
            )  # fmt: skip
            self._health[model.name].record_failure(transient=True)
            walk.attempts[-1] = replace(walk.attempts[-1], outcome=AttemptOutcome.ERROR, error_reason=reason)
            if span is not None:
                span.fail(reason, str(exc))
            error = UnavailableError(
                f"model {model.name} failed mid-stream ({reason}); the text sent so far is incomplete",
                reason=Reason.STREAM_INTERRUPTED,
                metadata={"model": model.name, "upstream_reason": reason},
            )
            raise _with_attempts(error, walk) from None
        finally:
            if not completed:
                # Cut, stalled or cancelled: book the prompt and an estimate of what was streamed (4 characters
                # a token), which the upstream bills all the same.
                usage = TokenUsage(walk.prompt_tokens, len("".join(parts)) // 4, estimated=True)
                walk.attempts[-1] = replace(walk.attempts[-1], usage=usage, cost_usd=model.cost(usage))
                _settle(call, walk.reservation, usage.input_tokens + usage.output_tokens, model.cost(usage))
            await events.aclose()
        completion: Completion = event
        if span is not None:
            span.end(completion)
        usage = completion.usage
        _settle(call, walk.reservation, usage.input_tokens + usage.output_tokens, model.cost(usage))
        yield await self._finish_stream(completion, model, built, walk, call, "".join(parts))

    async def _finish_stream(
        self, completion: Completion, model: ModelSpec, built: BuiltPrompt, walk: _Walk, call: Call, text: str
    ) -> RouteFinished:
        """Book the streamed answer's usage; check it (too late to re-ask: its text has been sent)."""
        usage: TokenUsage = completion.usage
        done = replace(walk.attempts[-1], usage=usage, cost_usd=model.cost(usage))
        try:
            accepted = await call.accept(text) if call.accept else None
        except InvalidModelOutputError as rejection:
            walk.attempts[-1] = replace(
                done, outcome=AttemptOutcome.INVALID_OUTPUT, error_reason=rejection.reason,
                validator=rejection.metadata.get("validator", ""),
            )  # fmt: skip
            raise rejected(rejection, walk.attempts) from None
        walk.attempts[-1] = done
        return RouteFinished(completion, model, walk.attempts, built, accepted)


def _settle(call: Call, reservation: object | None, tokens: int, cost: float) -> None:
    if call.spend is not None and reservation is not None:
        call.spend.settle(reservation, tokens, cost)


def _with_attempts(error: OrchestratorError, walk: _Walk) -> OrchestratorError:
    error.attempts = tuple(walk.attempts)
    return error
