"""Per-model health: the breaker's states and cooldowns, Retry-After holds, the retry budget (fake clock)."""

from __future__ import annotations

from orchestrator.domain import CircuitState
from orchestrator.routing.health import BreakerSettings, BudgetSettings, ModelHealth


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def health(clock: Clock, threshold: int = 3, cooldown: float = 10.0) -> ModelHealth:
    return ModelHealth(BreakerSettings(threshold, cooldown, 100.0), BudgetSettings(10, 0.1), clock=clock)


def fail(model: ModelHealth, times: int, transient: bool = True) -> None:
    for _ in range(times):
        assert model.try_acquire()
        model.record_failure(transient)


def test_the_breaker_opens_after_consecutive_transient_failures_only() -> None:
    clock = Clock()
    model = health(clock)

    fail(model, 5, transient=False)
    assert model.current_state() is CircuitState.CLOSED
    fail(model, 3)

    assert model.current_state() is CircuitState.OPEN
    assert not model.try_acquire()


def test_after_the_cooldown_exactly_one_probe_is_admitted() -> None:
    clock = Clock()
    model = health(clock)
    fail(model, 3)
    clock.now += 10.0

    assert model.current_state() is CircuitState.HALF_OPEN
    assert model.try_acquire()
    assert not model.try_acquire()  # a second caller waits for the probe's verdict
    model.record_success(5.0)
    assert model.current_state() is CircuitState.CLOSED
    assert model.try_acquire()


def test_a_failed_probe_doubles_the_cooldown_up_to_the_maximum() -> None:
    clock = Clock()
    model = health(clock, cooldown=40.0)
    fail(model, 3)
    cooldowns = []
    for _ in range(3):
        opened_at = clock.now
        while not model.try_acquire():
            clock.now += 1.0
        cooldowns.append(clock.now - opened_at)
        model.record_failure(transient=True)

    assert cooldowns == [40.0, 80.0, 100.0]


def test_a_shorter_hold_never_shortens_an_open_circuit() -> None:
    clock = Clock()
    model = health(clock, cooldown=30.0)
    fail(model, 3)

    model.hold(2.0)
    clock.now += 5.0

    assert not model.try_acquire()


def test_retry_after_holds_a_closed_model() -> None:
    clock = Clock()
    model = health(clock)

    model.hold(2.0)
    blocked = model.try_acquire()
    clock.now += 2.0

    assert not blocked and model.try_acquire()
    assert model.current_state() is CircuitState.CLOSED


def test_the_retry_budget_stops_retries_while_failures_dominate() -> None:
    clock = Clock()
    model = ModelHealth(BreakerSettings(1000, 1.0, 1.0), BudgetSettings(10, 0.5), clock=clock)

    fail(model, 4)
    allowed_after_four = model.may_retry()
    fail(model, 1)
    allowed_after_five = model.may_retry()
    for _ in range(3):
        model.record_success(1.0)

    assert allowed_after_four and not allowed_after_five
    assert model.may_retry()  # successes earn the budget back


def test_latency_is_a_moving_average_of_successes() -> None:
    model = health(Clock())

    model.record_success(100.0)
    model.record_success(200.0)

    assert model.latency_ms == 0.2 * 200.0 + 0.8 * 100.0
