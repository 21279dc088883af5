"""Feedback on answers: `feedback` (the request ledger, its store and retention, the labels callers may send)."""

from __future__ import annotations

from pydantic import Field, field_validator

from orchestrator.config.base import Strict
from orchestrator.config.evaluation import NAME
from orchestrator.config.sections import TemplateStoreSettings


class FeedbackStoreSettings(TemplateStoreSettings):
    # memory: this process only; sqlite: one file (make run); postgres: shared by every replica (deployments).
    path: str = Field("orchestrator-feedback.db", min_length=1)


class FeedbackSettings(Strict):
    """The request ledger (what each request was: model, template version, task, cost) and the feedback on it."""

    store: FeedbackStoreSettings = FeedbackStoreSettings()
    # Ledger rows (and their feedback) older than this are deleted; feedback can arrive until then.
    retention_days: float = Field(30.0, gt=0)
    # At most this many requests are kept (the newest); the ledger never grows without bound.
    max_requests: int = Field(1_000_000, ge=100)
    # Labels callers may send instead of a score, and the score each counts as.
    label_scores: dict[str, float] = Field(default_factory=lambda: {"good": 1.0, "bad": 0.0})
    max_comment_chars: int = Field(2000, ge=0, le=65536)

    @field_validator("label_scores")
    @classmethod
    def _scores_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for label, score in value.items():
            if not NAME.match(label):
                raise ValueError(f"label {label[:64]!r}: 1-64 characters of letters, digits, '_', '.', ':' or '-'")
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"label {label!r}: the score must be between 0 and 1")
        return value
