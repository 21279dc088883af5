"""The model catalog: configured models by name and alias, with prices, windows and capabilities.

`ModelSpec` is a plain runtime type (orchestrator.runtime builds it from the validated settings); nothing
below the composition root sees configuration classes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from orchestrator.domain import TokenUsage
from orchestrator.errors import FieldViolation, NotFoundError, Reason


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    # The configured provider's name (e.g. "openai", "local") and its wire API type.
    provider: str
    provider_type: str
    # The id sent to the provider.
    wire_name: str
    context_window: int
    max_output_tokens: int
    input_cost_per_million_tokens: float = 0.0
    output_cost_per_million_tokens: float = 0.0
    cached_input_cost_per_million_tokens: float | None = None
    capabilities: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    weight: float = 1.0
    # The provider's timeout for one call (the caller's deadline may shorten it).
    timeout_seconds: float | None = None
    # Shown by ListModels when the wire name differs from the name.
    upstream_model: str = ""

    @property
    def cached_input_price(self) -> float:
        if self.cached_input_cost_per_million_tokens is not None:
            return self.cached_input_cost_per_million_tokens
        return self.input_cost_per_million_tokens

    def cost(self, usage: TokenUsage) -> float:
        fresh_input = max(usage.input_tokens - usage.cached_input_tokens, 0)
        return (
            fresh_input * self.input_cost_per_million_tokens
            + usage.cached_input_tokens * self.cached_input_price
            + usage.output_tokens * self.output_cost_per_million_tokens
        ) / 1_000_000

    def output_reservation(self, requested: int | None) -> int:
        """The output tokens a request may use on this model: what it asked for, at most the model's maximum.

        The one definition used for the upstream request's limit, the context budget, the window check,
        cost estimates and quota reservations.
        """
        return min(requested or self.max_output_tokens, self.max_output_tokens)

    def estimated_cost(self, prompt_tokens: int, requested_output: int | None) -> float:
        """The most this prompt can cost here (the whole output reservation used)."""
        return self.cost(TokenUsage(prompt_tokens, self.output_reservation(requested_output)))

    def has(self, capabilities: Iterable[str]) -> bool:
        return all(c in self.capabilities for c in capabilities)


class ModelCatalog:
    def __init__(self, models: Iterable[ModelSpec], default: str) -> None:
        self.models = tuple(models)
        self._by_name: dict[str, ModelSpec] = {}
        for model in self.models:
            for name in (model.name, *model.aliases):
                self._by_name[name] = model
        self.default = self._by_name[default]

    def find(self, name: str) -> ModelSpec | None:
        return self._by_name.get(name)

    def get(self, name: str, field: str = "model") -> ModelSpec:
        """The model called `name` (or the default for an empty name); NotFoundError otherwise."""
        if not name:
            return self.default
        model = self._by_name.get(name)
        if model is None:
            raise NotFoundError(
                f"model {name[:128]!r} is not configured (ListModels shows the configured models)",
                reason=Reason.MODEL_NOT_FOUND,
                field_violations=[FieldViolation(field, "unknown model")],
                metadata={"model": name[:128]},
            )
        return model

    def ordered(self) -> list[ModelSpec]:
        """Default model first, then the rest in configuration order."""
        return [self.default, *(m for m in self.models if m is not self.default)]
