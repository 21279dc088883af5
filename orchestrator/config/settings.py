"""Typed settings: YAML (`--config` / ORCHESTRATOR_CONFIG) plus the SDKs' env vars, validated at start.

Every error names the offending path, e.g. `models[1].provider: unknown provider 'opnai'`. String values may
name environment variables as `${env:NAME}` (secrets mounted from Kubernetes Secrets, for example); an unset
variable is an error naming the path. `orchestrator.runtime` turns the validated settings into the runtime
objects the service runs on; `check-config` and `serve` share that one step.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator

from orchestrator.catalog_defaults import DEFAULT_MODELS, LOCAL_PROVIDER_NAME
from orchestrator.config.auth import AuthSettings
from orchestrator.config.base import Strict
from orchestrator.config.context import ConversationSettings, KnowledgeSettings
from orchestrator.config.feedback import FeedbackSettings
from orchestrator.config.sections import (
    CacheSettings,
    ModelSettings,
    ProviderSettings,
    RoutingSettings,
    ServerSettings,
    SharedStateSettings,
    TaskSettings,
    TelemetrySettings,
    TemplateSettings,
)
from orchestrator.errors import ConfigError

# The vendors' own variables for their keys (the SDKs read the same ones).
_KEY_VARIABLES = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class Settings(Strict):
    server: ServerSettings = ServerSettings()
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    models: tuple[ModelSettings, ...] = ()
    default_model: str | None = None
    tasks: dict[str, TaskSettings] = Field(default_factory=dict)
    routing: RoutingSettings = RoutingSettings()
    templates: TemplateSettings = TemplateSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    cache: CacheSettings = CacheSettings()
    shared_state: SharedStateSettings = SharedStateSettings()
    auth: AuthSettings = AuthSettings()
    conversations: ConversationSettings = ConversationSettings()
    knowledge: KnowledgeSettings = KnowledgeSettings()
    feedback: FeedbackSettings = FeedbackSettings()

    @model_validator(mode="after")
    def _references_resolve(self) -> Settings:
        problems: list[str] = []
        if self.cache.type == "redis" and self.shared_state.redis_url is None:
            problems.append("cache.type: redis needs shared_state.redis_url")
        for name, provider in self.providers.items():
            key = provider.api_key.get_secret_value() if provider.api_key else ""
            if provider.type in _KEY_VARIABLES and not key:
                problems.append(f"providers.{name}.api_key: required (or set {_KEY_VARIABLES[provider.type]})")
        if not self.providers:
            problems.append("providers: at least one provider is required")
        seen: dict[str, str] = {}
        for i, model in enumerate(self.models):
            if model.provider not in self.providers:
                problems.append(f"models[{i}].provider: unknown provider {model.provider!r}")
            for name in (model.name, *model.aliases):
                if name in seen:
                    problems.append(f"models[{i}]: name {name!r} already used by model {seen[name]!r}")
                seen[name] = model.name
        for provider_name in self.providers:
            if not any(m.provider == provider_name for m in self.models):
                problems.append(f"providers.{provider_name}: no model in `models` uses this provider")
        if self.default_model is not None and self.default_model not in seen:
            problems.append(f"default_model: unknown model {self.default_model!r}")
        for task, spec in self.tasks.items():
            for key in ("preferred_models", "fallback_models"):
                for j, name in enumerate(getattr(spec, key)):
                    if name not in seen:
                        problems.append(f"tasks.{task}.{key}[{j}]: unknown model {name!r}")
        for task, spec in self.tasks.items():
            summary = spec.conversation.summary_model
            if summary is not None and summary not in seen:
                problems.append(f"tasks.{task}.conversation.summary_model: unknown model {summary!r}")
            if spec.conversation.summarize_dropped and summary is None:
                problems.append(f"tasks.{task}.conversation.summary_model: required with summarize_dropped")
        stores = {"redis": self.shared_state.redis_url is not None, "postgres": self.templates.store.type == "postgres"}
        if not stores.get(self.conversations.store, True):
            needs = "shared_state.redis_url" if self.conversations.store == "redis" else "templates.store.type postgres"
            problems.append(f"conversations.store: {self.conversations.store} needs {needs}")
        problems += self._cache_problems()
        for i, service in enumerate(self.auth.services):
            for j, name in enumerate(service.models):
                if name != "*" and name not in seen:
                    problems.append(f"auth.services[{i}].models[{j}]: unknown model {name!r}")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _cache_problems(self) -> list[str]:
        problems = []
        semantic = self.cache.semantic
        if semantic.embedder == "provider":
            provider = self.providers.get(semantic.provider or "")
            if provider is None:
                problems.append(f"cache.semantic.provider: unknown provider {semantic.provider!r}")
            elif provider.type not in ("openai", "openai_compatible"):
                problems.append(
                    f"cache.semantic.provider: {semantic.provider!r} is a {provider.type} provider; embeddings "
                    "need an openai or openai_compatible one"
                )
        for task, spec in self.tasks.items():
            if spec.cache.semantic.enabled and self.cache.type == "none":
                problems.append(f"tasks.{task}.cache.semantic.enabled: needs a response cache (cache.type is none)")
        return problems

    def model(self, name: str) -> ModelSettings | None:
        for model in self.models:
            if name == model.name or name in model.aliases:
                return model
        return None

    @property
    def default_model_name(self) -> str:
        """The configured default, else the embedded model if present, else the first model."""
        if self.default_model:
            return self.model(self.default_model).name  # type: ignore[union-attr]
        for model in self.models:
            if self.providers[model.provider].type == "local":
                return model.name
        return self.models[0].name


def _with_environment(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """Add the providers that the SDKs' env vars enable, and the embedded model when nothing is set."""
    providers: dict[str, Any] = dict(raw.get("providers") or {})
    models: list[Any] = list(raw.get("models") or [])
    for name, key_var, url_var in (
        ("openai", "OPENAI_API_KEY", "OPENAI_BASE_URL"),
        ("anthropic", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"),
    ):
        if env.get(key_var) and name not in providers:
            providers[name] = {"type": name}
        spec = providers.get(name)
        if isinstance(spec, dict) and spec.get("type") == name:
            spec = dict(spec)
            if env.get(key_var) and "api_key" not in spec:
                spec["api_key"] = env[key_var]
            if env.get(url_var) and "base_url" not in spec:
                spec["base_url"] = env[url_var]
            providers[name] = spec
    if not providers:
        providers[LOCAL_PROVIDER_NAME] = {"type": "local"}
    for name, spec in providers.items():
        uses = any(isinstance(m, dict) and m.get("provider") == name for m in models)
        kind = spec.get("type") if isinstance(spec, dict) else None
        if not uses and kind in DEFAULT_MODELS:
            models.extend({**m, "provider": name} for m in DEFAULT_MODELS[kind](spec))
    return {**raw, "providers": providers, "models": models}


_ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
# Keys that moved: a config written for an older release gets told where they went.
_MOVED = {
    ("cache", "url"): "cache.url: moved to shared_state.redis_url",
    ("routing", "shared_holds_url"): "routing.shared_holds_url: moved to shared_state.redis_url",
}


def _expand(value: Any, env: Mapping[str, str], path: str, problems: list[str]) -> Any:
    """`${env:NAME}` inside any string value, replaced by the variable's value."""
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in env:
                problems.append(f"  {path}: environment variable {name} is not set")
                return ""
            return env[name]

        return _ENV_REFERENCE.sub(lookup, value)
    if isinstance(value, dict):
        return {k: _expand(v, env, f"{path}.{k}" if path else str(k), problems) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env, f"{path}[{i}]", problems) for i, v in enumerate(value)]
    return value


def _moved_keys(raw: dict[str, Any]) -> list[str]:
    return [
        f"  {message}"
        for (section, key), message in _MOVED.items()
        if isinstance(raw.get(section), dict) and key in raw[section]
    ]


def _format(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        path = ""
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = item["msg"].removeprefix("Value error, ")
        if path:
            lines.append(f"  {path}: {message}")
        else:  # cross-section checks name their own paths, one per line
            lines.extend(f"  {line}" for line in message.splitlines())
    return f"invalid configuration in {source}:\n" + "\n".join(lines)


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read, merge and validate the configuration; raises ConfigError naming every bad path."""
    env = os.environ if env is None else env
    path = path or env.get("ORCHESTRATOR_CONFIG") or None
    raw: Any = {}
    source = "defaults and environment"
    if path:
        source = str(path)
        try:
            raw = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {path}: the top level must be a mapping")
    return settings_from_mapping(raw, env, source)


def settings_from_mapping(
    raw: dict[str, Any], env: Mapping[str, str] | None = None, source: str = "configuration"
) -> Settings:
    """Validate an already-parsed configuration (plus env vars); raises ConfigError naming bad paths."""
    env = os.environ if env is None else env
    problems = _moved_keys(raw)
    expanded = _expand(raw, env, "", problems)
    if problems:
        raise ConfigError(f"invalid configuration in {source}:\n" + "\n".join(problems))
    try:
        return Settings.model_validate(_with_environment(expanded, env))
    except ValidationError as exc:
        raise ConfigError(_format(exc, source)) from None
