"""The configured models as callers see them (ListModels, CountTokens): only the models they may use."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from orchestrator.domain import Caller, ChatMessage, CircuitState, TokenCount
from orchestrator.policy.authorization import check_model
from orchestrator.routing.catalog import ModelSpec
from orchestrator.routing.health import serving
from orchestrator.routing.router import Router


@dataclass(frozen=True, slots=True)
class ModelStatus:
    spec: ModelSpec
    circuit_state: CircuitState


class ModelDirectory:
    def __init__(self, router: Router) -> None:
        self._router = router

    def list(self, caller: Caller | None = None) -> list[ModelStatus]:
        """Default model first, then the rest in configuration order, each with its circuit state."""
        return [
            ModelStatus(m, self._router.circuit_state(m))
            for m in self._router.catalog.ordered()
            if caller is None or caller.may_use_model(m.name)
        ]

    def states(self) -> list[tuple[str, CircuitState]]:
        return [(s.spec.name, s.circuit_state) for s in self.list()]

    def stuck(self) -> list[str]:
        """Models whose in-process worker cannot make progress (the embedded model's wedged decode thread).

        Unlike an open breaker (an upstream outage, which a restart cannot fix), this is the process's own
        fault: the health service reports it so that Kubernetes restarts the pod.
        """
        return [m.name for m in self._router.catalog.ordered() if not serving(self._router.provider(m))]

    def model(self, caller: Caller, model_name: str) -> ModelSpec:
        """The model called `model_name` (the default for an empty name), if the caller may use it."""
        model = self._router.catalog.get(model_name)
        check_model(caller, model.name)
        return model

    @property
    def counter(self) -> Callable[[ModelSpec, tuple[ChatMessage, ...]], Awaitable[TokenCount]]:
        """Offline token counting with each model's tokenizer (for fitting context)."""
        return self._router.count_tokens

    async def count_tokens(
        self, caller: Caller, model_name: str, messages: tuple[ChatMessage, ...]
    ) -> tuple[ModelSpec, TokenCount]:
        """Tokens the messages take for the model (the default for an empty name), exactly where the provider can."""
        model = self.model(caller, model_name)
        return model, await self._router.count_tokens(model, messages, exact=True)
