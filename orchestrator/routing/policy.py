"""What the router is told by the configuration: per-task routes and the walk's limits (plain runtime types)."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestrator.routing.health import BreakerSettings, BudgetSettings


@dataclass(frozen=True, slots=True)
class TaskRoute:
    """A task type's routing preferences (requests may override each)."""

    preferred_models: tuple[str, ...] = ()
    required_capabilities: tuple[str, ...] = ()
    fallback_models: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    # Tries of one model (the first plus retries) for transient errors.
    max_attempts_per_model: int = 3
    backoff_initial_seconds: float = 0.2
    backoff_max_seconds: float = 5.0
    # A stream that sends nothing for this long has stalled and is abandoned.
    stream_idle_timeout_seconds: float = 30.0
    latency_ewma_alpha: float = 0.2
    breaker: BreakerSettings = field(default_factory=BreakerSettings)
    budget: BudgetSettings = field(default_factory=BudgetSettings)
