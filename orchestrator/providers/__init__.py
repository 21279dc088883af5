"""Provider adapters, one module per wire API, created through one dispatch table."""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.config import ProviderSettings
from orchestrator.errors import ConfigError
from orchestrator.providers.base import Provider


def _local(name: str, settings: ProviderSettings) -> Provider:
    from orchestrator.providers.local import LocalProvider  # imports llama_cpp: only when configured

    return LocalProvider(name, settings)


def _openai(name: str, settings: ProviderSettings) -> Provider:
    from orchestrator.providers.openai_chat import OPENAI, OpenAIChatProvider

    return OpenAIChatProvider(name, settings, OPENAI)


def _openai_compatible(name: str, settings: ProviderSettings) -> Provider:
    from orchestrator.providers.openai_chat import COMPATIBLE, OpenAIChatProvider

    return OpenAIChatProvider(name, settings, COMPATIBLE)


def _anthropic(name: str, settings: ProviderSettings) -> Provider:
    from orchestrator.providers.anthropic_messages import AnthropicProvider

    return AnthropicProvider(name, settings)


PROVIDER_FACTORIES: dict[str, Callable[[str, ProviderSettings], Provider]] = {
    "local": _local,
    "openai": _openai,
    "openai_compatible": _openai_compatible,
    "anthropic": _anthropic,
}


def create_provider(name: str, settings: ProviderSettings) -> Provider:
    factory = PROVIDER_FACTORIES.get(settings.type)
    if factory is None:
        raise ConfigError(f"providers.{name}.type: no adapter for {settings.type!r} in this build")
    return factory(name, settings)
