"""The model catalog: configured models by name and alias, with prices and capabilities."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.config import ModelSettings, Settings
from orchestrator.domain import TokenUsage
from orchestrator.errors import FieldViolation, NotFoundError, Reason


@dataclass(frozen=True, slots=True)
class CatalogModel:
    settings: ModelSettings
    provider_type: str

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def provider(self) -> str:
        return self.settings.provider

    def cost(self, usage: TokenUsage) -> float:
        s = self.settings
        cached_price = (
            s.cached_input_cost_per_million_tokens
            if s.cached_input_cost_per_million_tokens is not None
            else s.input_cost_per_million_tokens
        )
        fresh_input = max(usage.input_tokens - usage.cached_input_tokens, 0)
        return (
            fresh_input * s.input_cost_per_million_tokens
            + usage.cached_input_tokens * cached_price
            + usage.output_tokens * s.output_cost_per_million_tokens
        ) / 1_000_000

    def has(self, capabilities: tuple[str, ...]) -> bool:
        return all(c in self.settings.capabilities for c in capabilities)


class ModelCatalog:
    def __init__(self, settings: Settings) -> None:
        self.models = tuple(CatalogModel(m, settings.providers[m.provider].type) for m in settings.models)
        self._by_name: dict[str, CatalogModel] = {}
        for model in self.models:
            for name in (model.name, *model.settings.aliases):
                self._by_name[name] = model
        self.default = self._by_name[settings.default_model_name]

    def find(self, name: str) -> CatalogModel | None:
        return self._by_name.get(name)

    def get(self, name: str, field: str = "model") -> CatalogModel:
        """The model called `name` (or the default for an empty name); NotFoundError otherwise."""
        if not name:
            return self.default
        model = self._by_name.get(name)
        if model is None:
            raise NotFoundError(
                f"model {name!r} is not configured (ListModels shows the configured models)",
                reason=Reason.MODEL_NOT_FOUND,
                field_violations=[FieldViolation(field, "unknown model")],
                metadata={"model": name},
            )
        return model

    def ordered(self) -> list[CatalogModel]:
        """Default model first, then the rest in configuration order."""
        return [self.default, *(m for m in self.models if m is not self.default)]
