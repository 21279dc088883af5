"""The composition root: runtime objects -> providers, shared state, templates, router, pipeline, telemetry.

The transport (orchestrator.api) gets the finished services from here and nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pydantic import SecretStr

from orchestrator.config import Settings
from orchestrator.conversations.open import open_conversations
from orchestrator.feedback import RequestLedger, open_feedback_store
from orchestrator.knowledge.open import open_knowledge
from orchestrator.pipeline import ModelDirectory, Pipeline, Tasks, TemplateOperations
from orchestrator.pipeline.admission import Admission
from orchestrator.pipeline.caching import ResponseCache
from orchestrator.pipeline.conversation import ConversationKeeper
from orchestrator.pipeline.conversations import ConversationOperations
from orchestrator.pipeline.feedback import FeedbackOperations
from orchestrator.pipeline.knowledge import KnowledgeOperations
from orchestrator.pipeline.prepare import Preparer
from orchestrator.pipeline.retrieval import Retriever
from orchestrator.pipeline.semantic import SemanticCache
from orchestrator.pipeline.singleflight import SingleFlight
from orchestrator.pipeline.usage import UsageOperations
from orchestrator.policy.counters import MemoryCounters
from orchestrator.policy.quotas import QuotaBook
from orchestrator.policy.redis_counters import RedisCounters
from orchestrator.providers import create_provider, tokens
from orchestrator.providers.base import Provider
from orchestrator.providers.embeddings import Embedder, EndpointEmbedder, LocalEmbedder
from orchestrator.redaction import SECRETS
from orchestrator.routing.catalog import ModelCatalog
from orchestrator.routing.router import Router
from orchestrator.runtime import Runtime, build_runtime, render_limits
from orchestrator.startup import STARTUP
from orchestrator.state.cache import CacheBackend, MemoryCache, RedisCache
from orchestrator.state.holds import SharedHolds
from orchestrator.state.leases import RedisFlightBoard
from orchestrator.state.redis import SharedRedis
from orchestrator.telemetry.experiments import ExperimentMetrics
from orchestrator.telemetry.metrics import Metrics
from orchestrator.telemetry.request_log import Observers, RequestLogger
from orchestrator.templates.loader import load_directory
from orchestrator.templates.registry import TemplateRegistry
from orchestrator.templates.renderer import TemplateCompiler
from orchestrator.templates.stores import open_store


@dataclass
class App:
    runtime: Runtime
    pipeline: Pipeline
    models: ModelDirectory
    templates: TemplateOperations
    usage: UsageOperations
    conversations: ConversationOperations
    knowledge: KnowledgeOperations
    feedback: FeedbackOperations
    metrics: Metrics
    # Closed in reverse order of creation.
    _closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    async def aclose(self) -> None:
        for close in reversed(self._closers):
            await asyncio.gather(close(), return_exceptions=True)


async def build_app(settings: Settings | Runtime, metrics: Metrics | None = None) -> App:
    runtime = settings if isinstance(settings, Runtime) else build_runtime(settings)
    settings = runtime.settings
    metrics = metrics or Metrics(runtime.tasks)
    closers: list[Callable[[], Awaitable[None]]] = []
    providers: dict[str, Provider] = {name: create_provider(name, spec) for name, spec in settings.providers.items()}
    closers += [p.aclose for p in providers.values()]
    with STARTUP.step(_providers_step(settings)):
        await asyncio.gather(*(p.start() for p in providers.values()))
    embedded = {name: stats for name, p in providers.items() if (stats := getattr(p, "scheduler_stats", None))}
    if embedded:
        metrics.watch_embedded(lambda: [(name, *stats()) for name, stats in embedded.items()])
    if any(spec.type != "local" for spec in settings.providers.values()):
        # The first request would otherwise pay for reading the BPE files.
        with STARTUP.step("loading tokenizer files"):
            await asyncio.to_thread(tokens.encoding, tokens.DEFAULT_ENCODING)
    shared = None
    if settings.shared_state.redis_url is not None:
        state = settings.shared_state
        shared = SharedRedis(
            _secret(state.redis_url),
            state.timeout_seconds,
            state.max_connections,
            metrics.shared_state_failed,
            state.key_prefix,
        )
        closers.append(shared.aclose)
    with STARTUP.step("loading prompt templates"):
        registry = TemplateRegistry(
            await open_store(settings.templates.store),
            TemplateCompiler(render_limits(settings)),
            settings.templates.cache_seconds,
            settings.templates.stale_serve_seconds,
        )
        closers.append(registry.aclose)  # the template workers and the store
        metrics.watch_template_store(registry.health.counts)
        if runtime.templates_directory is not None:
            await load_directory(registry, runtime.templates_directory)
    holds = SharedHolds(shared, settings.routing.shared_holds_poll_seconds) if shared is not None else None
    router = Router(ModelCatalog(runtime.models, runtime.default_model), providers, runtime.routing, holds)
    await router.start()
    closers.append(router.aclose)
    models = ModelDirectory(router)
    metrics.watch_circuits(models.states)
    cache = _response_cache(runtime, shared, metrics)
    closers.append(cache.aclose)
    with STARTUP.step("loading the semantic cache's model" if runtime.cache_rules.semantic else "opening the cache"):
        await cache.start()
    with STARTUP.step("opening the conversation and knowledge stores"):
        conversations = await open_conversations(settings, shared)
        closers.append(conversations.aclose)
        knowledge = await open_knowledge(settings.knowledge.store)
        closers.append(knowledge.aclose)
    quotas = QuotaBook(
        runtime.limits,
        RedisCounters(shared) if shared is not None else MemoryCounters(),
        settings.auth.outage_limit_share,
    )
    metrics.watch_quotas(quotas.ratios)
    closers.append(quotas.aclose)
    experiments, ledger = await _feedback_parts(runtime, metrics, closers)
    tasks = Tasks(runtime.tasks)
    pipeline = Pipeline(
        Preparer(
            registry,
            router,
            tasks,
            runtime.schema_reasks,
            quotas if runtime.limits else None,
            ConversationKeeper(conversations),
            Retriever(knowledge, runtime.retrieval),
        ),
        router,
        Admission(runtime.max_concurrent_requests),
        cache,
        Observers(metrics, RequestLogger(), experiments, ledger),
    )
    k, f = settings.knowledge, settings.feedback
    return App(
        runtime,
        pipeline,
        models,
        TemplateOperations(registry, models, tasks),
        UsageOperations(quotas, runtime.services),
        ConversationOperations(conversations),
        KnowledgeOperations(knowledge, k.chunk_chars, k.chunk_overlap_chars, k.max_document_chars),
        FeedbackOperations(ledger, f.label_scores, f.max_comment_chars, f.retention_days, experiments),
        metrics,
        closers,
    )


async def _feedback_parts(
    runtime: Runtime, metrics: Metrics, closers: list[Callable[[], Awaitable[None]]]
) -> tuple[ExperimentMetrics, RequestLedger]:
    """Per-variant metrics, and the request ledger that feedback joins (written after each generation)."""
    variants = {name: [v.version for v in task.variants] for name, task in runtime.tasks.items()}
    experiments = ExperimentMetrics(metrics.registry, variants, metrics.task_label)
    f = runtime.settings.feedback
    store = await open_feedback_store(f)
    closers.append(store.aclose)
    ledger = RequestLedger(store, f.retention_days * 86400, f.max_requests, experiments.ledger_dropped.inc)
    await ledger.start()
    closers.append(ledger.aclose)  # closed before the store (closers run in reverse)
    return experiments, ledger


def _response_cache(runtime: Runtime, shared: SharedRedis | None, metrics: Metrics) -> ResponseCache:
    cache = runtime.settings.cache
    backends: dict[str, Callable[[], CacheBackend | None]] = {
        "none": lambda: None,
        "memory": lambda: MemoryCache(cache.max_entries),
        "redis": lambda: RedisCache(shared) if shared is not None else None,
    }
    backend = backends[cache.type]()
    flights = None
    if cache.single_flight.enabled and backend is not None:
        # Across replicas only when the answers themselves are shared; else within this process.
        board = RedisFlightBoard(shared) if cache.type == "redis" and shared is not None else None
        flights = SingleFlight(board, cache.single_flight.lease_seconds)
        metrics.watch_waiting(lambda: flights.waiting)  # type: ignore[union-attr]
    semantic = None
    if runtime.cache_rules.semantic and backend is not None:
        # Imported here: numpy (the `semantic` extra) is needed only when a task uses the semantic cache.
        from orchestrator.state.vectors import RedisVectors, VectorIndex, VectorStore

        vectors: VectorStore = (
            RedisVectors(shared, cache.semantic.max_entries)
            if cache.type == "redis" and shared is not None
            else VectorIndex(cache.semantic.max_entries)
        )
        semantic = SemanticCache(_embedder(runtime.settings), vectors, metrics.semantic_lookup.observe)
    return ResponseCache(backend, runtime.cache_rules, flights, semantic)


def _embedder(settings: Settings) -> Embedder:
    semantic = settings.cache.semantic
    if semantic.embedder == "local":
        return LocalEmbedder(semantic.max_concurrent)
    provider = settings.providers[semantic.provider or ""]
    key = provider.api_key.get_secret_value() if provider.api_key else ""
    return EndpointEmbedder(provider.base_url, key or "none", semantic.model or "", provider.timeout_seconds)


def _providers_step(settings: Settings) -> str:
    kinds = {spec.type for spec in settings.providers.values()}
    return "loading the embedded model" if "local" in kinds else "starting providers"


def _secret(value: SecretStr | None) -> str:
    text = value.get_secret_value() if value else ""
    password = urlsplit(text).password
    SECRETS.add(password)  # a password in a URL must not reach logs or errors
    return text
