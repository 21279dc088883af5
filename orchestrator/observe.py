"""What the pipeline tells observers about each generation (metrics and logs subscribe; no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from orchestrator.domain import Attempt, GenerationRequest, GenerationResult


@dataclass(frozen=True, slots=True)
class GenerationOutcome:
    request: GenerationRequest
    streamed: bool
    latency_seconds: float
    result: GenerationResult | None = None
    # UPPER_SNAKE reason and status class of the failure, when it failed.
    error_reason: str = ""
    error_kind: str = ""
    # The model that was answering when it failed (or "" when no model was reached).
    failed_model: str = ""
    time_to_first_token: float | None = None
    attempts: tuple[Attempt, ...] = ()


class Observer(Protocol):
    def generation_finished(self, outcome: GenerationOutcome) -> None: ...


class NullObserver:
    def generation_finished(self, outcome: GenerationOutcome) -> None:
        return None
