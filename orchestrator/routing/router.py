"""Chooses the order in which models are tried and walks it, recording every attempt.

Fallback happens only while nothing has reached the caller: once a streamed delta has been sent, a
failure ends the stream with an error instead of silently switching models.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

from orchestrator.config import TaskSettings
from orchestrator.domain import (
    Attempt,
    AttemptOutcome,
    ChatMessage,
    CircuitState,
    ModelSelection,
    SamplingParams,
    TextDelta,
)
from orchestrator.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    InvalidArgumentError,
    OrchestratorError,
    ResourceExhaustedError,
    UnavailableError,
)
from orchestrator.providers.base import (
    Completion,
    Provider,
    ProviderError,
    ProviderErrorKind,
    ProviderRequest,
)
from orchestrator.routing.catalog import CatalogModel, ModelCatalog


@dataclass(frozen=True, slots=True)
class RouteStarted:
    """The model whose answer is about to stream."""

    model: CatalogModel


@dataclass(frozen=True, slots=True)
class RouteFinished:
    completion: Completion
    model: CatalogModel
    attempts: list[Attempt]


RouteEvent = RouteStarted | TextDelta | RouteFinished


class Router:
    def __init__(
        self,
        catalog: ModelCatalog,
        providers: Mapping[str, Provider],
        provider_timeouts: Mapping[str, float],
        tasks: Mapping[str, TaskSettings],
    ) -> None:
        self.catalog = catalog
        self._providers = providers
        self._timeouts = provider_timeouts
        self._tasks = tasks

    def provider(self, model: CatalogModel) -> Provider:
        return self._providers[model.provider]

    def circuit_state(self, model: CatalogModel) -> CircuitState:
        """Whether the router currently sends this model traffic (no breaker yet: always closed)."""
        return CircuitState.CLOSED

    def task(self, task_type: str) -> TaskSettings:
        return self._tasks.get(task_type) or TaskSettings()

    def plan(self, selection: ModelSelection, task_type: str) -> list[CatalogModel]:
        """Models to try, in order: preferred, then eligible candidates, then fallbacks, then the default."""
        task = self.task(task_type)
        capabilities = selection.required_capabilities or task.required_capabilities
        preferred = (
            [self.catalog.get(selection.preferred_model, "selection.preferred_model")]
            if selection.preferred_model
            else [self.catalog.get(n) for n in task.preferred_models]
        )
        eligible = [m for m in self.catalog.ordered() if m.has(capabilities)]
        if selection.preferred_provider:
            eligible.sort(key=lambda m: m.provider != selection.preferred_provider)
        fallbacks = [
            self.catalog.get(n, "selection.fallback_models")
            for n in (selection.fallback_models or task.fallback_models)
        ]
        order: list[CatalogModel] = []
        for model in (*preferred, *eligible, *fallbacks, self.catalog.default):
            if model not in order and model.has(capabilities):
                order.append(model)
        if not order:
            raise self._no_eligible(capabilities)
        return order

    @staticmethod
    def _no_eligible(capabilities: tuple[str, ...]) -> FailedPreconditionError:
        return FailedPreconditionError(
            f"no configured model has the capabilities {', '.join(capabilities)}",
            reason="NO_ELIGIBLE_MODEL",
        )

    def _request(
        self,
        model: CatalogModel,
        messages: tuple[ChatMessage, ...],
        params: SamplingParams,
        deadline: float | None,
    ) -> ProviderRequest:
        timeout = self._timeouts.get(model.provider)
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceededError("the request's deadline passed", reason="DEADLINE_EXCEEDED")
            timeout = remaining if timeout is None else min(timeout, remaining)
        max_out = params.max_output_tokens or model.settings.max_output_tokens
        params = SamplingParams(
            params.temperature, params.top_p, min(max_out, model.settings.max_output_tokens), params.stop
        )
        return ProviderRequest(model=model.settings.wire_name, messages=messages, params=params, timeout=timeout)

    async def stream(
        self,
        plan: list[CatalogModel],
        messages: tuple[ChatMessage, ...],
        params: SamplingParams,
        deadline: float | None,
    ) -> AsyncIterator[RouteEvent]:
        attempts: list[Attempt] = []
        last_error: ProviderError | None = None
        for model in plan:
            request = self._request(model, messages, params, deadline)
            provider = self._providers[model.provider]
            started = time.monotonic()
            events = provider.stream(request)
            announced = False
            try:
                async for event in events:
                    if not announced:
                        announced = True
                        yield RouteStarted(model)
                    if isinstance(event, TextDelta):
                        yield event
                        continue
                    attempts.append(_attempt(model, AttemptOutcome.SUCCESS, "", started))
                    yield RouteFinished(event, model, attempts)
                    return
                raise ProviderError(ProviderErrorKind.MALFORMED_RESPONSE, "stream ended without a final event")
            except ProviderError as exc:
                attempts.append(_attempt(model, AttemptOutcome.ERROR, exc.reason, started))
                if announced:
                    raise UnavailableError(
                        f"model {model.name} failed mid-stream: {exc.message}",
                        reason="STREAM_INTERRUPTED",
                        metadata={"model": model.name, "upstream_reason": exc.reason},
                    ) from None
                if not exc.kind.fallback_helps:
                    raise _caller_error(exc, model) from None
                last_error = exc
            finally:
                await events.aclose()
        raise _all_failed(attempts, last_error)

    async def complete(
        self,
        plan: list[CatalogModel],
        messages: tuple[ChatMessage, ...],
        params: SamplingParams,
        deadline: float | None,
    ) -> RouteFinished:
        attempts: list[Attempt] = []
        last_error: ProviderError | None = None
        for model in plan:
            request = self._request(model, messages, params, deadline)
            started = time.monotonic()
            try:
                completion = await self._providers[model.provider].generate(request)
            except ProviderError as exc:
                attempts.append(_attempt(model, AttemptOutcome.ERROR, exc.reason, started))
                if not exc.kind.fallback_helps:
                    raise _caller_error(exc, model) from None
                last_error = exc
                continue
            attempts.append(_attempt(model, AttemptOutcome.SUCCESS, "", started))
            return RouteFinished(completion, model, attempts)
        raise _all_failed(attempts, last_error)


def _attempt(model: CatalogModel, outcome: AttemptOutcome, reason: str, started: float) -> Attempt:
    return Attempt(model.name, model.provider, outcome, reason, (time.monotonic() - started) * 1000)


def _caller_error(exc: ProviderError, model: CatalogModel) -> OrchestratorError:
    """An upstream rejection that no other model would accept either."""
    return InvalidArgumentError(
        f"model {model.name} rejected the request: {exc.message}",
        reason=exc.reason,
        metadata={"model": model.name},
    )


def _all_failed(attempts: list[Attempt], last: ProviderError | None) -> OrchestratorError:
    tried = ", ".join(f"{a.model} ({a.error_reason})" for a in attempts) or "none"
    if last is not None and all(a.error_reason == ProviderErrorKind.RATE_LIMITED.value for a in attempts):
        return ResourceExhaustedError(
            f"every model is rate limited; tried: {tried}",
            reason="UPSTREAM_RATE_LIMITED",
            retry_after=last.retry_after,
        )
    if last is not None and all(a.error_reason == ProviderErrorKind.CONTEXT_LENGTH_EXCEEDED.value for a in attempts):
        return InvalidArgumentError(
            f"the prompt does not fit any model's context window; tried: {tried}",
            reason="CONTEXT_LENGTH_EXCEEDED",
        )
    return UnavailableError(
        f"every model route failed; tried: {tried}",
        reason="ALL_ROUTES_FAILED",
        retry_after=last.retry_after if last else None,
    )
