"""Per-model health the router consults: circuit breaker, Retry-After holds, retry budget, latency.

- Breaker: opens after `failure_threshold` consecutive transient failures; while open the model is
  skipped; after the cooldown one probe is let through (half-open); a failed probe re-opens it with a
  doubled cooldown. A cooldown only ever lengthens: a later, shorter hold never shortens it.
- Retry budget (gRFC A6 throttling): tokens start full; each failure costs 1, each success earns
  `token_ratio`; retries are allowed only while tokens > max_tokens / 2, so a failing upstream
  cannot cause a retry storm.
- Latency: an exponentially weighted moving average of successful attempts.
- Holds (breaker cooldowns, Retry-After) can be shared with other replicas (a HoldBoard: state/holds.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from orchestrator.domain import CircuitState
from orchestrator.providers.base import Provider


@dataclass(frozen=True, slots=True)
class BreakerSettings:
    failure_threshold: int = 5
    cooldown_seconds: float = 5.0
    max_cooldown_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class BudgetSettings:
    max_tokens: float = 10.0
    token_ratio: float = 0.1


class HoldBoard(Protocol):
    """Shares holds between replicas (orchestrator.state.holds implements it over Redis)."""

    def publisher(self, model: str) -> Callable[[float], None]:
        """The on_hold hook for one model's health: tells the other replicas."""
        ...

    def start(self, health: Mapping[str, ModelHealth]) -> None:
        """Begin applying the other replicas' holds to these models."""
        ...

    async def aclose(self) -> None: ...


class ModelHealth:
    def __init__(
        self,
        breaker: BreakerSettings,
        budget: BudgetSettings,
        ewma_alpha: float = 0.2,
        clock: Callable[[], float] = time.monotonic,
        on_hold: Callable[[float], None] | None = None,
    ) -> None:
        self._breaker = breaker
        # Told of every hold this replica decides (breaker opening, Retry-After), to share it.
        self._on_hold = on_hold
        self._budget = budget
        self._alpha = ewma_alpha
        self._clock = clock
        self.state = CircuitState.CLOSED
        self._failures = 0
        self._cooldown = breaker.cooldown_seconds
        self._open_until = 0.0
        self._probe_in_flight = False
        self._tokens = budget.max_tokens
        self.latency_ms: float | None = None

    def current_state(self) -> CircuitState:
        if self.state is CircuitState.OPEN and self._clock() >= self._open_until:
            return CircuitState.HALF_OPEN
        return self.state

    def try_acquire(self) -> bool:
        """May an attempt start now? In half-open state only one probe is admitted."""
        now = self._clock()
        if now < self._open_until:
            return False
        if self.state is CircuitState.OPEN:
            self.state = CircuitState.HALF_OPEN
        if self.state is CircuitState.HALF_OPEN:
            if self._probe_in_flight:
                return False
            self._probe_in_flight = True
        return True

    def release(self) -> None:
        """An admitted attempt ended without telling us anything about the model (e.g. cancelled)."""
        self._probe_in_flight = False

    def hold(self, seconds: float) -> None:
        """Send nothing to this model for `seconds` (Retry-After); never shortens an existing hold."""
        self.apply_hold(seconds)
        if self._on_hold is not None:
            self._on_hold(seconds)

    def apply_hold(self, seconds: float) -> None:
        """A hold decided elsewhere (another replica): applied here, not shared again."""
        self._open_until = max(self._open_until, self._clock() + seconds)

    def record_success(self, latency_ms: float) -> None:
        self._probe_in_flight = False
        self.state = CircuitState.CLOSED
        self._failures = 0
        self._cooldown = self._breaker.cooldown_seconds
        self._tokens = min(self._budget.max_tokens, self._tokens + self._budget.token_ratio)
        self.latency_ms = latency_ms if self.latency_ms is None else (
            self._alpha * latency_ms + (1 - self._alpha) * self.latency_ms
        )  # fmt: skip

    def record_failure(self, transient: bool) -> None:
        """A failed attempt. Only transient failures (overload, timeouts, rate limits) trip the breaker."""
        self._tokens = max(0.0, self._tokens - 1)
        probe_failed = self.state is CircuitState.HALF_OPEN and self._probe_in_flight
        self._probe_in_flight = False
        if not transient:
            return
        self._failures += 1
        if probe_failed:
            self._cooldown = min(self._cooldown * 2, self._breaker.max_cooldown_seconds)
            self._open(self._cooldown)
        elif self._failures >= self._breaker.failure_threshold and self.state is CircuitState.CLOSED:
            self._open(self._cooldown)

    def _open(self, seconds: float) -> None:
        self.state = CircuitState.OPEN
        self.hold(seconds)

    def may_retry(self) -> bool:
        return self._tokens > self._budget.max_tokens / 2


def serving(provider: Provider) -> bool:
    """False while the provider reports it cannot serve (ReportsServing): the model is skipped and shown OPEN."""
    # getattr, not isinstance: a runtime-checkable Protocol's isinstance costs ~15 µs, on every attempt.
    check = getattr(provider, "serving", None)
    return bool(check()) if check is not None else True
