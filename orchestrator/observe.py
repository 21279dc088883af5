"""What the pipeline tells observers about each generation (metrics and logs subscribe; no I/O here)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Protocol

from orchestrator.domain import Attempt, AttemptOutcome, GenerationRequest, GenerationResult


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
    # The template version rendered (the experiment's pick, when the task runs one), failed or not.
    template_version: str = ""

    @property
    def rejections(self) -> tuple[Attempt, ...]:
        """The answers the acceptance check rejected (format, schema or a validator)."""
        return tuple(a for a in self.attempts if a.outcome is AttemptOutcome.INVALID_OUTPUT)

    @property
    def reasks(self) -> int:
        """Rejected answers followed by another try of the same model: the router re-asked it."""
        tried = self.attempts
        return sum(
            1
            for a, after in itertools.pairwise(tried)
            if a.outcome is AttemptOutcome.INVALID_OUTPUT and after.model == a.model
        )


class Observer(Protocol):
    def generation_finished(self, outcome: GenerationOutcome) -> None: ...


class NullObserver:
    def generation_finished(self, outcome: GenerationOutcome) -> None:
        return None
