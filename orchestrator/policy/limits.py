"""Budgets over fixed windows: which limits apply to a call, and the counter each one uses right now.

Windows are aligned to the clock (the minute, the UTC day), so every replica and worker process agrees
on which counter a call books against without talking to the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# limit name -> (window in seconds, what it counts)
KINDS: dict[str, tuple[int, str]] = {
    "requests_per_minute": (60, "requests"),
    "tokens_per_minute": (60, "tokens"),
    "tokens_per_day": (86_400, "tokens"),
    "cost_usd_per_day": (86_400, "cost"),
}


@dataclass(frozen=True, slots=True)
class Amounts:
    """What a call books: requests, tokens (prompt + output) and US dollars."""

    requests: float = 0.0
    tokens: float = 0.0
    cost: float = 0.0

    def of(self, unit: str) -> float:
        return float(getattr(self, unit))


@dataclass(frozen=True, slots=True)
class Limit:
    # "service:rd" or "task:code_generation"
    subject: str
    name: str
    maximum: float

    @property
    def window(self) -> int:
        return KINDS[self.name][0]

    @property
    def unit(self) -> str:
        return KINDS[self.name][1]

    def counter(self, now: float) -> tuple[str, float]:
        """The counter key for the window `now` falls in, and when that window ends (epoch seconds)."""
        index = int(now // self.window)
        return f"{self.subject}:{self.name}:{index}", float((index + 1) * self.window)


def limits_of(subject: str, configured: Mapping[str, float | None]) -> tuple[Limit, ...]:
    """The limits set for one subject, in a stable order (unset kinds have no limit)."""
    return tuple(Limit(subject, name, float(value)) for name in KINDS if (value := configured.get(name)) is not None)


class LimitTable:
    """Limits by service and by task type; a call is subject to both."""

    def __init__(
        self, services: Mapping[str, Iterable[Limit]] | None = None, tasks: Mapping[str, Iterable[Limit]] | None = None
    ) -> None:
        self._services = {name: tuple(limits) for name, limits in (services or {}).items()}
        self._tasks = {name: tuple(limits) for name, limits in (tasks or {}).items()}

    def for_call(self, service: str, task_type: str) -> tuple[Limit, ...]:
        return self._services.get(service, ()) + self._tasks.get(task_type, ())

    def for_service(self, service: str) -> tuple[Limit, ...]:
        return self._services.get(service, ())

    def __bool__(self) -> bool:
        return bool(self._services or self._tasks)
