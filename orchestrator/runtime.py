"""The validated settings turned into the runtime objects the service runs on, in one checked step.

`orchestrator check-config` and `orchestrator serve` both call `build_runtime` (and `check_templates`), so
check-config rejects exactly what serve would, naming the configuration path. Nothing below the composition
root (app.py) sees a configuration class: the catalog, the router and the pipeline get plain types.
"""

from __future__ import annotations

import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

from orchestrator.config import ModelSettings, RoutingSettings, Settings, TaskSettings, ValidatorSettings
from orchestrator.context.pruning import PruningStrategy, strategy_from_name
from orchestrator.domain import ANONYMOUS, CachePolicy, Caller, SamplingParams
from orchestrator.errors import ConfigError
from orchestrator.evaluation import Validator, ValidatorError, build_validator
from orchestrator.pipeline.cache_rules import CacheRules, TaskCache
from orchestrator.pipeline.retrieval import TaskRetrieval
from orchestrator.pipeline.tasks import TaskPolicy
from orchestrator.pipeline.variants import Variant
from orchestrator.policy.identity import Authenticator, ServiceIdentity
from orchestrator.policy.limits import LimitTable, limits_of
from orchestrator.providers.minilm import runtime_missing
from orchestrator.routing.catalog import ModelSpec
from orchestrator.routing.health import BreakerSettings, BudgetSettings
from orchestrator.routing.policy import RoutingPolicy, TaskRoute
from orchestrator.templates.loader import load_directory
from orchestrator.templates.registry import TemplateRegistry
from orchestrator.templates.renderer import RenderLimits, TemplateCompiler
from orchestrator.templates.store import MemoryTemplateStore

log = logging.getLogger(__name__)
DEFAULT_TEMPLATES_DIRECTORY = "templates"


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: Settings  # the sections read as they are: server, providers (wire), templates, cache, state
    models: tuple[ModelSpec, ...]
    default_model: str
    tasks: dict[str, TaskPolicy]
    routing: RoutingPolicy
    schema_reasks: int
    max_concurrent_requests: int | None
    # The seed template directory, when there is one to load.
    templates_directory: Path | None
    authenticator: Authenticator
    limits: LimitTable
    # Every service a caller can be: the configured ones and "anonymous".
    services: frozenset[str]
    # Per task type: cache policy, TTL, sharing across services, semantic threshold.
    cache_rules: CacheRules
    retrieval: dict[str, TaskRetrieval]


def build_runtime(settings: Settings) -> Runtime:
    """Check what pydantic cannot (files, optional packages) and build the runtime types; ConfigError names paths."""
    problems = [*_provider_problems(settings), *_embedder_problems(settings)]
    directory = _templates_directory(settings, problems)
    tasks = {name: _task(name, task, problems) for name, task in settings.tasks.items()}
    if problems:
        raise ConfigError("invalid configuration:\n" + "\n".join(f"  {p}" for p in problems))
    return Runtime(
        settings=settings,
        models=tuple(_model(m, settings) for m in settings.models),
        default_model=settings.default_model_name,
        tasks=tasks,
        routing=_routing(settings.routing),
        schema_reasks=settings.routing.schema_reasks,
        max_concurrent_requests=settings.routing.max_concurrent_requests,
        templates_directory=directory,
        authenticator=_authenticator(settings),
        limits=_limits(settings),
        services=frozenset({ANONYMOUS, *(s.name for s in settings.auth.services)}),
        cache_rules=_cache_rules(settings),
        retrieval={
            name: TaskRetrieval(task.retrieval.collections, task.retrieval.top_k)
            for name, task in settings.tasks.items()
            if task.retrieval.collections
        },
    )


async def check_templates(runtime: Runtime) -> int:
    """Load the seed templates into a throwaway registry exactly as serve would; returns how many there are."""
    if runtime.templates_directory is None:
        return 0
    registry = TemplateRegistry(MemoryTemplateStore(), TemplateCompiler(render_limits(runtime.settings)))
    try:
        return await load_directory(registry, runtime.templates_directory)
    finally:
        await registry.aclose()


def render_limits(settings: Settings) -> RenderLimits:
    return RenderLimits(
        max_template_chars=settings.templates.max_template_bytes,
        max_output_chars=settings.templates.max_rendered_bytes,
    )


def _provider_problems(settings: Settings) -> list[str]:
    problems = []
    for name, provider in settings.providers.items():
        if provider.type != "local":
            continue
        if importlib.util.find_spec("llama_cpp") is None:
            problems.append(
                f"providers.{name}: the embedded model needs the `local` extra (pip install 'llm-orchestrator[local]')"
            )
        if provider.model_path is not None and not Path(provider.model_path).is_file():
            problems.append(f"providers.{name}.model_path: {provider.model_path} is not a file")
    return problems


def _embedder_problems(settings: Settings) -> list[str]:
    """The local embedding model is needed only when a task turns the semantic cache on."""
    if settings.cache.semantic.embedder != "local":
        return []
    enabled = [name for name, task in settings.tasks.items() if task.cache.semantic.enabled]
    missing = runtime_missing() if enabled else None
    return [f"tasks.{enabled[0]}.cache.semantic.enabled: {missing}"] if missing else []


def _cache_rules(settings: Settings) -> CacheRules:
    cache = settings.cache
    default = TaskCache(CachePolicy(cache.default_policy), cache.ttl_seconds)

    def rule(task: TaskSettings) -> TaskCache:
        own, semantic = task.cache, task.cache.semantic
        return TaskCache(
            policy=CachePolicy(own.policy) if own.policy else default.policy,
            ttl_seconds=own.ttl_seconds or default.ttl_seconds,
            shared=own.shared,
            semantic_threshold=(semantic.threshold or cache.semantic.threshold) if semantic.enabled else None,
        )

    return CacheRules(default, {name: rule(task) for name, task in settings.tasks.items()})


def _templates_directory(settings: Settings, problems: list[str]) -> Path | None:
    directory = settings.templates.directory
    if not directory:
        return None
    path = Path(directory)
    if path.is_dir():
        return path
    if directory == DEFAULT_TEMPLATES_DIRECTORY:  # only the default may be absent
        log.warning("no templates directory at %s; starting without seed templates", path.resolve())
        return None
    problems.append(f"templates.directory: {directory} is not a directory")
    return None


def _model(model: ModelSettings, settings: Settings) -> ModelSpec:
    provider = settings.providers[model.provider]
    return ModelSpec(
        name=model.name,
        provider=model.provider,
        provider_type=provider.type,
        wire_name=model.wire_name,
        context_window=model.context_window,
        max_output_tokens=model.max_output_tokens,
        input_cost_per_million_tokens=model.input_cost_per_million_tokens,
        output_cost_per_million_tokens=model.output_cost_per_million_tokens,
        cached_input_cost_per_million_tokens=model.cached_input_cost_per_million_tokens,
        capabilities=model.capabilities,
        aliases=model.aliases,
        weight=model.weight,
        timeout_seconds=provider.timeout_seconds,
        upstream_model=model.upstream_model or "",
    )


def _task(name: str, task: TaskSettings, problems: list[str]) -> TaskPolicy:
    p = task.params
    strategy: PruningStrategy = strategy_from_name(task.context_strategy, task.relevance_weight, task.recency_weight)
    summary = task.conversation
    validators = [_validator(v, f"tasks.{name}.validators[{i}]", problems) for i, v in enumerate(task.validators)]
    return TaskPolicy(
        route=TaskRoute(task.preferred_models, task.required_capabilities, task.fallback_models),
        params=SamplingParams(p.temperature, p.top_p, p.max_output_tokens, p.stop),
        strategy=strategy,
        validators=tuple(v for v in validators if v is not None),
        variants=tuple(Variant(v.version, v.weight) for v in task.template_variants),
        summary_model=summary.summary_model if summary.summarize_dropped else None,
        summary_max_tokens=summary.summary_max_tokens,
    )


def _validator(settings: ValidatorSettings, path: str, problems: list[str]) -> Validator | None:
    """Compile the pattern, load the entry point: once, here, so serving never meets a bad validator."""
    params = settings.model_dump(include={"value", "pattern", "keys", "language", "phrases", "entry_point", "options"})
    try:
        return build_validator(settings.type, params, settings.default_name, settings.message or "")
    except ValidatorError as exc:
        problems.append(f"{path}.{exc.field}: {exc}")
        return None


def _authenticator(settings: Settings) -> Authenticator:
    def canonical(names: tuple[str, ...]) -> frozenset[str] | None:
        if "*" in names:
            return None
        return frozenset(model.name for name in names if (model := settings.model(name)) is not None)

    services = [
        ServiceIdentity(
            Caller(
                service=s.name,
                admin=s.admin,
                task_types=None if "*" in s.task_types else frozenset(s.task_types),
                models=canonical(s.models),
            ),
            s.key_sha256,
        )
        for s in settings.auth.services
    ]
    return Authenticator(settings.auth.mode == "required", services)


def _limits(settings: Settings) -> LimitTable:
    services = {s.name: limits_of(f"service:{s.name}", s.limits.model_dump()) for s in settings.auth.services}
    tasks = {name: limits_of(f"task:{name}", task.limits.model_dump()) for name, task in settings.tasks.items()}
    return LimitTable(
        {name: limits for name, limits in services.items() if limits},
        {name: limits for name, limits in tasks.items() if limits},
    )


def _routing(routing: RoutingSettings) -> RoutingPolicy:
    b, r = routing.breaker, routing.retry_budget
    return RoutingPolicy(
        max_attempts_per_model=routing.max_attempts_per_model,
        backoff_initial_seconds=routing.backoff_initial_seconds,
        backoff_max_seconds=routing.backoff_max_seconds,
        stream_idle_timeout_seconds=routing.stream_idle_timeout_seconds,
        latency_ewma_alpha=routing.latency_ewma_alpha,
        breaker=BreakerSettings(b.failure_threshold, b.cooldown_seconds, b.max_cooldown_seconds),
        budget=BudgetSettings(r.max_tokens, r.token_ratio),
    )
